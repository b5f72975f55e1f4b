"""``mlops createuser`` and ``mlops token``: accounts and API tokens from the command line."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from django_mlops.tokens import Token
from tests.conftest import API

pytestmark = pytest.mark.django_db


def mlops(*args: str, stdin: str | None = None, monkeypatch: Any = None) -> str:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    out = io.StringIO()
    call_command("mlops", *args, stdout=out)
    return out.getvalue()


def test_createuser_prints_a_random_password_once_and_grants_permissions() -> None:
    out = mlops("createuser", "alice", "--permission", "run_pipeline", "--permission", "predict")
    password = re.search(r"Password \(shown once\): (\S+)", out)
    assert password is not None and len(password.group(1)) >= 20
    user = User.objects.get(username="alice")
    assert authenticate(username="alice", password=password.group(1)) == user
    assert user.has_perm("django_mlops.run_pipeline") and user.has_perm("django_mlops.predict")
    assert not user.has_perm("django_mlops.view_run") and not user.is_staff
    second = mlops("createuser", "bob")
    assert password.group(1) not in second  # random each time


def test_createuser_read_only_and_staff() -> None:
    mlops("createuser", "viewer", "--read-only", "--staff")
    user = User.objects.get(username="viewer")
    assert user.is_staff and user.has_perm("django_mlops.view_run")
    assert user.has_perm("django_mlops.view_taskrun") and user.has_perm(
        "django_mlops.view_artifact"
    )
    assert not user.has_perm("django_mlops.run_pipeline")
    assert not user.has_perm("django_mlops.view_token")  # other users' tokens stay private


def test_createuser_reads_a_password_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    out = mlops(
        "createuser",
        "carol",
        "--password-stdin",
        stdin="a-long-Secret-42\n",
        monkeypatch=monkeypatch,
    )
    assert "Password" not in out
    assert authenticate(username="carol", password="a-long-Secret-42") is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["createuser", "dup"], "already exists"),
        (["createuser", "x1", "--permission", "fly"], "unknown permission fly"),
    ],
)
def test_createuser_refusals(args: list[str], message: str) -> None:
    User.objects.create_user("dup")
    with pytest.raises(CommandError, match=message):
        mlops(*args)
    assert not User.objects.filter(username="x1").exists()


def test_a_weak_stdin_password_is_refused(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    settings.AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}
    ]
    with pytest.raises(CommandError, match="password refused"):
        mlops("createuser", "weak", "--password-stdin", stdin="abc\n", monkeypatch=monkeypatch)
    assert not User.objects.filter(username="weak").exists()


def test_token_create_list_revoke() -> None:
    user = User.objects.create_user("dana")
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="view_run"))
    out = mlops("token", "create", "dana", "--name", "ci", "--expires", "30")
    text = re.search(r"^(mlops_\S+)$", out, re.M)
    assert text is not None
    token = Token.objects.get()
    assert token.name == "ci" and token.expires_at is not None and token.user == user
    assert text.group(1) not in str(list(Token.objects.values()))  # only its hash is kept
    client = Client(headers={"Authorization": f"Bearer {text.group(1)}"})
    assert client.get(f"{API}/runs").status_code == 200
    listing = mlops("token", "list")
    assert token.prefix in listing and "active" in listing and "ci" in listing
    assert text.group(1) not in listing
    mlops("token", "revoke", token.prefix)
    assert "revoked" in mlops("token", "list", "dana")
    assert client.get(f"{API}/runs").status_code == 401


def test_token_refusals() -> None:
    with pytest.raises(CommandError, match="no user named 'ghost'"):
        mlops("token", "create", "ghost")
    with pytest.raises(CommandError, match="no token with prefix"):
        mlops("token", "revoke", "deadbeef")
    assert "No tokens." in mlops("token", "list")


def test_the_console_script_knows_the_commands() -> None:
    from django_mlops.cli.console import build_parser

    help_text = build_parser().format_help()
    assert "createuser" in help_text and "token" in help_text
