"""The compare page: 2 to 50 runs side by side, only what differs unless asked, and charts.

With exactly two runs the page also shows what changed between them
(``experiments.changes``), which links to both runs' DAGs with those nodes marked.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..experiments.changes import run_changes
from ..experiments.compare import compare_runs
from ..experiments.curves import curve_keys
from ..experiments.selection import MAX_RUNS, MIN_RUNS, RunsProblem, load_runs, parse_run_ids
from ..models import Run
from .access import VIEW_PERMISSION, requires
from .experiments_charts import chart_data

__all__ = ["experiment_changes", "experiment_compare"]


def _runs_or_problem(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    minimum: int = MIN_RUNS,
    maximum: int = MAX_RUNS,
) -> list[Run] | HttpResponse:
    """The runs asked for by ``?runs=``, or the page saying what is wrong (400 or 404)."""
    try:
        return load_runs(parse_run_ids(request.GET.getlist("runs"), minimum, maximum))
    except RunsProblem as exc:
        context["problem"] = str(exc)
        return render(request, template, context, status=404 if exc.missing else 400)


@require_GET
@requires(VIEW_PERMISSION)
def experiment_compare(request: HttpRequest) -> HttpResponse:
    """``?runs=1,2,3`` (``&all=1`` shows the rows that are equal too)."""
    template = "mlops/experiments/compare.html"
    context: dict[str, Any] = {"nav": "experiments"}
    runs = _runs_or_problem(request, template, context)
    if isinstance(runs, HttpResponse):
        return runs
    comparison = compare_runs(runs)
    show_all = request.GET.get("all") == "1"
    shown = comparison if show_all else comparison.differing()
    ids = [r.pk for r in runs]
    context.update(
        {
            "comparison": comparison,
            "ids": ",".join(str(i) for i in ids),
            "show_all": show_all,
            "params": shown.params,
            "metrics": shown.metrics,
            "hidden": sum(1 for s in (*comparison.params, *comparison.metrics) if not s.differs),
            "charts": chart_data(comparison),
            "curve_keys": curve_keys(ids),
            "pipelines": sorted({r.pipeline for r in comparison.runs}),
            "changes": run_changes(runs[0], runs[1]) if len(runs) == 2 else None,
        }
    )
    return render(request, template, context)


@require_GET
@requires(VIEW_PERMISSION)
def experiment_changes(request: HttpRequest) -> HttpResponse:
    """``?runs=A,B``: what changed from run A to run B, and which nodes B recomputed."""
    template = "mlops/experiments/changes.html"
    context: dict[str, Any] = {"nav": "experiments"}
    runs = _runs_or_problem(request, template, context, 2, 2)
    if isinstance(runs, HttpResponse):
        return runs
    context.update(
        {
            "changes": run_changes(runs[0], runs[1]),
            "ids": f"{runs[0].pk},{runs[1].pk}",
            "pipelines": sorted({r.pipeline for r in runs}),
        }
    )
    return render(request, template, context)
