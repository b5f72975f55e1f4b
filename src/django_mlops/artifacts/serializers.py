"""Turning values into bytes and back, choosing the format by type.

``serialize`` never touches the database: it is what the runner calls on the
hot path. The choice is exact-type based so that loading gives back the same
type: a tuple, a NumPy scalar or a dict with int keys would change on a JSON
round trip, so they go to joblib instead.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
from dataclasses import dataclass, field
from typing import Any

import joblib
import numpy as np

from .errors import SerializationError

__all__ = ["EXTENSIONS", "Serialized", "deserialize", "is_exact_json", "serialize"]

EXTENSIONS = {
    "json": "json",
    "npy": "npy",
    "parquet": "parquet",
    "joblib": "joblib",
    "bytes": "bin",
    "text": "txt",
    "skops": "skops",
}
_SERIES_COLUMN = "__mlops_series__"
_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True, slots=True)
class Serialized:
    """A value's bytes and how to read them back; ``preview`` is filled when computed."""

    data: bytes
    serializer: str
    type_name: str
    sha256: str
    preview: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def size(self) -> int:
        """Length of ``data`` in bytes."""
        return len(self.data)

    @property
    def extension(self) -> str:
        """File extension used for the storage name."""
        return EXTENSIONS[self.serializer]


def type_name(value: Any) -> str:
    """``module.QualName`` of the value's type (``builtins.`` left out)."""
    kind = type(value)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def is_exact_json(value: Any) -> bool:
    """Whether ``json.loads(json.dumps(value))`` gives back an equal value of the same types.

    Exact types only (``bool`` is fine, ``numpy.float64`` is not); dict keys must be
    ``str``. Cycles and very deep nesting answer False (RecursionError).
    """
    try:
        return _exact(value)
    except RecursionError:
        return False


def _exact(value: Any) -> bool:
    kind = type(value)
    if kind in _SCALARS:
        return True
    if kind is list:
        return all(type(v) in _SCALARS or _exact(v) for v in value)
    if kind is dict:
        return all(type(k) is str and (type(v) in _SCALARS or _exact(v)) for k, v in value.items())
    return False


def _pandas() -> Any:
    import sys

    # Only if the user's code already imported pandas: importing it costs ~0.3 s.
    return sys.modules.get("pandas")


def _has_pyarrow() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _to_parquet(value: Any, pd: Any) -> bytes | None:
    frame = value
    if isinstance(value, pd.Series):
        if value.name is not None and type(value.name) is not str:
            return None
        frame = value.to_frame(name=_SERIES_COLUMN if value.name is None else value.name)
    columns = list(frame.columns)
    # Parquet wants unique string column names; anything else would be renamed.
    if any(type(c) is not str for c in columns) or len(set(columns)) != len(columns):
        return None
    buffer = io.BytesIO()
    try:
        frame.to_parquet(buffer, engine="pyarrow")
    except Exception:  # types Arrow cannot express (mixed objects...): joblib takes them
        return None
    return buffer.getvalue()


def _encode(value: Any) -> tuple[bytes, str]:
    kind = type(value)
    if kind is bytes:
        return value, "bytes"
    if kind in _SCALARS or ((kind is list or kind is dict) and is_exact_json(value)):
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True)
        return text.encode(), "json"
    if kind is np.ndarray and not value.dtype.hasobject:
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        return buffer.getvalue(), "npy"
    pd = _pandas()
    if pd is not None and kind in (pd.DataFrame, pd.Series) and _has_pyarrow():
        data = _to_parquet(value, pd)
        if data is not None:
            return data, "parquet"
    buffer = io.BytesIO()
    try:
        joblib.dump(value, buffer)
    except Exception as exc:
        raise SerializationError(f"cannot store a value of type {type_name(value)}: {exc}") from exc
    return buffer.getvalue(), "joblib"


def serialize(value: Any, *, preview: bool = True) -> Serialized:
    """The bytes of ``value``, its serializer, type name, SHA-256 and (by default) preview.

    The preview is taken now, from the value as serialized, so a later mutation of
    the object cannot make it disagree with the stored bytes.

    >>> serialize({"b": 1, "a": [1.5, None]}).data
    b'{"a":[1.5,null],"b":1}'
    """
    data, serializer = _encode(value)
    digest = hashlib.sha256(data).hexdigest()
    shown: dict[str, Any] = {}
    if preview:
        from .previews import make_preview

        shown = make_preview(value)
    return Serialized(data, serializer, type_name(value), digest, shown)


def deserialize(data: bytes, serializer: str, type_name: str = "") -> Any:
    """The value encoded in ``data`` (the caller has verified the bytes' SHA-256)."""
    if serializer == "json":
        return json.loads(data)
    if serializer == "bytes":
        return bytes(data)
    if serializer == "text":
        return bytes(data).decode("utf-8")
    if serializer == "npy":
        return np.load(io.BytesIO(data), allow_pickle=False)
    if serializer == "parquet":
        pd = importlib.import_module("pandas")
        frame = pd.read_parquet(io.BytesIO(data), engine="pyarrow")
        if type_name.endswith("Series"):
            series = frame.iloc[:, 0]
            return series.rename(None if series.name == _SERIES_COLUMN else series.name)
        return frame
    if serializer == "joblib":
        # Pickle: safe only because the caller verified these are bytes we wrote.
        return joblib.load(io.BytesIO(data))
    if serializer == "skops":
        from ..registry.formats import load_skops  # trusted types come from the settings

        return load_skops(data)
    raise SerializationError(f"unknown serializer {serializer!r}")
