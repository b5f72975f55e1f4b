"""The django-ninja API of django-mlops: authentication, body checks, errors, routers, docs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.html import escape
from ninja import NinjaAPI
from ninja.errors import ValidationError
from ninja.openapi.docs import Swagger
from ninja.operation import Operation

from .auth import BearerTokenAuth, SessionCsrfAuth, authenticated_docs
from .body import JsonBodyParser, check_request_body
from .errors import install_error_handlers
from .routers import experiments, models, pipelines, runs, tasks

__all__ = ["MlopsAPI", "api", "build_api"]

_DESCRIPTION = """\
Pipelines, runs and their tasks, registered models and their predictions. Authenticate
with `Authorization: Bearer <token>` (`mlops token create USER`) or the site's session
(unsafe methods then need the `X-CSRFToken` header). Errors are `{"detail": "..."}`;
refused fields are a 422 listing each one. See docs/api.md.
"""


class LocalSwagger(Swagger):
    """Swagger UI from django-ninja's own static files, never from a CDN.

    Without ``"ninja"`` in INSTALLED_APPS those files are not served; the page
    then links to the OpenAPI document and says how to get the interactive docs
    (system check ``django_mlops.W021`` says the same).
    """

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        """The Swagger page, or a plain page linking the OpenAPI document."""
        if "ninja" in settings.INSTALLED_APPS:
            return super().render_page(request, api, **kwargs)
        url = escape(self.get_openapi_url(api, kwargs))
        return HttpResponse(
            f"<!doctype html><title>{escape(api.title)}</title><h1>{escape(api.title)}</h1>"
            f'<p><a href="{url}">OpenAPI document</a>. Add "ninja" to INSTALLED_APPS for the '
            "interactive docs.</p>"
        )


class MlopsAPI(NinjaAPI):
    """NinjaAPI that checks a request's body after authentication and before any parsing."""

    def create_temporal_response(self, request: HttpRequest) -> HttpResponse:
        """Called by every operation once the client is authenticated, before its params are read.

        So the size, content type and JSON of the body are checked here: a 413,
        415 or 400 is answered before any field is validated.
        """
        check_request_body(request)
        return super().create_temporal_response(request)

    def validation_error_from_error_contexts(self, error_contexts: Any) -> ValidationError:
        """Ninja's 422, with a body field located as ``["body", "params", "C"]``.

        Ninja puts the view's argument name after "body"; every operation here
        names its body argument ``body``, so that repeated word is left out and
        refused params (located by ``enqueue_run``'s errors) read the same way.
        """
        error = super().validation_error_from_error_contexts(error_contexts)
        for entry in error.errors:
            loc = list(entry.get("loc", ()))
            if loc[:2] == ["body", "body"]:
                entry["loc"] = ["body", *loc[2:]]
        return error

    def get_openapi_operation_id(self, operation: Operation) -> str:
        """Short operation ids: the view's name (``list_runs``, ``start_run``)."""
        return str(operation.view_func.__name__)


def build_api() -> MlopsAPI:
    """A new API instance with every router (tests and projects may build their own)."""
    built = MlopsAPI(
        title="django-mlops API",
        version="1",
        description=_DESCRIPTION,
        urls_namespace="mlops:api",  # included under django_mlops.urls (app_name "mlops")
        auth=[BearerTokenAuth(), SessionCsrfAuth()],
        parser=JsonBodyParser(),
        docs=LocalSwagger(),
        docs_decorator=authenticated_docs,
    )
    install_error_handlers(built)
    built.add_router("/pipelines", pipelines.router)
    built.add_router("/runs", runs.router)
    built.add_router("/runs", tasks.router)
    built.add_router("/models", models.router)
    built.add_router("/experiments", experiments.router)
    return built


#: The API mounted by ``django_mlops.urls`` at ``<mount>/api/``.
api = build_api()
