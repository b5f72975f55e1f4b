"""The data behind the compare page's charts (drawn in the browser by Plotly).

The page embeds ``chart_data`` (small: one number per run and column) and fetches step
curves from ``experiment_curves`` when the user picks a metric, so a compare of 50 runs
with 1,000-step curves stays a small page. Curves are downsampled on the server
(``experiments.curves``).
"""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from ..experiments.compare import Comparison
from ..experiments.curves import step_curves
from ..experiments.selection import RunsProblem, parse_run_ids
from .access import VIEW_PERMISSION, requires

__all__ = ["chart_data", "experiment_curves"]


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


@require_GET
@requires(VIEW_PERMISSION)
def experiment_curves(request: HttpRequest) -> JsonResponse:
    """``?runs=1,2&key=loss``: each run's curve of ``key`` by step, downsampled."""
    try:
        ids = parse_run_ids(request.GET.getlist("runs"))
    except RunsProblem as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    key = request.GET.get("key", "")
    if not key:
        return JsonResponse({"error": "say which metric: ?key=<metric>"}, status=400)
    series = [
        {"run": c.run, "steps": list(c.steps), "values": list(c.values), "total": c.total}
        for c in step_curves(ids, key)
    ]
    return JsonResponse({"key": key, "series": series})
