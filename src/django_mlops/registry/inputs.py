"""How a checked batch of all-float records reaches the model: a DataFrame, or a pyarrow Table.

scikit-learn validates its input on every ``predict``; for a one-row pandas
DataFrame that validation (dtype checks through pandas, feature names through
narwhals) costs about twice what the same check costs on a pyarrow Table with
the same columns, and for a small model it is most of a request's time. Both
are turned into the same float array before the model computes, so the answer
is the same; but a model may be anything (a Pipeline with a custom transformer
that calls pandas methods, say), so this is never assumed: when a version is
loaded, :func:`input_builder` predicts a probe batch both ways and keeps the
Table only if the answers (and ``predict_proba``'s, when there is one) are
equal and the Table raised no error and no warning that the DataFrame did not.
Everything else, and every signature that is not all floats, gets a DataFrame
(its column index built once per version). ``MLOPS["PREDICT_ARROW_INPUTS"] =
False`` turns the Table off.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["InputBuilder", "frame_builder", "input_builder"]

logger = logging.getLogger("django_mlops.registry")

#: Rows of the probe batch: zeros, ones, minus ones, then seeded normal values.
_PROBE_ROWS = 16


@dataclass(frozen=True, slots=True)
class InputBuilder:
    """Turns a checked 2-D float block into the model's input, in the signature's column order.

    Made once per loaded version, so a request reads the columns and dtype from it
    instead of working them out of the signature again.
    """

    names: list[str]
    #: The one float dtype of every column ("float64", "float32").
    dtype: str
    #: The pandas column Index, built once (a DataFrame's columns cost as much as its data).
    index: Any
    #: True: a pyarrow Table (proven equivalent at load); False: a pandas DataFrame.
    arrow: bool = False

    def build(self, block: np.ndarray) -> Any:
        """The model's input holding ``block`` (rows by columns)."""
        if self.arrow:
            return _table(block, self.names)
        return importlib.import_module("pandas").DataFrame(block, columns=self.index, copy=False)


def frame_builder(signature: Mapping[str, Any]) -> InputBuilder | None:
    """A DataFrame builder for a DataFrame signature whose columns are all one float dtype."""
    if signature.get("kind") != "dataframe":
        return None
    columns: list[dict[str, Any]] = signature["columns"]
    dtypes = {c["dtype"] for c in columns}
    if len(dtypes) != 1 or any("categories" in c for c in columns):
        return None
    dtype = next(iter(dtypes))
    try:
        if np.dtype(dtype).kind != "f":
            return None
    except TypeError:  # a pandas-only dtype ("string", "category"...)
        return None
    names = [c["name"] for c in columns]
    return InputBuilder(names, dtype, importlib.import_module("pandas").Index(names))


def _table(block: np.ndarray, names: list[str]) -> Any:
    pa = importlib.import_module("pyarrow")
    rows = block.shape[0]
    # One arrow buffer for the whole block, column-major, then a zero-copy slice per column:
    # about half the cost of converting each column on its own.
    flat = pa.array(np.ascontiguousarray(block.T).ravel())
    return pa.Table.from_arrays(
        [flat.slice(i * rows, rows) for i in range(len(names))], names=names
    )


def _probe(width: int) -> np.ndarray:
    fixed = np.array([np.zeros(width), np.ones(width), -np.ones(width)])
    seeded = np.random.default_rng(0).normal(size=(_PROBE_ROWS - len(fixed), width))
    return np.vstack([fixed, seeded])


def _answers(
    model: Any, batch: Any, methods: list[str]
) -> tuple[list[np.ndarray] | None, list[str]]:
    """Each method's answer for ``batch`` (None on any error) and the warnings raised."""
    # catch_warnings swaps process-wide state: acceptable here, once per loaded version.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            found = [np.asarray(getattr(model, method)(batch)) for method in methods]
        except Exception:  # any failure means "not this way"
            found = None
    return found, [f"{w.category.__name__}: {w.message}" for w in caught]


def _same(left: list[np.ndarray], right: list[np.ndarray]) -> bool:
    return all(
        a.dtype == b.dtype
        and a.shape == b.shape
        and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        for a, b in zip(left, right, strict=True)
    )


def _arrow_is_equivalent(model: Any, frame: InputBuilder, table: InputBuilder, label: str) -> bool:
    methods = [m for m in ("predict", "predict_proba") if callable(getattr(model, m, None))]
    if "predict" not in methods:
        return False
    block = _probe(len(frame.names))
    expected, frame_warnings = _answers(model, frame.build(block), methods)
    if expected is None:
        return False  # the model does not take this batch at all: nothing to compare
    got, table_warnings = _answers(model, table.build(block), methods)
    new_warnings = [w for w in table_warnings if w not in frame_warnings]
    if got is None or new_warnings or not _same(expected, got):
        logger.info("%s takes a pandas DataFrame: a pyarrow Table answered differently", label)
        return False
    return True


def input_builder(model: Any, signature: Mapping[str, Any], label: str) -> InputBuilder | None:
    """How ``model`` takes an all-float batch of ``signature``; None for other signatures.

    A pyarrow Table when pyarrow is installed, ``MLOPS["PREDICT_ARROW_INPUTS"]``
    allows it and the probe (see the module docstring) shows the model answers
    a Table as it answers a DataFrame; else a DataFrame.
    """
    frame = frame_builder(signature)
    if frame is None or not _arrow_allowed():
        return frame
    table = dataclasses.replace(frame, arrow=True)
    return table if _arrow_is_equivalent(model, frame, table, label) else frame


def _arrow_allowed() -> bool:
    from ..conf import mlops_settings

    if not mlops_settings().PREDICT_ARROW_INPUTS:
        return False
    try:
        importlib.import_module("pyarrow")
    except ImportError:
        return False
    return True
