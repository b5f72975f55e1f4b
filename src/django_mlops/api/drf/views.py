"""``PredictView``: DRF's adapter over the shared predict code (see the package docstring)."""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.utils.html import escape
from django.utils.safestring import mark_safe
from ninja.errors import HttpError
from rest_framework import renderers
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from ...registry.cache import model_cache
from ...registry.examples import example_body
from ...registry.serving import pinned_target, serve_prediction
from ..body import check_request_body, checked_json
from ..errors import registry_error_answer
from .authentication import BearerTokenAuthentication, HasPredictPermission
from .fields import FieldsRefused, read_predict_call

__all__ = ["PredictView", "answer_error"]


def answer_error(exc: Exception, context: dict[str, Any]) -> Response | None:
    """The endpoint's errors as the ninja API words them; DRF's own (401, 403, 405) as DRF does."""
    if isinstance(exc, FieldsRefused):
        return Response({"detail": exc.entries}, status=422)
    if isinstance(exc, HttpError):  # the body checks: 413, 415, 400
        return Response({"detail": str(exc)}, status=exc.status_code)
    answer = registry_error_answer(exc)
    if answer is not None:
        status, body = answer
        return Response(body, status=status)
    return exception_handler(exc, context)


class ExampleFormRenderer(renderers.BrowsableAPIRenderer):
    """The browsable API, its POST form filled with an example body for this model."""

    def get_raw_data_form(self, data: Any, view: Any, method: str, request: Any) -> Any:
        """DRF's raw form, its content set to ``{"inputs": [an example record]}``."""
        form = super().get_raw_data_form(data, view, method, request)
        example = getattr(view, "example", None)
        if form is not None and method == "POST" and example is not None:
            form.initial = {**form.initial, "_content": json.dumps(example, indent=2)}
        return form


class PredictView(APIView):
    """``POST drf/models/{name}/predict``: a batch of records predicted by one version.

    The body is ``{"inputs": [{field: value}, ...], "proba": false}``; the query
    ``?alias=`` (default ``production``) or ``?version=`` chooses the version.
    The answer is ``{"model", "version", "predictions", "probabilities"}``, as
    the django-ninja endpoint gives. ``GET`` describes the version the query
    names (signature and an example body): the browsable API's page.
    """

    # Fixed here, so a project's REST_FRAMEWORK defaults never loosen this endpoint.
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [HasPredictPermission]
    throttle_classes: list[Any] = []
    #: Set by ``get`` for the browsable API's form.
    example: dict[str, Any] | None = None

    def get_renderers(self) -> list[renderers.BaseRenderer]:
        """JSON; and the browsable API (HTML) when ``rest_framework`` is an installed app."""
        found: list[renderers.BaseRenderer] = [renderers.JSONRenderer()]
        if apps.is_installed("rest_framework"):
            found.append(ExampleFormRenderer())
        return found

    def get_view_name(self) -> str:
        """The browsable API's title: which model this page predicts with."""
        name = self.kwargs.get("name") if hasattr(self, "kwargs") else None
        return f"Predict with {name}" if name else "Predict"

    def get_view_description(self, html: bool = False) -> str:
        """The browsable API's words for a person (the docstring is for developers)."""
        text = (
            'POST {"inputs": [{field: value, ...}], "proba": false} to predict a batch of '
            "records; ?alias= (default production) or ?version= chooses the version. "
            "The form below holds an example record of this version's signature."
        )
        return mark_safe(f"<p>{escape(text)}</p>") if html else text  # escaped just above

    def get_exception_handler(self) -> Any:
        """Our handler, whatever the project's ``EXCEPTION_HANDLER`` says."""
        return answer_error

    def get(self, request: Request, name: str) -> Response:
        """The version ``?alias=``/``?version=`` names: its signature and an example body."""
        call = read_predict_call(name, request.query_params, {"inputs": []}, has_body=True)
        alias, version = pinned_target(call.name, call.target.alias, call.target.version)
        loaded = model_cache.get(call.name, alias=alias, version=version)
        self.example = example_body(loaded.signature)
        return Response(
            {
                "model": loaded.name,
                "version": loaded.version,
                "signature": loaded.signature,
                "example": self.example,
            }
        )

    def post(self, request: Request, name: str) -> Response:
        """Predict the body's records; 422 lists every refused field, as the ninja API does."""
        django_request = request._request
        check_request_body(django_request)
        has_body = bool(django_request.body)
        body = checked_json(django_request) if has_body else None
        if isinstance(body, dict):
            self.example = body  # the browsable API's form keeps what was sent
        call = read_predict_call(name, request.query_params, body, has_body)
        answer = serve_prediction(
            call.name,
            call.body.inputs,
            alias=call.target.alias,
            version=call.target.version,
            proba=call.body.proba,
        )
        return Response(answer.response_body())
