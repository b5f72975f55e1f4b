"""The task panel of a run page: state, attempts, logs, outputs' previews, metrics, failure."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from ..models import Metric, ModelVersion, Run, TaskAttempt, TaskOutput
from ..records.live import current_task
from .access import VIEW_PERMISSION, requires
from .live import settled
from .pipelines import base_template_for
from .tracebacks import marked_traceback

__all__ = ["task_panel"]


def _attempts(task: Any) -> list[dict[str, Any]]:
    """Every attempt, oldest first: the failed ones' rows, then the task row's last one."""
    rows: list[dict[str, Any]] = [
        {
            "number": a.number,
            "started_at": a.started_at,
            "duration": a.duration,
            "host": a.host,
            "pid": a.pid,
            "error": a.error,
            "outcome": "failed",
        }
        for a in TaskAttempt.objects.filter(task=task).order_by("number")
    ]
    if task.attempts and task.attempts > len(rows):
        rows.append(
            {
                "number": task.attempts,
                "started_at": task.started_at,
                "duration": task.duration,
                "host": task.host,
                "pid": task.pid,
                "error": task.error,
                "outcome": task.state,
            }
        )
    return rows


@require_GET
@requires(VIEW_PERMISSION)
def task_panel(request: HttpRequest, run_id: int, node: str) -> HttpResponse:
    """One task of a run, as the side panel's fragment (a full page when asked directly)."""
    run = settled(get_object_or_404(Run, pk=run_id))
    task, running = current_task(run, node)
    if task is None:
        raise Http404(f"run {run.pk} has no task '{node}'")
    saved = task.pk is not None  # an attempt running before its row was written: no parts yet
    outputs = (
        list(TaskOutput.objects.filter(task=task).select_related("artifact").order_by("id"))
        if saved
        else []
    )
    metrics = (
        list(
            Metric.objects.filter(task=task)
            .order_by("key", "step", "id")
            .values("key", "value", "step", "reused")
        )
        if saved
        else []
    )
    logged = list(task.logged_artifacts.select_related("artifact").order_by("id")) if saved else []
    registered = (
        list(
            ModelVersion.objects.filter(task=task)
            .select_related("model")
            .order_by("model__name", "version")
        )
        if saved
        else []
    )
    context = {
        "model_versions": registered,
        "run": run,
        "task": task,
        "running": running,
        "elapsed": (timezone.now() - task.started_at).total_seconds()
        if running and task.started_at
        else None,
        # Where the live update goes on reading each log (characters, as the database counts).
        "cursors": {which: len(getattr(task, which)) for which in ("stdout", "stderr", "log")},
        "attempts": _attempts(task) if saved else [],
        "outputs": [(o.dataset, o.artifact) for o in outputs],
        "metrics": metrics,
        "logged": logged,
        "traceback": marked_traceback(task.traceback) if task.traceback else [],
        "base_template": base_template_for(request),
    }
    return render(request, "mlops/runs/_task.html", context)
