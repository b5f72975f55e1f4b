"""Who is asking, for DRF: the project's Bearer tokens, and the Django session with CSRF.

The token check is :func:`django_mlops.tokens.authenticate_token`, the one the
django-ninja API uses. Sessions are DRF's own ``SessionAuthentication``, which
enforces Django's CSRF check for the logged-in user.
"""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from ...tokens import authenticate_token

__all__ = ["BearerTokenAuthentication", "HasPredictPermission"]


class BearerTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer mlops_...``: an API token (``mlops token create USER``).

    A request without a Bearer header is left to the next authenticator; a
    Bearer header with an invalid, expired or revoked token is a 401.
    """

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Any, str] | None:
        """(user, token) for a valid token; None when the request carries no Bearer header."""
        scheme, _, token = get_authorization_header(request).partition(b" ")
        if scheme.lower() != self.keyword:
            return None
        try:
            text = token.decode("ascii").strip()
        except UnicodeDecodeError:
            raise AuthenticationFailed("the Bearer token is not ASCII") from None
        user = authenticate_token(text) if text else None
        if user is None:
            raise AuthenticationFailed("invalid, expired or revoked token")
        return user, text

    def authenticate_header(self, request: Request) -> str:
        """What a 401 answer's ``WWW-Authenticate`` header asks for."""
        return 'Bearer realm="django-mlops"'


class HasPredictPermission(BasePermission):
    """The user has ``django_mlops.predict`` (403 naming it otherwise; 401 when anonymous)."""

    message = "permission django_mlops.predict is needed to call model predictions"

    def has_permission(self, request: Request, view: Any) -> bool:
        """Whether the authenticated user may call predictions."""
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("django_mlops.predict"))
