"""``runs``: the recorded runs (filtered, ordered, paginated), one run, cancel and retry."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Status
from ninja.errors import HttpError

from ...errors import PipelineNotFound
from ...experiments.query import FilterError, apply_filter
from ...models import Run
from ...records.liveness import settle_stale_runs
from ...records.results import run_metrics
from ...run.reproduce import cancel_run, queue_retry
from ..auth import require_permission
from ..errors import errors_for, field_error, validation_error
from ..pagination import paginate
from ..schemas.common import RunId
from ..schemas.runs import (
    RUN_LIST_FIELDS,
    RunDetail,
    RunFilters,
    RunPage,
    run_detail,
    run_summary,
)

__all__ = ["get_run_or_404", "router", "task_counts"]

router = Router(tags=["runs"])

_FAILED_SHOWN = 20


def get_run_or_404(run_id: int) -> Run:
    """The run (settled first if its runner is gone), or a 404."""
    settle_stale_runs(run_ids=[run_id])
    run = Run.objects.select_related("created_by").filter(pk=run_id).first()
    if run is None:
        raise HttpError(404, f"no run with id {run_id}")
    return run


def task_counts(run: Run) -> dict[str, Any]:
    """The run's tasks by state: one GROUP BY, however many tasks, plus the failed names."""
    grouped = run.task_runs.order_by().values("state").annotate(n=Count("id"))
    by_state = {row["state"]: row["n"] for row in grouped}
    failed = []
    if by_state.get("failed"):
        rows = run.task_runs.filter(state="failed").order_by("id").values_list("node", flat=True)
        failed = list(rows[:_FAILED_SHOWN])
    return {"total": sum(by_state.values()), "by_state": by_state, "failed": failed}


def _filtered(filters: RunFilters) -> QuerySet[Run]:
    runs = Run.objects.all()
    if filters.pipeline is not None:
        runs = runs.filter(pipeline=filters.pipeline)
    if filters.status is not None:
        runs = runs.filter(status=filters.status)
    if filters.created_by is not None:
        runs = runs.filter(created_by__username=filters.created_by)
    if filters.created_after is not None:
        runs = runs.filter(created_at__gte=filters.created_after)
    if filters.created_before is not None:
        runs = runs.filter(created_at__lt=filters.created_before)
    if filters.filter:
        runs = _with_filter(runs, filters.filter)
    field = filters.ordering.lstrip("-")
    descending = filters.ordering.startswith("-")
    # id breaks ties in the same direction, so pages never overlap or skip a run.
    tie = "-id" if descending else "id"
    return runs.order_by(filters.ordering, tie) if field != "id" else runs.order_by(tie)


@router.get("", response={200: RunPage, **errors_for()})
def list_runs(request: HttpRequest, filters: Query[RunFilters]) -> dict[str, Any]:
    """Runs, newest first by default: filter by pipeline, status, who started them, dates."""
    require_permission(request, "view_run", "see runs")
    settle_stale_runs()  # nothing is listed running unless a live process holds it
    items, meta = paginate(_filtered(filters), filters, fields=RUN_LIST_FIELDS)
    return {**meta, "items": [run_summary(row) for row in items]}


def _with_filter(runs: QuerySet[Run], text: str) -> QuerySet[Run]:
    """Runs narrowed by the filter language; a mistake is a 422 pointing at it."""
    try:
        return apply_filter(runs, text)
    except FilterError as exc:
        entry = field_error(["query", "filter"], exc.message)
        entry["ctx"] = {"position": exc.position, "length": exc.length}
        raise validation_error([entry]) from None


@router.get("/{run_id}", response={200: RunDetail, **errors_for(404)})
def get_run(request: HttpRequest, run_id: RunId) -> dict[str, Any]:
    """A run: status, params, metrics, timings and its tasks counted by state."""
    require_permission(request, "view_run", "see runs")
    run = get_run_or_404(run_id)
    return run_detail(run, run_metrics(run), task_counts(run))


@router.post("/{run_id}/cancel", response={200: RunDetail, **errors_for(404, 409)})
def request_cancel(request: HttpRequest, run_id: RunId) -> dict[str, Any]:
    """Cancel a queued run at once, or ask a running one to stop (finished work is kept).

    A finished run cannot be cancelled (409).
    """
    require_permission(request, "run_pipeline", "cancel runs")
    run = cancel_run(get_run_or_404(run_id))
    return run_detail(run, run_metrics(run), task_counts(run))


@router.post("/{run_id}/retry", response={202: RunDetail, **errors_for(404, 409)})
def queue_run_retry(request: HttpRequest, run_id: RunId) -> Status[dict[str, Any]]:
    """Queue a retry of a finished run: same params and selection, finished work reused.

    409 when the run is still queued or running, or its pipeline cannot be loaded now.
    """
    user = require_permission(request, "run_pipeline", "retry runs")
    original = get_run_or_404(run_id)
    try:
        run = queue_retry(original, created_by=user)
    except PipelineNotFound as exc:
        raise HttpError(409, str(exc)) from None
    return Status(202, run_detail(run, {}, task_counts(run)))
