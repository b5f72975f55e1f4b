"""Login and permissions for every page: one decorator, so no view is left open by mistake.

Reading needs ``django_mlops.view_run`` (Django's view permission on runs); acting
(Run, Retry, Cancel) needs ``django_mlops.run_pipeline``. An anonymous visitor is
sent to the site's login page; a logged-in user without the permission gets 403.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import reverse

__all__ = ["RUN_PERMISSION", "VIEW_PERMISSION", "can_run", "requires"]

#: Reading pipelines and runs.
VIEW_PERMISSION = "django_mlops.view_run"
#: Starting, retrying and cancelling runs.
RUN_PERMISSION = "django_mlops.run_pipeline"

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def requires(*permissions: str) -> Callable[[View], View]:
    """Wrap a view: login first (redirect to ``mlops:login``), then every permission (403)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("mlops:login"))
            if not request.user.has_perms(permissions):
                raise PermissionDenied("you lack the permission " + ", ".join(permissions))
            return view(request, *args, **kwargs)

        return cast(View, guarded)

    return decorate


def can_run(request: HttpRequest) -> bool:
    """Whether the user may start, retry and cancel runs (the Run button is shown)."""
    return request.user.has_perm(RUN_PERMISSION)
