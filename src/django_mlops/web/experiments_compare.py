"""The compare page: 2 to 50 runs side by side, only what differs unless asked, and charts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..models import Run
from .access import VIEW_PERMISSION, requires
from .experiments_charts import chart_data, curve_keys
from .experiments_ids import IdsProblem, run_ids_from
from .experiments_sides import compare_sides

__all__ = ["experiment_compare"]


@require_GET
@requires(VIEW_PERMISSION)
def experiment_compare(request: HttpRequest) -> HttpResponse:
    """``?runs=1,2,3`` (``&all=1`` shows the rows that are equal too)."""
    context: dict[str, Any] = {"nav": "experiments"}
    try:
        ids = run_ids_from(request)
    except IdsProblem as exc:
        context["problem"] = str(exc)
        return render(request, "mlops/experiments/compare.html", context, status=400)
    found = Run.objects.select_related("created_by").in_bulk(ids)
    missing = [i for i in ids if i not in found]
    if missing:
        context["problem"] = "no run " + ", ".join(f"#{i}" for i in missing)
        return render(request, "mlops/experiments/compare.html", context, status=404)
    comparison = compare_sides([found[i] for i in ids])
    show_all = request.GET.get("all") == "1"
    context.update(
        {
            "comparison": comparison,
            "ids": ",".join(str(i) for i in ids),
            "show_all": show_all,
            "params": [s for s in comparison.params if show_all or s.differs],
            "metrics": [s for s in comparison.metrics if show_all or s.differs],
            "hidden": sum(1 for s in (*comparison.params, *comparison.metrics) if not s.differs),
            "charts": chart_data(comparison),
            "curve_keys": curve_keys(ids),
            "pipelines": sorted({r.pipeline for r in comparison.runs}),
        }
    )
    return render(request, "mlops/experiments/compare.html", context)
