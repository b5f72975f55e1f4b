"""The data behind the compare page's charts (drawn in the browser by Plotly).

The page embeds ``chart_data`` (small: one number per run and column) and fetches step
curves from ``experiment_curves`` when the user picks a metric, so a compare of 50 runs
with 1,000-step curves stays a small page. Curves are downsampled here, on the server,
to at most ``MAX_POINTS`` points per run, keeping the first and last step.
"""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from ..models import Metric
from .access import VIEW_PERMISSION, requires
from .experiments_ids import IdsProblem, run_ids_from
from .experiments_sides import Comparison

__all__ = ["MAX_POINTS", "chart_data", "curve_keys", "downsample", "experiment_curves"]

MAX_POINTS = 500


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def chart_data(comparison: Comparison) -> dict[str, Any]:
    """Runs, and every param and metric as a column of numbers (or labels) per run."""
    runs = [{"id": r.pk, "label": f"#{r.pk}"} for r in comparison.runs]
    columns: list[dict[str, Any]] = []
    for kind, sides in (("param", comparison.params), ("metric", comparison.metrics)):
        for side in sides:
            numbers = [_number(v) for v in side.values]
            numeric = all(
                n is not None or v is None for n, v in zip(numbers, side.values, strict=True)
            )
            columns.append(
                {
                    "key": f"{kind}s.{side.key}",
                    "label": side.key,
                    "kind": kind,
                    "varies": side.differs,
                    "numeric": numeric,
                    "direction": side.direction,
                    "values": numbers
                    if numeric
                    else ["" if v is None else str(v) for v in side.values],
                }
            )
    return {"runs": runs, "columns": columns}


def curve_keys(run_ids: list[int]) -> list[str]:
    """The metric keys these runs logged with a step (their training curves)."""
    rows = Metric.objects.filter(run_id__in=run_ids, step__isnull=False).order_by()
    return sorted(rows.values_list("key", flat=True).distinct())


def downsample(points: list[tuple[int, float]], limit: int = MAX_POINTS) -> list[tuple[int, float]]:
    """At most ``limit`` evenly spaced points of a curve, its first and last kept."""
    if len(points) <= limit:
        return points
    stride = (len(points) - 1) / (limit - 1)
    return [points[round(i * stride)] for i in range(limit)]


@require_GET
@requires(VIEW_PERMISSION)
def experiment_curves(request: HttpRequest) -> JsonResponse:
    """``?runs=1,2&key=loss``: each run's curve of ``key`` by step, downsampled."""
    try:
        ids = run_ids_from(request)
    except IdsProblem as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    key = request.GET.get("key", "")
    if not key:
        return JsonResponse({"error": "say which metric: ?key=<metric>"}, status=400)
    rows = (
        Metric.objects.filter(run_id__in=ids, key=key, step__isnull=False)
        .order_by("run_id", "step", "id")
        .values_list("run_id", "step", "value")
    )
    curves: dict[int, list[tuple[int, float]]] = {i: [] for i in ids}
    for run_id, step, value in rows:
        if step is not None:  # always, by the query; mypy cannot know
            curves[run_id].append((step, value))
    series = []
    for run_id in ids:
        points = downsample(curves[run_id])
        if points:
            series.append(
                {
                    "run": run_id,
                    "steps": [p[0] for p in points],
                    "values": [p[1] for p in points],
                    "total": len(curves[run_id]),
                }
            )
    return JsonResponse({"key": key, "series": series})
