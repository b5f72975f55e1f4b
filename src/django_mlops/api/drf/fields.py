"""A predict request's path, query and body read with the ninja endpoint's own schemas.

django-ninja validates ``name`` (``Name``), the query (``PredictTarget``) and the
body (``PredictIn``) and lists every refused field in one 422; this does the
same with the same pydantic types, and words each entry as ninja does
(``{"type", "loc", "msg"[, "ctx"]}``, the location starting with ``path``,
``query`` or ``body``), so a refused request reads the same on both endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import QueryDict
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticError

from ..schemas.common import Name
from ..schemas.models import PredictIn, PredictTarget

__all__ = ["FieldsRefused", "PredictCall", "read_predict_call"]

_NAME = TypeAdapter(Name)


class FieldsRefused(Exception):
    """Fields of the request that its schema refused: answered as a 422 listing each."""

    def __init__(self, entries: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(entries)} refused field(s)")
        self.entries = entries


@dataclass(frozen=True, slots=True)
class PredictCall:
    """A predict request whose path, query and body passed their schemas."""

    name: str
    target: PredictTarget
    body: PredictIn


def _entries(error: PydanticError, *where: str) -> list[dict[str, Any]]:
    """Pydantic's errors as ninja words them (no input echoed, no documentation URL)."""
    entries = []
    for item in error.errors(include_url=False, include_input=False):
        entry: dict[str, Any] = dict(item)
        entry["loc"] = [*where, *item["loc"]]
        ctx = entry.get("ctx")
        if ctx and isinstance(ctx.get("error"), Exception):
            entry["ctx"] = {**ctx, "error": str(ctx["error"])}
        entries.append(entry)
    return entries


def _model(schema: type[BaseModel], data: Any, source: str, refused: list[dict[str, Any]]) -> Any:
    try:
        return schema.model_validate(data)
    except PydanticError as exc:
        refused.extend(_entries(exc, source))
        return None


def read_predict_call(name: str, query: QueryDict, body: Any, has_body: bool) -> PredictCall:
    """The validated request, or FieldsRefused with every refused field (path, query, body)."""
    refused: list[dict[str, Any]] = []
    try:
        name = _NAME.validate_python(name)
    except PydanticError as exc:
        refused.extend(_entries(exc, "path", "name"))
    target = _model(PredictTarget, {key: query[key] for key in query}, "query", refused)
    if has_body:
        parsed = _model(PredictIn, body, "body", refused)
    else:
        refused.append({"type": "missing", "loc": ["body"], "msg": "Field required"})
        parsed = None
    if refused:
        raise FieldsRefused(refused)
    return PredictCall(name, target, parsed)
