"""Who is asking: Bearer tokens for API clients, the Django session (with CSRF) for the site.

Both answer the request's active user or nothing; when neither does, the API
answers 401. A session is only trusted for an unsafe method (POST) together with
a valid CSRF token, since a browser sends the session cookie with any cross-site
request: a form posted from another site, or a ``text/plain`` "simple" request
carrying JSON (the attack of MLflow's CVE-2023-43472), is refused with 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from ..tokens import authenticate_token

__all__ = [
    "BearerTokenAuth",
    "SessionCsrfAuth",
    "api_user",
    "authenticated_docs",
    "require_permission",
]

CSRF_FAILED = (
    "CSRF check failed: a request made with the site's session cookie must send the "
    "csrftoken cookie's value in the X-CSRFToken header (API clients: use a Bearer token)"
)


class BearerTokenAuth(HttpBearer):
    """``Authorization: Bearer mlops_...``: an API token (``mlops token create USER``)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        """The token's user, if the token is valid, unexpired and not revoked."""
        user = authenticate_token(token.strip())
        if user is not None:
            request.user = user
        return user


class SessionCsrfAuth(APIKeyCookie):
    """The logged-in user of the Django session; unsafe methods must pass Django's CSRF check."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        # The CSRF check comes after we know there is a session user: a request
        # without one is unauthenticated (401), not forbidden.
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        """The session's active user; raises 403 when an unsafe request fails the CSRF check."""
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        if check_csrf(request) is not None:
            raise HttpError(403, CSRF_FAILED)
        return user


def api_user(request: HttpRequest) -> Any:
    """The authenticated user of an API request (set by the auth classes)."""
    return request.auth  # type: ignore[attr-defined]


def require_permission(request: HttpRequest, codename: str, action: str) -> Any:
    """The request's user if it has ``django_mlops.<codename>``; else 403 naming it."""
    user = api_user(request)
    if not user.has_perm(f"django_mlops.{codename}"):
        raise HttpError(403, f"permission django_mlops.{codename} is needed to {action}")
    return user


def authenticated_docs(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The OpenAPI document and the docs page need a login too (token or session).

    Reading them is safe (GET), so the session needs no CSRF token here. The
    docs page sends a browser to the login page; the document answers 401.
    """
    bearer, session = BearerTokenAuth(), SessionCsrfAuth()

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            user = bearer(request) or session(request)
        except HttpError as exc:
            return JsonResponse({"detail": str(exc)}, status=exc.status_code)
        if user:
            return view(request, *args, **kwargs)
        if request.path.endswith(".json"):
            return JsonResponse({"detail": "Unauthorized"}, status=401)
        return redirect_to_login(request.get_full_path())

    return wrapper
