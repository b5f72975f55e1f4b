"""Label widths without fonts: a per-character table for a common sans-serif.

The widths (in em) approximate Helvetica/Arial/DejaVu Sans closely enough to
size boxes so labels are never clipped; slightly generous on purpose, since
the viewer's actual font is unknown.
"""

from __future__ import annotations

import unicodedata

__all__ = ["fit_text", "text_width"]

_WIDTHS: dict[str, float] = {}
for _chars, _em in (
    ("il.,:;'|!", 0.28),
    ("jfrt()[]{}` ", 0.36),
    ('"-*^', 0.4),
    ("Jcksvxyz/\\", 0.52),
    ("abdeghnopqu0123456789$?_", 0.58),
    ("ABEFKPSTVXYZ#&+<=>~", 0.68),
    ("CDGHNORUw", 0.74),
    ("mM%@", 0.86),
    ("W", 0.96),
):
    for _c in _chars:
        _WIDTHS[_c] = _em
_DEFAULT_EM = 0.6
_WIDE_EM = 1.0  # East Asian wide and full-width characters


def _char_em(char: str) -> float:
    known = _WIDTHS.get(char)
    if known is not None:
        return known
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return _WIDE_EM
    if char.isupper():
        return 0.7
    return _DEFAULT_EM


def text_width(text: str, font_size: float) -> float:
    """Width in pixels of ``text`` set at ``font_size`` pixels.

    >>> round(text_width("fit", 10), 1)
    9.2
    """
    return sum(_char_em(c) for c in text) * font_size


def fit_text(text: str, font_size: float, max_width: float) -> str:
    """``text``, cut and ended with an ellipsis if wider than ``max_width``."""
    if text_width(text, font_size) <= max_width:
        return text
    budget = max_width - text_width("…", font_size)
    used = 0.0
    kept = []
    for char in text:
        used += _char_em(char) * font_size
        if used > budget:
            break
        kept.append(char)
    return "".join(kept).rstrip() + "…"
