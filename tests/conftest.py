"""Test fixtures; with MLOPS_TEST_DATABASE=postgres, stop early if the server is not there."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings


def _postgres_reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("MLOPS_TEST_DATABASE") != "postgres":
        return
    host = os.environ.get("MLOPS_TEST_PGHOST", "127.0.0.1")
    port = int(os.environ.get("MLOPS_TEST_PGPORT", "5432"))
    if _postgres_reachable(host, port):
        return
    reason = f"MLOPS_TEST_DATABASE=postgres but no PostgreSQL server answers at {host}:{port}"
    if os.environ.get("MLOPS_REQUIRE_SERVICES") == "1":
        raise pytest.UsageError(reason + " (MLOPS_REQUIRE_SERVICES=1)")
    pytest.exit("skipped: " + reason, returncode=0)


@pytest.fixture
def tmp_mlops_home(tmp_path: Path) -> Iterator[Path]:
    """An empty MLOPS HOME (and artifact folder) under ``tmp_path`` for one test."""
    home = tmp_path / "mlops-home"
    home.mkdir()
    from django.conf import settings as django_settings

    mlops = {**getattr(django_settings, "MLOPS", {}), "HOME": str(home), "ARTIFACT_STORAGE": None}
    with override_settings(MLOPS=mlops):
        yield home
