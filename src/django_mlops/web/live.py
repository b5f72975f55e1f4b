"""What a run page needs to stay current, in one small answer: states, progress, the open task.

A run page asks for this once per update (``runs/<id>/live``), whatever the
number of tasks: one query for every task's state, one for the running attempts
(``records/live.py``: a live process's attempts, never a killed runner's), one
for the run, and for the open task its state and the new part of its logs,
from the cursors the page sends (at most ``LOG_CHUNK`` characters a stream).
The browser recolours the DAG from ``states`` and ``groups`` and stops asking
once ``live`` is false.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Avg
from django.utils import timezone

from ..models import Run, TaskRun
from ..records.live import FINAL_STATES, running_tasks, task_texts
from ..records.liveness import settle_stale_runs
from .pictures import Drawing, group_states

__all__ = ["FINISHED_STATES", "LIVE_STATUSES", "estimate_seconds", "progress", "run_snapshot"]

#: Run statuses of a run that is not over yet.
LIVE_STATUSES = frozenset({"queued", "running"})
#: Task states that will not change any more in this run.
FINISHED_STATES = FINAL_STATES
# How many recent successful runs of the same pipeline the estimate averages.
_ESTIMATE_RUNS = 20


def settled(run: Run) -> Run:
    """``run``, recorded failed first if it claims to be running but its runner is gone."""
    if run.status == "running" and settle_stale_runs(run_ids=[run.pk]):
        run.refresh_from_db()
    return run


def estimate_seconds(pipeline: str, exclude: int | None = None) -> float | None:
    """The mean duration of the pipeline's latest successful runs (None without any)."""
    done = Run.objects.filter(pipeline=pipeline, status="succeeded", duration__isnull=False)
    if exclude is not None:
        done = done.exclude(pk=exclude)
    recent = done.order_by("-created_at", "-id").values("pk")[:_ESTIMATE_RUNS]
    mean = Run.objects.filter(pk__in=recent).aggregate(mean=Avg("duration"))["mean"]
    return float(mean) if mean is not None else None


def elapsed_seconds(run: Run) -> float | None:
    """Seconds the run has taken so far (its duration once it is over)."""
    if run.duration is not None and run.status not in LIVE_STATUSES:
        return run.duration
    if run.started_at is None:
        return None
    end = run.finished_at or timezone.now()
    return max(0.0, (end - run.started_at).total_seconds())


def progress(run: Run, states: dict[str, str], estimate: float | None) -> dict[str, Any]:
    """done/total, elapsed and the estimated seconds left, as numbers and as words."""
    total = max(run.tasks_total, len(states))
    done = sum(1 for s in states.values() if s in FINISHED_STATES)
    elapsed = elapsed_seconds(run)
    left = None
    if estimate is not None and elapsed is not None and run.status in LIVE_STATUSES:
        left = max(0.0, estimate - elapsed)
    return {
        "done": done,
        "total": total,
        "percent": round(100.0 * done / total, 1) if total else 0.0,
        "elapsed": elapsed,
        "estimate": estimate,
        "left": left,
    }


def states_now(
    run: Run, *, ordered: bool = False
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Every task's state, the running attempts shown ``running``; and those attempts.

    The records write a task's row at their next flush (and an inline run's
    first rows only after its first node): a running attempt is shown running
    from the live rows until its row says how it ended. ``ordered``: in pipeline
    (row) order, for a page that lists them.
    """
    rows = TaskRun.objects.filter(run=run)
    if ordered:
        rows = rows.order_by("id")
    states = dict(rows.values_list("node", "state"))
    running = running_tasks(run)
    for name in running:
        if states.get(name) not in FINAL_STATES:
            states[name] = "running"
    return states, {
        name: {"attempt": info["attempt"], "elapsed": info["elapsed"]}
        for name, info in running.items()
    }


def run_snapshot(
    run: Run,
    drawing: Drawing | None,
    node: str | None = None,
    estimate: float | None = None,
    cursors: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The JSON answer of ``runs/<id>/live``; ``cursors``: where the open task's logs go on."""
    run = settled(run)
    states, running = states_now(run)
    answer: dict[str, Any] = {
        "id": run.pk,
        "status": run.status,
        "live": run.status in LIVE_STATUSES,
        "error": run.error,
        "cancel_requested": run.cancel_requested,
        "states": states,
        "running": running,
        "groups": group_states(drawing, states) if drawing is not None else {},
        "progress": progress(run, states, estimate),
    }
    if node:
        answer["task"] = task_texts(run, node, cursors)
    return answer
