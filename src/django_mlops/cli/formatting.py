"""Text shapes the subcommands print: durations, values, aligned tables, colours."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

__all__ = [
    "STATE_COLOURS",
    "format_duration",
    "format_mapping",
    "format_time",
    "format_value",
    "paint",
    "plural",
    "table",
]

# ANSI SGR codes per task state / run status.
STATE_COLOURS = {
    "succeeded": "32",
    "cached": "36",
    "failed": "31",
    "upstream_failed": "31",
    "retrying": "33",
    "running": "34",
    "cancelled": "33",
    "not_started": "2",
    "excluded": "2",
    "queued": "2",
}


def paint(text: str, code: str | None, enabled: bool) -> str:
    """``text`` in the ANSI colour ``code`` when ``enabled``; unchanged otherwise."""
    if not enabled or not code:
        return text
    return f"\x1b[{code}m{text}\x1b[0m"


def plural(count: int, noun: str) -> str:
    """``1 node``, ``2 nodes``: a count with its noun in the right number.

    >>> plural(1, "node"), plural(0, "node"), plural(3, "dataset")
    ('1 node', '0 nodes', '3 datasets')
    """
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def format_duration(seconds: float | None) -> str:
    """Seconds as a person reads them: ``0.012s``, ``3.4s``, ``2m05s``, ``1h02m``.

    >>> format_duration(0.0123), format_duration(125), format_duration(None)
    ('0.012s', '2m05s', '-')
    """
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds:.3f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_time(moment: datetime | None) -> str:
    """A timestamp in local time to the second, or ``-``."""
    if moment is None:
        return "-"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def format_value(value: Any) -> str:
    """A param or metric value, short: floats to 4 significant digits, others as JSON."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def format_mapping(values: Mapping[str, Any]) -> str:
    """``a=1, b=0.5``, or ``-`` when empty."""
    return ", ".join(f"{k}={format_value(v)}" for k, v in values.items()) or "-"


def table(
    header: Sequence[str], rows: Iterable[Sequence[str]], colours: Sequence[str | None] = ()
) -> list[str]:
    """Rows aligned under ``header``, two spaces apart; the last column is not padded.

    ``colours`` gives one ANSI code (or None) per row, applied after alignment so
    escape codes never count towards column widths.
    """
    rows = [list(r) for r in rows]
    widths = [len(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def join(cells: Sequence[str]) -> str:
        padded = [c.ljust(widths[i]) for i, c in enumerate(cells[:-1])]
        return "  ".join([*padded, cells[-1]]).rstrip()

    lines = [join(header)]
    for i, row in enumerate(rows):
        code = colours[i] if i < len(colours) else None
        lines.append(paint(join(row), code, code is not None))
    return lines
