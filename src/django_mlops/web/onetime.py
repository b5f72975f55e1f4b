"""One-time login links for ``mlops ui`` (as Jupyter prints one): in this process only.

``mlops ui`` issues a token for its local user and prints
``http://127.0.0.1:PORT/mlops/login/once/<token>/``; the first visit logs that user
in and spends the token. Tokens live in this process's memory, so a site that
never ran ``mlops ui`` (a project's own server) has none and the address is a 404.
"""

from __future__ import annotations

import secrets
import threading
import time

from django.contrib.auth import get_user_model, login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

__all__ = ["issue", "login_once", "redeem"]

#: Seconds a printed link stays valid.
LIFETIME = 24 * 3600.0

_tokens: dict[str, tuple[int, float]] = {}  # token -> (user id, expiry)
_lock = threading.Lock()


def issue(user_id: int, lifetime: float = LIFETIME) -> str:
    """A new single-use token that logs in user ``user_id``."""
    token = secrets.token_urlsafe(32)
    with _lock:
        _tokens[token] = (user_id, time.monotonic() + lifetime)
    return token


def redeem(token: str) -> int | None:
    """The user id of ``token``, spending it; None for an unknown, spent or expired one."""
    with _lock:
        found = _tokens.pop(token, None)
    if found is None or found[1] < time.monotonic():
        return None
    return found[0]


@require_GET
def login_once(request: HttpRequest, token: str) -> HttpResponse:
    """Log in with a one-time token and go to the pipelines."""
    user_id = redeem(token)
    user = get_user_model().objects.filter(pk=user_id).first() if user_id is not None else None
    if user is None:
        raise Http404("this login link was used already or never existed")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("mlops:pipelines")
