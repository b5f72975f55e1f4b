"""Template helpers of the experiments pages: links that keep the query, sort state, cells."""

from __future__ import annotations

import datetime
from typing import Any

from django import template
from django.http import QueryDict

register = template.Library()

__all__ = ["caret_marks", "caret_pad", "experiment_cell", "query_with", "sort_state"]


@register.simple_tag(takes_context=True)
def query_with(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some keys replaced (None removes a key); starts with ?.

    ``open`` adds a group to the opened ones and ``close`` removes one, so each sweep
    group's toggle keeps the others as they are.
    """
    query: QueryDict = context["request"].GET.copy()
    opened = query.getlist("open")
    if "open" in changes:
        opened = [*opened, changes.pop("open")]
    if "close" in changes:
        closed = changes.pop("close")
        opened = [g for g in opened if g != closed]
    query.setlist("open", opened)
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = str(value)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag
def sort_state(sort: str, key: str) -> str:
    """``ascending``/``descending`` when the table is sorted by ``key``, else ``none``."""
    if sort == key:
        return "ascending"
    if sort == f"-{key}":
        return "descending"
    return "none"


@register.filter
def experiment_cell(value: Any) -> str:
    """A cell value for people: floats to 4 significant digits, times to the second."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


@register.filter
def caret_pad(text: str) -> str:
    """Spaces as wide as ``text`` (tabs kept), to put a caret under the next character."""
    return "".join("\t" if ch == "\t" else " " for ch in text)


@register.filter
def caret_marks(text: str) -> str:
    """One caret per character of ``text``: the underline of a filter's mistake."""
    return "^" * max(len(text), 1)


@register.filter
def run_outcome(value: str) -> str:
    """What a run did with a node, in words: "ran", "reused", "not started"."""
    return value.replace("_", " ")
