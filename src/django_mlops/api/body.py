"""Request bodies: size, content type and JSON, checked before any field is read.

A body larger than ``MLOPS["API_MAX_BODY_BYTES"]`` is refused (413) from its
Content-Length, before it is read; a body that is not ``application/json`` is
refused (415), so a browser's cross-site "simple" request (``text/plain``,
form encodings) never reaches a view; malformed JSON is a 400 that says where.
NaN and Infinity are refused: they are not JSON and no database stores them.
"""

from __future__ import annotations

import json
from typing import Any, cast

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.parser import Parser

__all__ = ["JsonBodyParser", "check_request_body", "checked_json"]

_PARSED = "_mlops_json_body"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _declared_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except (TypeError, ValueError):
        return 0  # what Django's request does with a garbled header: no body


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def check_request_body(request: HttpRequest) -> None:
    """Refuse a too large, non-JSON or malformed body; keep the parsed JSON for the parser."""
    from ..conf import mlops_settings

    if request.method not in _BODY_METHODS:
        return
    length = _declared_length(request)
    if length == 0:
        return
    limit = mlops_settings().API_MAX_BODY_BYTES
    if length > limit:
        raise HttpError(413, f"request body of {length} bytes exceeds the limit of {limit} bytes")
    if not _is_json(request.META.get("CONTENT_TYPE", "")):
        raise HttpError(415, "request body must be JSON (Content-Type: application/json)")
    try:
        text = request.body.decode("utf-8")
        parsed = json.loads(text, parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise HttpError(400, "malformed JSON: the body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise HttpError(
            400, f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise HttpError(400, f"malformed JSON: {exc or 'nested too deeply'}") from None
    setattr(request, _PARSED, parsed)


def checked_json(request: HttpRequest) -> Any:
    """The body's JSON value, once :func:`check_request_body` has let it through."""
    if hasattr(request, _PARSED):
        return getattr(request, _PARSED)
    return json.loads(request.body, parse_constant=_no_constants)


class JsonBodyParser(Parser):
    """Ninja's parser, reading the JSON :func:`check_request_body` already parsed."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        """The body's JSON value (checked by ``check_request_body``)."""
        return cast(dict[str, Any], checked_json(request))
