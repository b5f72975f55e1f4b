"""``runs/{id}/tasks``: a run's tasks, one task in full, and one output's preview.

Outputs are shown by their stored preview (``Artifact.preview``, made when the
value was stored); the API never opens an artifact's file, so no name a client
sends can lead it to read one.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.errors import HttpError

from ...models import Metric, TaskOutput, TaskRun
from ...records.live import current_task
from ..auth import require_permission
from ..errors import errors_for
from ..pagination import paginate
from ..schemas.common import Name, RunId, finite_or_none
from ..schemas.tasks import (
    TASK_LIST_FIELDS,
    OutputOut,
    TaskDetail,
    TaskFilters,
    TaskPage,
)
from .runs import get_run_or_404

__all__ = ["router"]

router = Router(tags=["tasks"])

_ARTIFACT_FIELDS = ("id", "sha256", "size", "serializer", "type_name", "preview")


def _can_read_tasks(request: HttpRequest) -> None:
    require_permission(request, "view_run", "see runs")
    require_permission(request, "view_taskrun", "see tasks")


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["reused_from_run"] = row.pop("reused_from__run_id")
    return row


def _outputs(rows: Any) -> list[dict[str, Any]]:
    return [
        {
            "dataset": row.dataset,
            "node": row.task.node,
            "artifact": {f: getattr(row.artifact, f) for f in _ARTIFACT_FIELDS},
        }
        for row in rows
    ]


def _producer_run(task: TaskRun) -> int | None:
    """The run whose task a cached task reused (without loading that task's texts)."""
    if task.reused_from_id is None:
        return None
    rows = TaskRun.objects.filter(pk=task.reused_from_id).values_list("run_id", flat=True)
    return rows.first()


def _output_rows(**where: Any) -> Any:
    # The artifact's bytes (``data``) are never loaded: only what describes them.
    return (
        TaskOutput.objects.filter(**where)
        .select_related("artifact", "task")
        .only("dataset", "task__node", *(f"artifact__{f}" for f in _ARTIFACT_FIELDS))
        .order_by("id")
    )


@router.get("/{run_id}/tasks", response={200: TaskPage, **errors_for(404)})
def list_tasks(request: HttpRequest, run_id: RunId, filters: Query[TaskFilters]) -> dict[str, Any]:
    """The run's tasks in pipeline order, without their logs (see the task itself)."""
    _can_read_tasks(request)
    run = get_run_or_404(run_id)
    tasks = run.task_runs.order_by("id")
    if filters.state is not None:
        tasks = tasks.filter(state=filters.state)
    # A run's tasks are counted exactly: at most a few 10,000s, on the (run, node) index.
    items, meta = paginate(tasks, filters, fields=TASK_LIST_FIELDS, exact_count=True)
    return {**meta, "items": [_summary(row) for row in items]}


@router.get("/{run_id}/tasks/{node}", response={200: TaskDetail, **errors_for(404)})
def get_task(request: HttpRequest, run_id: RunId, node: Name) -> dict[str, Any]:
    """One task: state, attempts, logs, error and traceback, outputs with previews, metrics.

    While an attempt runs, its state, start and logs are the live ones: what it
    printed so far (``live`` is true).
    """
    _can_read_tasks(request)
    run = get_run_or_404(run_id)
    task, live = current_task(run, node)
    if task is None:
        raise HttpError(404, f"run {run.pk} has no task for node '{node}'")
    if task.pk is None:  # running before its row was first written: nothing else yet
        return _running_only(task)
    metrics: dict[str, float | None] = {}
    rows = Metric.objects.filter(task=task).order_by("timestamp", "id").values_list("key", "value")
    for key, value in rows:
        metrics[key] = finite_or_none(value)
    attempts = task.failed_attempts.order_by("number").values(
        "number", "started_at", "finished_at", "duration", "host", "pid", "error", "traceback"
    )
    return {
        "node": task.node,
        "state": task.state,
        "attempts": task.attempts,
        "started_at": task.started_at,
        "finished_at": task.finished_at,
        "duration": task.duration,
        "reason": task.reason,
        "reason_detail": task.reason_detail,
        "error": task.error,
        "reused_from_run": _producer_run(task),
        "host": task.host,
        "pid": task.pid,
        "code_hash": task.code_hash,
        "key": task.key,
        "input_keys": task.input_keys or {},
        "reads": task.reads or {},
        "stdout": task.stdout,
        "stderr": task.stderr,
        "log": task.log,
        "traceback": task.traceback,
        "failed_attempts": list(attempts),
        "outputs": _outputs(_output_rows(task=task)),
        "metrics": metrics,
        "live": live,
    }


def _running_only(task: TaskRun) -> dict[str, Any]:
    """A task whose first attempt runs before the records wrote its row: the live part only."""
    return {
        "node": task.node,
        "state": task.state,
        "attempts": task.attempts,
        "started_at": task.started_at,
        "finished_at": None,
        "duration": None,
        "reason": "",
        "reason_detail": "",
        "error": "",
        "reused_from_run": None,
        "host": "",
        "pid": None,
        "code_hash": "",
        "key": "",
        "input_keys": {},
        "reads": {},
        "stdout": task.stdout,
        "stderr": task.stderr,
        "log": task.log,
        "traceback": "",
        "failed_attempts": [],
        "outputs": [],
        "metrics": {},
        "live": True,
    }


@router.get("/{run_id}/outputs/{dataset}", response={200: OutputOut, **errors_for(404)})
def get_output(request: HttpRequest, run_id: RunId, dataset: Name) -> dict[str, Any]:
    """The preview of one output of the run (shape, dtypes, head rows, stats)."""
    _can_read_tasks(request)
    run = get_run_or_404(run_id)
    found = _outputs(_output_rows(task__run=run, dataset=dataset)[:1])
    if not found:
        raise HttpError(404, f"run {run.pk} has no output '{dataset}'")
    return found[0]
