"""Run pages: the list, a run (live DAG, progress, timeline), its tasks, Cancel and Retry."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from ..discovery import pipeline_of_run
from ..errors import PipelineError, PipelineNotFound, RunError
from ..executors.live import STREAMS
from ..models import ModelVersion, Run, RunStatus, TaskRun
from ..pipeline import Pipeline, registered
from ..queue import enqueue_run
from ..records.liveness import settle_stale_runs
from ..run.reproduce import cancel_run
from .access import RUN_PERMISSION, VIEW_PERMISSION, can_run, requires
from .live import LIVE_STATUSES, estimate_seconds, progress, run_snapshot, settled, states_now
from .pictures import Drawing, drawing, group_states
from .timeline import build_timeline

__all__ = ["run_cancel", "run_detail", "run_list", "run_live", "run_retry", "run_timeline"]

RUNS_PER_PAGE = 50


def _pipeline_for(run: Run) -> Pipeline | None:
    """The pipeline the run executed, if it can be loaded here (else the page shows no DAG)."""
    current = registered(run.pipeline)
    if current is not None and (not run.source or current.source == run.source):
        return current
    try:
        return pipeline_of_run(run)
    except (PipelineNotFound, PipelineError):
        return None


def _run_or_404(run_id: int) -> Run:
    return get_object_or_404(Run.objects.select_related("created_by"), pk=run_id)


@require_GET
@requires(VIEW_PERMISSION)
def run_list(request: HttpRequest) -> HttpResponse:
    """Runs, newest first, filtered by pipeline and status, 50 a page."""
    settle_stale_runs()
    runs = Run.objects.select_related("created_by").order_by("-created_at", "-id")
    pipeline = request.GET.get("pipeline", "")
    status = request.GET.get("status", "")
    if pipeline:
        runs = runs.filter(pipeline=pipeline)
    if status:
        if status not in RunStatus.values:
            return render(
                request,
                "mlops/runs/list.html",
                {"nav": "runs", "bad_status": status, "statuses": RunStatus.values},
                status=400,
            )
        runs = runs.filter(status=status)
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "nav": "runs",
        "page": page,
        "pipeline": pipeline,
        "status": status,
        "statuses": RunStatus.values,
    }
    return render(request, "mlops/runs/list.html", context)


def _drawing_for(run: Run, pipeline: Pipeline | None, request: HttpRequest) -> Drawing | None:
    if pipeline is None:
        return None
    return drawing(pipeline, [e for e in request.GET.getlist("expand") if e])


@require_GET
@requires(VIEW_PERMISSION)
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """A run's page: the DAG by task state (kept current by ``run_live``), progress, timeline."""
    run = settled(_run_or_404(run_id))
    pipeline = _pipeline_for(run)
    picture = _drawing_for(run, pipeline, request)
    rows = list(
        TaskRun.objects.filter(run=run)
        .order_by("id")
        .values_list("node", "state", "started_at", "finished_at", "duration")
    )
    states, running = states_now(run, ordered=True)
    estimate = estimate_seconds(run.pipeline, exclude=run.pk)
    failed = [node for node, state, *_ in rows if state == "failed"]
    context: dict[str, Any] = {
        "nav": "runs",
        "run": run,
        "pipeline": pipeline,
        "picture": picture,
        "expand": request.GET.getlist("expand"),
        "states": states,
        "running": running,
        "initial": {
            "states": states,
            "groups": group_states(picture, states) if picture else {},
        },
        "progress": progress(run, states, estimate),
        "estimate": estimate,
        "live": run.status in LIVE_STATUSES,
        "timeline": build_timeline(pipeline, rows),
        "failed": failed,
        "open_node": request.GET.get("node") or (failed[0] if failed else ""),
        "can_run": can_run(request),
        "state_counts": _counts(states),
        "node_names": list(states),
        "model_versions": list(
            ModelVersion.objects.filter(run=run)
            .select_related("model")
            .order_by("model__name", "version")
        ),
        "previous": _previous_run_id(run),
        # ?mark=fit,evaluate outlines those steps (the "what changed" panel links here).
        "marked": [n for n in request.GET.get("mark", "").split(",") if n in states],
    }
    return render(request, "mlops/runs/detail.html", context)


