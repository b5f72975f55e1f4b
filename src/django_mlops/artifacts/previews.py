"""Small JSON previews of stored values, for the UI: shape, dtypes, head rows, stats.

Every preview is a dict with ``kind`` and is safe for any JSON column: non-finite
floats and unknown objects become strings, long texts are cut.
"""

from __future__ import annotations

import base64
import io
import json
import math
import sys
from typing import Any

import numpy as np

__all__ = ["make_preview"]

HEAD_ROWS = 5
MAX_COLUMNS = 50
MAX_KEYS = 50
MAX_TEXT = 200
MAX_ITEMS = 20
#: Largest PNG (bytes) a preview embeds, so pages can show figures and images inline.
MAX_IMAGE_BYTES = 256 * 1024
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _cut(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(value: Any, depth: int = 0) -> Any:
    """A JSON-safe, bounded copy of ``value``."""
    if value is None or isinstance(value, bool | int | str):
        return _cut(value) if isinstance(value, str) else value
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else repr(number)
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if depth < 3 and isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value[:MAX_ITEMS]]
    if depth < 3 and isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in list(value.items())[:MAX_KEYS]}
    return _cut(repr(value))


def _frame_preview(frame: Any) -> dict[str, Any]:
    shown = frame.iloc[:, :MAX_COLUMNS]
    head = json.loads(
        shown.head(HEAD_ROWS).to_json(orient="split", date_format="iso", default_handler=str)
    )
    preview: dict[str, Any] = {
        "kind": "dataframe",
        "shape": list(frame.shape),
        "columns": [str(c) for c in shown.columns],
        "dtypes": {str(c): str(t) for c, t in shown.dtypes.items()},
        "head": {"index": head.get("index", []), "data": head.get("data", [])},
    }
    try:
        stats = shown.describe()
        described = json.loads(stats.to_json(orient="split", default_handler=str))
        preview["describe"] = {
            "index": described.get("index", []),
            "columns": [str(c) for c in described.get("columns", [])],
            "data": described.get("data", []),
        }
    except (ValueError, TypeError):  # no column describe() can summarise
        pass
    return preview


def _array_preview(array: np.ndarray) -> dict[str, Any]:
    preview: dict[str, Any] = {
        "kind": "ndarray",
        "shape": list(array.shape),
        "dtype": str(array.dtype),
        "head": _plain(array[:HEAD_ROWS].tolist()) if array.ndim else _plain(array.item()),
    }
    if array.size and (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        with np.errstate(all="ignore"):
            preview["min"] = _plain(array.min().item())
            preview["max"] = _plain(array.max().item())
            preview["mean"] = _plain(float(array.mean()))
    return preview


def _estimator_preview(value: Any) -> dict[str, Any]:
    try:
        params = value.get_params(deep=False)
    except Exception:  # a get_params that needs state the object lacks
        params = {}
    return {"kind": "estimator", "class": type(value).__name__, "params": _plain(params)}


def _image_preview(png: bytes, what: str) -> dict[str, Any]:
    """A PNG shown as an image (base64), when it is small enough to embed."""
    preview: dict[str, Any] = {"kind": "image", "type": what, "size": len(png)}
    if len(png) <= MAX_IMAGE_BYTES:
        preview["png"] = base64.b64encode(png).decode("ascii")
    return preview


def _figure_png(figure: Any) -> bytes | None:
    """A matplotlib figure drawn as a small PNG (None when it cannot be drawn)."""
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=72)
    except Exception:  # a figure whose drawing fails is previewed as an object
        return None
    return buffer.getvalue()


def make_preview(value: Any) -> dict[str, Any]:
    """A small JSON description of ``value``.

    >>> make_preview([1, 2, 3])["kind"]
    'list'
    """
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return {"kind": kind.__name__, "repr": _cut(repr(value))}
    if (kind is bytes or kind is bytearray) and bytes(value[:8]) == _PNG_MAGIC:
        return _image_preview(bytes(value), "PNG")
    if kind is bytes or kind is bytearray:
        return {"kind": "bytes", "size": len(value), "repr": _cut(repr(value[:MAX_TEXT]))}
    if kind is dict:
        return {
            "kind": "dict",
            "length": len(value),
            "keys": [str(k) for k in list(value)[:MAX_KEYS]],
            "values": _plain(value),
        }
    if kind in (list, tuple, set, frozenset):
        items = list(value)[:MAX_ITEMS] if kind in (list, tuple) else None
        return {
            "kind": kind.__name__,
            "length": len(value),
            "head": _plain(items) if items is not None else _cut(repr(value)),
        }
    if isinstance(value, np.ndarray):
        return _array_preview(value)
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(value, pd.DataFrame):
        return _frame_preview(value)
    if pd is not None and isinstance(value, pd.Series):
        preview = _frame_preview(value.to_frame())
        preview["kind"] = "series"
        preview["name"] = _plain(value.name)
        return preview
    if type(value).__module__.startswith("matplotlib") and hasattr(value, "savefig"):
        png = _figure_png(value)
        if png is not None:
            return _image_preview(png, type(value).__name__)
    if hasattr(value, "get_params") and hasattr(value, "fit"):
        return _estimator_preview(value)
    return {"kind": "object", "type": kind.__qualname__, "repr": _cut(repr(value))}
