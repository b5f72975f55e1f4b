"""API tokens in the admin: created with the secret shown once, then read-only, revocable."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from django_mlops.tokens import Token, token_digest
from tests.conftest import API

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="x-not-used-9"))
    return client


def test_adding_a_token_shows_it_once_and_stores_its_hash(admin_client: Client) -> None:
    owner = User.objects.create_user("owner")
    response = admin_client.post(
        "/admin/django_mlops/token/add/", {"user": owner.pk, "name": "deploy"}, follow=True
    )
    assert response.status_code == 200
    html = response.content.decode()
    shown = re.search(r"(mlops_[0-9a-f]{8}_[A-Za-z0-9_-]+)", html)
    assert shown is not None
    token = Token.objects.get()
    assert token.user == owner and token.name == "deploy"
    assert token.digest == token_digest(shown.group(1))
    page = admin_client.get(f"/admin/django_mlops/token/{token.pk}/change/").content.decode()
    assert shown.group(1) not in page and token.digest not in page  # never shown again
    assert token.prefix in page


def test_tokens_are_revoked_from_the_list(admin_client: Client) -> None:
    from django_mlops.tokens import issue_token

    token, text = issue_token(User.objects.create_user("u1"))
    admin_client.post(
        "/admin/django_mlops/token/",
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Client(headers={"Authorization": f"Bearer {text}"}).get(f"{API}/runs").status_code == 401


def test_a_tokens_fields_cannot_be_changed(admin_client: Client) -> None:
    from django_mlops.tokens import issue_token

    token, _ = issue_token(User.objects.create_user("u2"), name="before")
    admin_client.post(f"/admin/django_mlops/token/{token.pk}/change/", {"name": "after"})
    token.refresh_from_db()
    assert token.name == "before"
