"""An example request body built from a version's signature: one record with a value per field.

The website's curl command and the DRF browsable API's form start from it, so a
user sees at once what a record looks like (the field names, a value of each
field's type) and can edit it into a real one. The values are neutral (0, 0.0,
false, the first category, an empty string), never data of the training set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["example_body", "example_record", "example_value"]

_EXAMPLE_TIME = "2024-01-01T00:00:00"


def example_value(dtype: str, categories: list[Any] | None = None) -> Any:
    """A value that a column of ``dtype`` (and ``categories``) accepts."""
    if categories:
        return categories[0]
    try:
        kind = np.dtype(dtype).kind
    except TypeError:  # pandas-only dtypes ("string", "category"...)
        kind = "O"
    return {"b": False, "i": 0, "u": 0, "f": 0.0, "M": _EXAMPLE_TIME}.get(kind, "")


def _nested(shape: list[int], value: Any) -> Any:
    if not shape:
        return value
    return [_nested(shape[1:], value) for _ in range(shape[0])]


def example_record(signature: Mapping[str, Any]) -> Any:
    """One input record of ``signature`` (None for a version without a signature).

    >>> example_record({"kind": "array", "shape": [None, 3], "dtype": "float64"})
    [0.0, 0.0, 0.0]
    """
    if signature.get("kind") == "dataframe":
        return {
            column["name"]: example_value(column["dtype"], column.get("categories"))
            for column in signature["columns"]
        }
    if signature.get("kind") == "array":
        row_shape = [int(n) for n in signature["shape"][1:] if n is not None]
        return _nested(row_shape, example_value(signature["dtype"]))
    return None


def example_body(signature: Mapping[str, Any]) -> dict[str, Any]:
    """A predict request body with one example record: ``{"inputs": [record]}``."""
    record = example_record(signature)
    return {"inputs": [] if record is None else [record]}
