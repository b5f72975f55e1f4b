"""Filters the pages share: state labels, durations, sizes, preview cells."""

from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()

__all__ = ["cell", "duration", "pretty_json", "size", "state_label"]


@register.filter
def state_label(state: str | None) -> str:
    """A state name for people: ``upstream_failed`` -> ``upstream failed``."""
    return (state or "").replace("_", " ") or "—"


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds as ``0.42 s``, ``3.1 s``, ``2 min 05 s`` or ``1 h 02 min``."""
    if seconds is None:
        return "—"
    s = float(seconds)
    if s < 1:
        return f"{s * 1000:.0f} ms" if s < 0.01 else f"{s:.2f} s"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(s % 60):02d} s"
    return f"{int(s // 3600)} h {int(s % 3600 // 60):02d} min"


@register.filter
def size(count: int | None) -> str:
    """Bytes as ``812 B``, ``4.2 kB``, ``1.3 MB``."""
    if count is None:
        return "—"
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


@register.filter
def cell(value: Any) -> str:
    """A preview table cell: numbers shortened, the rest as text."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if value is None:
        return "null"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


@register.filter
def pretty_json(value: Any) -> str:
    """``value`` as indented JSON."""
    return json.dumps(value, indent=2, sort_keys=False, default=str)


@register.filter
def indexed_rows(head: dict[str, Any]) -> list[tuple[Any, list[Any]]]:
    """A preview's head as (index, row) pairs."""
    index = list(head.get("index") or [])
    data = list(head.get("data") or [])
    return [(index[i] if i < len(index) else i, row) for i, row in enumerate(data)]


@register.filter
def typed_columns(preview: dict[str, Any]) -> list[tuple[str, str]]:
    """A frame preview's columns with their dtypes."""
    dtypes = preview.get("dtypes") or {}
    return [(c, dtypes.get(c, "")) for c in preview.get("columns") or []]
