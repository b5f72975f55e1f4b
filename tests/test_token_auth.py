"""``authenticate_token``: the one compiled query per request, and the bounded reuse of users.

A token's user object (with the permissions Django caches on it) is reused for
``USER_REUSE_SECONDS`` while its row is unchanged; revocation, expiry,
deactivation and any change of the user's row must still count at once.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_mlops import tokens
from django_mlops.tokens import Token, authenticate_token, issue_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice() -> User:
    user = User.objects.create_user("alice", password="not-used-here-1")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="django_mlops", codename="predict")
    )
    return user


def test_the_user_comes_back_with_converted_columns(alice: User) -> None:
    _, text = issue_token(alice)
    user = authenticate_token(text)
    assert user is not None and user.pk == alice.pk
    assert user.is_active is True and user.is_superuser is False
    assert isinstance(user.date_joined, dt.datetime) and user.date_joined == alice.date_joined
    assert user.has_perm("django_mlops.predict")
    assert authenticate_token(text + "x") is None
    assert authenticate_token("mlops_zzzzzzzz_nothex") is None


def test_a_known_token_costs_one_query(alice: User) -> None:
    _, text = issue_token(alice)
    first = authenticate_token(text)  # writes last_used_at once
    assert first is not None and first.has_perm("django_mlops.predict")
    with CaptureQueriesContext(connection) as queries:
        again = authenticate_token(text)
        assert again is not None and again.has_perm("django_mlops.predict")
    assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]


def test_revoking_counts_at_the_next_request(alice: User) -> None:
    token, text = issue_token(alice)
    assert authenticate_token(text) is not None
    token.revoke()
    assert authenticate_token(text) is None


def test_expiry_counts_at_the_next_request(alice: User) -> None:
    token, text = issue_token(alice, expires_in=dt.timedelta(hours=1))
    assert authenticate_token(text) is not None
    Token.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert authenticate_token(text) is None


def test_a_changed_user_row_is_read_again_at_once(alice: User) -> None:
    _, text = issue_token(alice)
    before = authenticate_token(text)
    assert before is not None and not before.is_superuser
    User.objects.filter(pk=alice.pk).update(is_superuser=True)
    after = authenticate_token(text)
    assert after is not None and after.is_superuser and after is not before
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert authenticate_token(text) is None


def test_removed_permissions_count_within_the_bound(alice: User, monkeypatch: Any) -> None:
    monkeypatch.setattr(tokens, "USER_REUSE_SECONDS", 0.2)
    _, text = issue_token(alice)
    user = authenticate_token(text)
    assert user is not None and user.has_perm("django_mlops.predict")
    alice.user_permissions.clear()
    time.sleep(0.25)
    user = authenticate_token(text)
    assert user is not None and not user.has_perm("django_mlops.predict")
