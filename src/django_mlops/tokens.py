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
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "LAST_USED_RESOLUTION",
    "TOKEN_PREFIX",
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


def authenticate_token(text: str) -> User | None:
    """The active user whose active token ``text`` is, or None.

    One query (the token with its user); ``last_used_at`` is updated only when it
    is older than :data:`LAST_USED_RESOLUTION`.
    """
    prefix = _prefix_of(text)
    if prefix is None:
        return None
    token = Token.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.digest, token_digest(text)):
        return None
    now = timezone.now()
    if not token.is_active(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        Token.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
