"""Settings: defaults, overrides through override_settings, and system checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage, InMemoryStorage
from django.test import override_settings

from django_mlops.artifacts import artifact_storage
from django_mlops.checks import check_settings
from django_mlops.conf import DEFAULTS, mlops_settings


def _ids(config: object) -> list[str]:
    with override_settings(MLOPS=config):
        return [message.id for message in check_settings()]


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "home"))
    with override_settings(MLOPS={}):
        config = mlops_settings()
        assert tmp_path / "home" == config.HOME
        assert config.DEFAULT_EXECUTOR == "inline"
        assert DEFAULTS["INLINE_ARTIFACT_MAX_BYTES"] == config.INLINE_ARTIFACT_MAX_BYTES
        assert set(config.EXECUTORS) >= {"inline", "threads", "processes"}
        assert config.MAX_WORKERS >= 1
        storage = artifact_storage()
        assert isinstance(storage, FileSystemStorage)
        assert Path(storage.location) == tmp_path / "home" / "artifacts"


def test_override_settings_is_seen_and_undone() -> None:
    before = mlops_settings()
    with override_settings(MLOPS={"DEFAULT_EXECUTOR": "threads", "EXECUTORS": {"x": "a.B"}}):
        config = mlops_settings()
        assert config.DEFAULT_EXECUTOR == "threads"
        assert config.EXECUTORS["x"] == "a.B" and "inline" in config.EXECUTORS
    assert mlops_settings() == before


def test_storage_by_alias_or_dotted_path() -> None:
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        "artifacts": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    with override_settings(STORAGES=storages, MLOPS={"ARTIFACT_STORAGE": "artifacts"}):
        assert isinstance(artifact_storage(), InMemoryStorage)
    dotted = "django.core.files.storage.InMemoryStorage"
    with override_settings(MLOPS={"ARTIFACT_STORAGE": dotted}):
        assert isinstance(artifact_storage(), InMemoryStorage)


def test_valid_settings_pass_the_checks() -> None:
    assert _ids({"HOME": "/tmp/x", "MAX_WORKERS": 4, "PIPELINE_MODULES": ["a.b"]}) == []


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (["not", "a", "dict"], "django_mlops.E001"),
        ({"INLINE_ARTIFACT_MAX_BYTES": -1}, "django_mlops.E002"),
        ({"DEFAULT_EXECUTOR": "gpu"}, "django_mlops.E003"),
        ({"EXECUTORS": {"gpu": 3}}, "django_mlops.E004"),
        ({"MAX_WORKERS": 0}, "django_mlops.E005"),
        ({"ARTIFACT_STORAGE": "no.such.Storage"}, "django_mlops.E006"),
        ({"RECORD_FLUSH_SECONDS": "soon"}, "django_mlops.E007"),
        ({"PIPELINE_MODULES": "one.module"}, "django_mlops.E008"),
        ({"HOME": 3}, "django_mlops.E009"),
        ({"ARTIFACTS": "typo"}, "django_mlops.W001"),
    ],
)
def test_misconfiguration_is_reported(config: object, expected: str) -> None:
    assert expected in _ids(config)


def test_standalone_settings_work_without_a_project(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    home = tmp_path / "home"
    env = {
        **os.environ,
        "MLOPS_HOME": str(home),
        "DJANGO_SETTINGS_MODULE": "django_mlops.standalone.settings",
    }
    env.pop("MLOPS_TEST_DATABASE", None)
    command = [sys.executable, "-m", "django", "migrate", "-v", "0"]
    subprocess.run(command, env=env, cwd=tmp_path, check=True, capture_output=True)
    key = home / "secret_key"
    assert (home / "db.sqlite3").is_file() and key.stat().st_mode & 0o777 == 0o600
    first = key.read_text()
    check = [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "ERROR"]
    done = subprocess.run(check, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert key.read_text() == first  # generated once, then reused


def test_a_wrongly_typed_value_does_not_crash_startup() -> None:
    with override_settings(MLOPS={"HOME": 3, "DEFAULT_EXECUTOR": "threads"}):
        assert mlops_settings().DEFAULT_EXECUTOR == "inline"  # defaults until fixed
        assert "django_mlops.E009" in [m.id for m in check_settings()]


def test_checks_run_with_manage_py_check() -> None:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    with override_settings(MLOPS={"MAX_WORKERS": 0}), pytest.raises(SystemCheckError) as info:
        call_command("check")
    assert "django_mlops.E005" in str(info.value)
