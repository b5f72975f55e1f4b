"""Runs side by side for the compare page: params and final metrics, what differs, the best.

Interim: the experiments package (``experiments.compare.compare_runs``, issue 13's other
half) takes this job over; the page reads only ``Side``/``Comparison`` so the switch is
local to ``compare_sides``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..models import Run
from .experiments_rows import final_metrics

__all__ = ["MAX_RUNS", "MIN_RUNS", "Comparison", "Side", "compare_sides", "direction_of"]

MIN_RUNS = 2
MAX_RUNS = 50
# A metric whose name holds one of these is better when smaller.
_SMALLER_IS_BETTER = ("loss", "error", "rmse", "mse", "mae", "mape", "perplexity", "time")


@dataclass(frozen=True)
class Side:
    """One param or metric across the runs: its values in run order, whether they differ.

    ``best`` holds the indexes (into the runs) of the best value, for metrics only.
    """

    key: str
    values: tuple[Any, ...]
    differs: bool
    best: frozenset[int] = frozenset()
    direction: str = ""


@dataclass(frozen=True)
class Comparison:
    """The runs in the order asked, with their params and metrics as ``Side`` rows."""

    runs: tuple[Run, ...]
    params: tuple[Side, ...]
    metrics: tuple[Side, ...]


def direction_of(metric: str) -> str:
    """``minimize`` for loss/error-like names (``val_loss``, ``rmse``), else ``maximize``."""
    name = metric.lower()
    return "minimize" if any(word in name for word in _SMALLER_IS_BETTER) else "maximize"


def _differs(values: Sequence[Any]) -> bool:
    return len({json.dumps(v, sort_keys=True, default=str) for v in values}) > 1


def _best(values: Sequence[Any], direction: str) -> frozenset[int]:
    numbers = [(i, v) for i, v in enumerate(values) if isinstance(v, int | float)]
    if len(numbers) < 2:
        return frozenset()
    pick = min if direction == "minimize" else max
    target = pick(v for _, v in numbers)
    return frozenset(i for i, v in numbers if v == target)


def compare_sides(runs: Sequence[Run]) -> Comparison:
    """Params and final metrics of the runs side by side (two queries for any count)."""
    metrics = final_metrics(r.pk for r in runs)
    param_keys = sorted({k for r in runs for k in (r.params or {})})
    metric_keys = sorted({k for r in runs for k in metrics[r.pk]})
    params = tuple(
        Side(k, values, _differs(values))
        for k in param_keys
        for values in [tuple((r.params or {}).get(k) for r in runs)]
    )
    sides = []
    for key in metric_keys:
        values = tuple(metrics[r.pk].get(key) for r in runs)
        direction = direction_of(key)
        sides.append(Side(key, values, _differs(values), _best(values, direction), direction))
    return Comparison(tuple(runs), params, tuple(sides))
