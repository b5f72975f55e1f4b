"""Runs side by side: params and final metrics, which differ, and the best value per metric.

One core for the compare page and ``GET api/experiments/compare``. The best value
follows the direction the runs' pipeline declares for the metric
(``Pipeline(metrics={...})``), or the guess from its name when none is declared
or the pipeline is not loaded in this process.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..metric_directions import Direction, declared_direction, guess_direction
from ..models import Run
from ..pipeline import registered
from .final import final_metrics

__all__ = ["Comparison", "Side", "compare_runs", "metric_direction"]


@dataclass(frozen=True)
class Side:
    """One param or metric across the runs: its values in run order, whether they differ.

    For metrics, ``best`` holds the indexes (into the runs) of the best value,
    ``direction`` which way is better and ``declared`` whether a pipeline said so.
    """

    key: str
    values: tuple[Any, ...]
    differs: bool
    best: frozenset[int] = frozenset()
    direction: Direction | None = None
    declared: bool = False


@dataclass(frozen=True)
class Comparison:
    """The runs in the order asked, with their params and metrics as ``Side`` rows."""

    runs: tuple[Run, ...]
    params: tuple[Side, ...]
    metrics: tuple[Side, ...]

    def differing(self) -> Comparison:
        """The same comparison with the rows whose values are all equal left out."""
        return Comparison(
            self.runs,
            tuple(s for s in self.params if s.differs),
            tuple(s for s in self.metrics if s.differs),
        )


def metric_direction(metric: str, pipelines: Sequence[str]) -> tuple[Direction, bool]:
    """(direction, declared): the first of ``pipelines`` that declares ``metric``, else a guess."""
    for name in pipelines:
        pipeline = registered(name)
        if pipeline is not None:
            direction = declared_direction(pipeline.metric_directions, metric)
            if direction is not None:
                return direction, True
    return guess_direction(metric), False


def _differs(values: Sequence[Any]) -> bool:
    return len({json.dumps(v, sort_keys=True, default=str) for v in values}) > 1


def _best(values: Sequence[Any], direction: Direction) -> frozenset[int]:
    numbers = [
        (i, v) for i, v in enumerate(values) if isinstance(v, int | float) and v == v
    ]  # v == v leaves NaN out: it is never the best
    if len(numbers) < 2:
        return frozenset()
    pick = min if direction == "minimize" else max
    target = pick(v for _, v in numbers)
    return frozenset(i for i, v in numbers if v == target)


def compare_runs(runs: Sequence[Run]) -> Comparison:
    """Params and final metrics of the runs side by side (one metrics query for any count)."""
    metrics = final_metrics(r.pk for r in runs)
    pipelines = list(dict.fromkeys(r.pipeline for r in runs))
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
        direction, declared = metric_direction(key, pipelines)
        best = _best(values, direction)
        sides.append(Side(key, values, _differs(values), best, direction, declared))
    return Comparison(tuple(runs), params, tuple(sides))
