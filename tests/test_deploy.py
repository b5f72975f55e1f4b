"""The demo's production settings pass ``check --deploy``; the API's settings are checked."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.test import override_settings

EXAMPLE = Path(__file__).resolve().parent.parent / "example"


@pytest.mark.slow
def test_check_deploy_is_clean_for_the_production_settings() -> None:
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "DJANGO_ALLOWED_HOSTS": "mlops.example.com",
        "DJANGO_SETTINGS_MODULE": "demo.settings_production",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def _ids(**mlops: object) -> set[str]:
    with override_settings(MLOPS=mlops):
        return {m.id for m in run_checks() if m.id and m.id.startswith("django_mlops")}


def test_api_settings_are_checked() -> None:
    assert "django_mlops.E020" in _ids(API_MAX_BODY_BYTES=0)
    assert "django_mlops.E020" in _ids(API_PAGE_SIZE="50")
    assert "django_mlops.E021" in _ids(API_PAGE_SIZE=500, API_MAX_PAGE_SIZE=100)
    assert not {"django_mlops.E020", "django_mlops.E021"} & _ids(API_PAGE_SIZE=10)


def test_docs_without_ninja_installed_are_warned_about() -> None:
    from django.conf import settings

    apps = [a for a in settings.INSTALLED_APPS if a != "ninja"]
    with override_settings(INSTALLED_APPS=apps):
        assert "django_mlops.W021" in {m.id for m in run_checks()}
    assert "django_mlops.W021" not in {m.id for m in run_checks()}