def _previous_run_id(run: Run) -> int | None:
    """The id of the pipeline's run started just before this one (for "what changed")."""
    earlier = Q(created_at__lt=run.created_at) | Q(created_at=run.created_at, id__lt=run.pk)
    rows = Run.objects.filter(earlier, pipeline=run.pipeline).order_by("-created_at", "-id")
    return rows.values_list("pk", flat=True).first()


def _counts(states: dict[str, str]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for state in states.values():
        counts[state] = counts.get(state, 0) + 1
    return sorted(counts.items(), key=lambda item: -item[1])


@require_GET
@requires(VIEW_PERMISSION)
def run_live(request: HttpRequest, run_id: int) -> JsonResponse:
    """The one request a run page makes per update: every task's state, progress, open task."""
    run = get_object_or_404(Run, pk=run_id)
    pipeline = registered(run.pipeline)
    picture = None
    if pipeline is not None:
        picture = drawing(pipeline, [e for e in request.GET.getlist("expand") if e])
    estimate = None
    if request.GET.get("estimate"):
        try:
            estimate = float(request.GET["estimate"])
        except ValueError:
            estimate = None
    cursors = {}
    for which in STREAMS:
        text = request.GET.get(which, "0") or "0"
        if not text.isdigit() or len(text) > 12:
            return JsonResponse(
                {"error": f"'{which}' must be a character offset (a whole number >= 0)"},
                status=400,
            )
        cursors[which] = int(text)
    node = request.GET.get("node") or None
    snapshot = run_snapshot(run, picture, node=node, estimate=estimate, cursors=cursors)
    return JsonResponse(snapshot)


@require_GET
@requires(VIEW_PERMISSION)
def run_timeline(request: HttpRequest, run_id: int) -> HttpResponse:
    """The timeline as a fragment (the page reloads it when the run ends)."""
    run = _run_or_404(run_id)
    rows = list(
        TaskRun.objects.filter(run=run)
        .order_by("id")
        .values_list("node", "state", "started_at", "finished_at", "duration")
    )
    timeline = build_timeline(_pipeline_for(run), rows)
    return render(request, "mlops/runs/_timeline.html", {"run": run, "timeline": timeline})


@require_POST
@requires(VIEW_PERMISSION, RUN_PERMISSION)
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    """Ask the run to stop (a queued run is cancelled at once)."""
    run = _run_or_404(run_id)
    try:
        run = cancel_run(run)
    except RunError as exc:
        messages.error(request, str(exc))
        return redirect("mlops:run", run_id=run.pk)
    if run.status == "cancelled":
        messages.success(request, f"Run {run.pk} is cancelled.")
    else:
        messages.info(request, f"Run {run.pk} will stop after its running tasks finish.")
    return redirect("mlops:run", run_id=run.pk)


@require_POST
@requires(VIEW_PERMISSION, RUN_PERMISSION)
def run_retry(request: HttpRequest, run_id: int) -> HttpResponse:
    """Queue the run again with its params and selection; finished work is reused (cache on)."""
    original = _run_or_404(run_id)
    if original.status in LIVE_STATUSES:
        messages.error(request, f"Run {original.pk} is {original.status}: wait or cancel it first.")
        return redirect("mlops:run", run_id=original.pk)
    try:
        pipeline = pipeline_of_run(original)
    except PipelineNotFound as exc:
        messages.error(request, str(exc))
        return redirect("mlops:run", run_id=original.pk)
    selection: dict[str, Any] = original.selection or {}
    try:
        run = enqueue_run(
            pipeline,
            params=original.params,
            only=selection.get("only", ()),
            from_nodes=selection.get("from", ()),
            to_nodes=selection.get("to", ()),
            tags=selection.get("tags", ()),
            executor=original.executor,
            created_by=request.user,  # type: ignore[arg-type]
        )
    except (RunError, PipelineError) as exc:  # the pipeline changed since: params or nodes
        messages.error(request, f"cannot retry run {original.pk}: {exc}")
        return redirect("mlops:run", run_id=original.pk)
    Run.objects.filter(pk=run.pk).update(retry_of=original)
    messages.success(request, f"Run {run.pk} retries run {original.pk}, reusing finished work.")
    return redirect("mlops:run", run_id=run.pk)


def task_or_404(run: Run, node: str) -> TaskRun:
    """The run's task for ``node``, or 404."""
    task = TaskRun.objects.filter(run=run, node=node).first()
    if task is None:
        raise Http404(f"run {run.pk} has no task '{node}'")
    return task
