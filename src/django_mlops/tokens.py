"""API tokens: ``Authorization: Bearer <token>`` for clients of the REST API.

A token is ``mlops_<prefix>_<secret>``. Only the SHA-256 of the whole token is
stored, beside its short ``prefix`` (shown in lists and the admin, and the key a
request is looked up by); the token itself is shown once, when it is issued.
Tokens can expire and be revoked; ``last_used_at`` is written at most once per
:data:`LAST_USED_RESOLUTION` so that authenticating a request costs no write.

>>> token, text = issue_token(user, name="ci")   # doctest: +SKIP
>>> authenticate_token(text) == user              # doctest: +SKIP
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, router
from django.utils import timezone

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from .registry.resolving import CompiledLookup

__all__ = [
    "LAST_USED_RESOLUTION",
    "TOKEN_PREFIX",
    "USER_REUSE_SECONDS",
    "Token",
    "authenticate_token",
    "issue_token",
    "token_digest",
]

#: Every token starts with this, so a leaked one is recognisable (secret scanners).
TOKEN_PREFIX = "mlops_"
_PREFIX_CHARS = 8
_SECRET_BYTES = 32
_HEX = frozenset("0123456789abcdef")
#: ``last_used_at`` is only rewritten when it is older than this.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
#: How long one token's user object (with the permissions cached on it) is reused.
USER_REUSE_SECONDS = 2.0


def token_digest(text: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Token(models.Model):
    """An API token of one user: stored hashed, optionally expiring, revocable."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mlops_tokens"
    )
    name = models.CharField(max_length=100, blank=True, help_text="What the token is for.")
    prefix = models.CharField(
        max_length=16, unique=True, help_text="The visible start of the token, for lookup."
    )
    digest = models.CharField(max_length=64, help_text="SHA-256 of the token; never the token.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Blank: never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        """Ordering."""

        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.display} ({self.user})"

    @property
    def display(self) -> str:
        """How the token is shown once issued: its prefix and an ellipsis."""
        return f"{TOKEN_PREFIX}{self.prefix}_…"

    def is_active(self, now: dt.datetime | None = None) -> bool:
        """Not revoked and not expired."""
        now = now or timezone.now()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now

    def revoke(self) -> None:
        """Revoke the token now (a revoked token stays listed, unusable)."""
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            type(self).objects.filter(pk=self.pk, revoked_at=None).update(
                revoked_at=self.revoked_at
            )


def issue_token(
    user: User, *, name: str = "", expires_in: dt.timedelta | None = None
) -> tuple[Token, str]:
    """A new token for ``user``: its row, and its text (shown once, never stored)."""
    prefix = secrets.token_hex(_PREFIX_CHARS // 2)
    while Token.objects.filter(prefix=prefix).exists():  # 2**32 prefixes: rare
        prefix = secrets.token_hex(_PREFIX_CHARS // 2)
    text = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    now = timezone.now()
    token = Token.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        digest=token_digest(text),
        created_at=now,
        expires_at=now + expires_in if expires_in is not None else None,
    )
    return token, text


def _prefix_of(text: str) -> str | None:
    if not text.startswith(TOKEN_PREFIX):
        return None
    prefix, sep, secret = text[len(TOKEN_PREFIX) :].partition("_")
    if not sep or not secret or len(prefix) != _PREFIX_CHARS:
        return None
    # Issued prefixes are lowercase hex; anything else (a NUL, which PostgreSQL's
    # text cannot even hold) is refused before it reaches the database.
    if not all(c in _HEX for c in prefix):
        return None
    return prefix


def _token_rows(prefix: str) -> models.QuerySet[Any]:
    """The token of ``prefix`` with every column of its user (one joined SELECT)."""
    user_fields = [f"user__{name}" for name in _user_columns()]
    rows = Token.objects.filter(prefix=prefix).order_by()
    return rows.values_list(*_TOKEN_COLUMNS, *user_fields)[:1]


_TOKEN_COLUMNS = ("pk", "digest", "expires_at", "revoked_at", "last_used_at")


def _user_columns() -> list[str]:
    return [f.attname for f in get_user_model()._meta.concrete_fields]


_by_prefix: CompiledLookup | None = None


def _lookup() -> CompiledLookup:
    # Made on first use: the registry's modules import the models, which import this one.
    global _by_prefix
    if _by_prefix is None:
        from .registry.resolving import CompiledLookup

        _by_prefix = CompiledLookup(Token, _token_rows)
    return _by_prefix


class _Users:
    """Authenticated users by token digest, reused for :data:`USER_REUSE_SECONDS`.

    Only the user *object* is reused, for the permissions Django's backends
    cache on it (``has_perm`` costs two queries on a fresh one): the token and
    user row are still read on every request, and the object is reused only
    while that row is unchanged. So revoking or expiring a token, deactivating
    the user or changing any of its columns (``is_superuser``) counts at the next
    request; granted or removed permissions and groups within the bound.
    """

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._users: OrderedDict[str, tuple[float, tuple[Any, ...], Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str, row: tuple[Any, ...], using: str) -> Any:
        """The user of ``row`` (its user columns), reused if recent and unchanged."""
        now = time.monotonic()
        with self._lock:
            found = self._users.get(digest)
        if found is not None and found[1] == row and now - found[0] < USER_REUSE_SECONDS:
            return found[2]
        user_model = get_user_model()
        user = user_model.from_db(using, _user_columns(), row)
        with self._lock:
            self._users[digest] = (now, row, user)
            self._users.move_to_end(digest)
            while len(self._users) > self._size:
                self._users.popitem(last=False)
        return user

    def clear(self) -> None:
        """Forget every reused user."""
        with self._lock:
            self._users.clear()


_users = _Users()


def authenticate_token(text: str) -> User | None:
    """The active user whose active token ``text`` is, or None.

    One query (the token with its user's row), compiled by the ORM once per
    process; ``last_used_at`` is updated only when it is older than
    :data:`LAST_USED_RESOLUTION`. The returned user object may be one an earlier
    request of the same token got (see :class:`_Users`: permission changes count
    within :data:`USER_REUSE_SECONDS`, everything else at once).
    """
    prefix = _prefix_of(text)
    if prefix is None:
        return None
    row = _lookup().fetch_one(prefix=prefix)
    digest = token_digest(text)
    if row is None or not hmac.compare_digest(row[1], digest):
        return None
    pk, _, expires_at, revoked_at, last_used_at = row[: len(_TOKEN_COLUMNS)]
    now = timezone.now()
    if revoked_at is not None or (expires_at is not None and expires_at <= now):
        return None
    user = _users.get(digest, row[len(_TOKEN_COLUMNS) :], router.db_for_read(Token) or "default")
    if not user.is_active:
        return None
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        Token.objects.filter(pk=pk).update(last_used_at=now)
    return user
