"""Test fixtures; with MLOPS_TEST_DATABASE=postgres, stop early if the server is not there."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


# --- The REST API: users with given permissions, and clients that carry a token. ---

API = "/mlops/api"


@pytest.fixture
def make_api_user(db: None) -> Any:
    """``make_api_user("alice", "view_run", "run_pipeline")``: an active user with those perms."""
    from django.contrib.auth.models import Permission, User

    def make(name: str, *codenames: str) -> User:
        user = User.objects.create_user(name, password="not-used-here-1")
        perms = Permission.objects.filter(
            content_type__app_label="django_mlops", codename__in=codenames
        )
        assert perms.count() == len(set(codenames)), codenames
        user.user_permissions.add(*perms)
        return user

    return make


@pytest.fixture
def token_client(db: None) -> Any:
    """``token_client(user)``: a test client sending ``Authorization: Bearer <a new token>``."""
    from django.test import Client

    from django_mlops.tokens import issue_token

    def make(user: Any) -> Client:
        _, text = issue_token(user, name="tests")
        return Client(headers={"Authorization": f"Bearer {text}"})

    return make


@pytest.fixture
def reader(make_api_user: Any, token_client: Any) -> Any:
    """A client of a user who may read runs and tasks, but not start runs."""
    return token_client(make_api_user("reader", "view_run", "view_taskrun"))


@pytest.fixture
def runner(make_api_user: Any, token_client: Any) -> Any:
    """A client of a user who may read and start runs."""
    return token_client(make_api_user("runner", "view_run", "view_taskrun", "run_pipeline"))
