"""Step curves (metrics logged with ``step``) of several runs, downsampled on the server.

A 1,000-step curve of 50 runs would be 50,000 points in the browser; each curve
is cut to at most ``MAX_POINTS`` evenly spaced points, its first and last kept,
and says how many points it had.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..models import Metric

__all__ = ["MAX_POINTS", "Curve", "curve_keys", "downsample", "step_curves"]

MAX_POINTS = 500


@dataclass(frozen=True)
class Curve:
    """One run's curve of one metric: the points kept, and how many were logged."""

    run: int
    steps: tuple[int, ...]
    values: tuple[float, ...]
    total: int


def curve_keys(run_ids: Sequence[int]) -> list[str]:
    """The metric keys these runs logged with a step (their training curves)."""
    rows = Metric.objects.filter(run_id__in=run_ids, step__isnull=False).order_by()
    return sorted(rows.values_list("key", flat=True).distinct())


def downsample(points: list[tuple[int, float]], limit: int = MAX_POINTS) -> list[tuple[int, float]]:
    """At most ``limit`` evenly spaced points of a curve, its first and last kept."""
    if len(points) <= limit:
        return points
    stride = (len(points) - 1) / (limit - 1)
    return [points[round(i * stride)] for i in range(limit)]


def step_curves(run_ids: Sequence[int], key: str, limit: int = MAX_POINTS) -> list[Curve]:
    """Each run's curve of metric ``key`` by step, in the runs' order (runs without one: none)."""
    rows = (
        Metric.objects.filter(run_id__in=run_ids, key=key, step__isnull=False)
        .order_by("run_id", "step", "id")
        .values_list("run_id", "step", "value")
    )
    points: dict[int, list[tuple[int, float]]] = {i: [] for i in run_ids}
    for run_id, step, value in rows:
        if step is not None:  # always, by the query; mypy cannot know
            points[run_id].append((step, value))
    curves = []
    for run_id in run_ids:
        kept = downsample(points[run_id], limit)
        if kept:
            steps = tuple(p[0] for p in kept)
            values = tuple(p[1] for p in kept)
            curves.append(Curve(run_id, steps, values, len(points[run_id])))
    return curves
