"""How the API answers what it cannot do: one JSON shape per kind of error.

Every error body is ``{"detail": "..."}``, except validation errors (422), which
list each field as ninja does: ``{"detail": [{"loc": ["body", "params", "C"],
"msg": "...", "type": "..."}]}``. Domain errors raised by the shared code (an
unknown pipeline, refused params, an unknown node in a selection, a run that
cannot be cancelled, an unknown model, inputs refused by a model's signature)
are turned into these here, so the routers stay thin.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import ValidationError

from ..errors import (
    ParamValidationError,
    PipelineError,
    PipelineNotFound,
    RunError,
    SelectionError,
)
from ..registry.errors import (
    AliasPermissionError,
    InputValidationError,
    ModelIntegrityError,
    ModelNotFoundError,
)

logger = logging.getLogger(__name__)

__all__ = [
    "ErrorOut",
    "FieldErrorOut",
    "ValidationErrorOut",
    "errors_for",
    "field_error",
    "install_error_handlers",
    "registry_error_answer",
]


class ErrorOut(Schema):
    """An error the client can act on, in words."""

    detail: str


class FieldErrorOut(Schema):
    """One refused field: where it is (``["body", "params", "C"]``) and what is wrong."""

    loc: list[str | int]
    msg: str
    type: str
    ctx: dict[str, Any] | None = None  # e.g. a filter mistake's position and length


class ValidationErrorOut(Schema):
    """A request whose fields were refused: one entry per field."""

    detail: list[FieldErrorOut]


#: The errors every authenticated operation can answer.
COMMON_ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    413: ErrorOut,
    415: ErrorOut,
    422: ValidationErrorOut,
}


def errors_for(*codes: int) -> dict[int, type[Schema]]:
    """The common error responses plus ``codes`` (404: ErrorOut, 409: ErrorOut...)."""
    return {**COMMON_ERRORS, **{code: ErrorOut for code in codes}}


def field_error(loc: Sequence[str | int], msg: str, kind: str = "value_error") -> dict[str, Any]:
    """One entry of a 422's ``detail`` list."""
    return {"loc": list(loc), "msg": msg, "type": kind}


def validation_error(entries: Iterable[dict[str, Any]]) -> ValidationError:
    """Ninja's ValidationError (a 422) with our entries."""
    return ValidationError(list(entries))


def _detail(api: NinjaAPI, request: HttpRequest, status: int, detail: str) -> HttpResponse:
    return api.create_response(request, {"detail": detail}, status=status)


def install_error_handlers(api: NinjaAPI) -> None:
    """Map the shared code's exceptions to 4xx answers on ``api``."""

    def pipeline_not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return _detail(api, request, 404, str(exc))

    def params_refused(request: HttpRequest, exc: Any) -> HttpResponse:
        entries = [field_error(["body", "params", e.param], e.message) for e in exc.errors]
        return api.create_response(request, {"detail": entries}, status=422)

    def selection_refused(request: HttpRequest, exc: Any) -> HttpResponse:
        entries = [field_error(["body"], str(exc), "selection_error")]
        return api.create_response(request, {"detail": entries}, status=422)

    def pipeline_broken(request: HttpRequest, exc: Any) -> HttpResponse:
        return _detail(api, request, 409, f"the pipeline cannot run as defined: {exc}")

    def run_refused(request: HttpRequest, exc: Any) -> HttpResponse:
        return _detail(api, request, 409, str(exc))

    def too_big(request: HttpRequest, exc: Any) -> HttpResponse:
        return _detail(api, request, 413, f"request body too large: {exc}")

    api.add_exception_handler(PipelineNotFound, pipeline_not_found)
    api.add_exception_handler(ParamValidationError, params_refused)
    api.add_exception_handler(SelectionError, selection_refused)
    api.add_exception_handler(PipelineError, pipeline_broken)
    api.add_exception_handler(RunError, run_refused)
    api.add_exception_handler(RequestDataTooBig, too_big)
    _install_registry_handlers(api)


def registry_error_answer(exc: Exception) -> tuple[int, dict[str, Any]] | None:
    """The status and body for one of the registry's errors, or None for any other error.

    Both predict endpoints (django-ninja here, DRF in ``api.drf``) answer through
    this, so an unknown model (404), refused inputs (422 per field), a refused
    alias move (403) and a missing or tampered artifact (409) read the same.
    """
    if isinstance(exc, ModelNotFoundError):
        return 404, {"detail": str(exc)}
    if isinstance(exc, InputValidationError):
        entries = [field_error(["body", *e.loc], e.message, e.code) for e in exc.errors]
        return 422, {"detail": entries}
    if isinstance(exc, AliasPermissionError):
        return 403, {"detail": str(exc)}
    if isinstance(exc, ModelIntegrityError):
        # The stored model is missing or tampered with: the operator must act, the
        # client cannot. Logged, and answered as a conflict, not a server error.
        logger.error("refused to load a model: %s", exc)
        return 409, {"detail": f"the model cannot be served: {exc}"}
    return None


def _install_registry_handlers(api: NinjaAPI) -> None:
    """The registry's errors: unknown model/version/alias 404, refused inputs 422, and so on."""

    def registry_refused(request: HttpRequest, exc: Any) -> HttpResponse:
        answer = registry_error_answer(exc)
        if answer is None:  # not one of the registry's errors: let Django report it
            raise exc
        status, body = answer
        return api.create_response(request, body, status=status)

    for error in (
        ModelNotFoundError,
        InputValidationError,
        AliasPermissionError,
        ModelIntegrityError,
    ):
        api.add_exception_handler(error, registry_refused)
