"""A failed task's traceback, split into lines with the user's failing line marked.

The user's line is the innermost frame outside django-mlops itself, the
standard library and installed packages: the line of the node function (or of
what it called in the user's project) where the error happened.
"""

from __future__ import annotations

import re
import sysconfig
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TracebackLine", "marked_traceback"]

_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in (?P<func>.+))?$')
_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)
_LIBRARY_DIRS = tuple(
    {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
)


@dataclass(frozen=True, slots=True)
class TracebackLine:
    """One line of the traceback; ``user`` marks the user's failing frame and its code line."""

    text: str
    frame: bool  # a 'File "...", line N' header
    user: bool


def _is_library(filename: str) -> bool:
    if filename.startswith("<"):
        return True  # <frozen ...>, <string>
    resolved = str(Path(filename).resolve()) if Path(filename).is_absolute() else filename
    if resolved.startswith(_PACKAGE_DIR):
        return True
    if "/site-packages/" in resolved or "/dist-packages/" in resolved:
        return True
    return any(resolved.startswith(d) for d in _LIBRARY_DIRS)


def marked_traceback(text: str) -> list[TracebackLine]:
    """The lines of ``text``, the user's innermost frame (header and code line) marked."""
    lines = text.splitlines()
    headers = [i for i, line in enumerate(lines) if _FRAME.match(line)]
    user = [i for i in headers if not _is_library(_FRAME.match(lines[i]).group("file"))]  # type: ignore[union-attr]
    chosen = user[-1] if user else (headers[-1] if headers else None)
    marked: set[int] = set()
    if chosen is not None:
        marked.add(chosen)
        # The code line(s) under the header, up to the next header or the error line.
        for j in range(chosen + 1, len(lines)):
            if _FRAME.match(lines[j]) or not lines[j].startswith("    "):
                break
            marked.add(j)
    header_set = set(headers)
    return [TracebackLine(line, i in header_set, i in marked) for i, line in enumerate(lines)]
