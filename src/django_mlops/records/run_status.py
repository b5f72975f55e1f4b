"""A run's status at its end: finished (with timings and error) or handed back to the queue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..models import Run

if TYPE_CHECKING:
    from ..pipeline import Pipeline

__all__ = ["save_status"]


def save_status(
    using: str, run: Run, pipeline: Pipeline, states: Sequence[str], status: str, error: str
) -> None:
    """Save ``run``'s final ``status`` (``queued``: handed back) in the caller's transaction.

    Without an error, a run with failed tasks names them. A hand-back never undoes
    a cancel asked for meanwhile: the run is recorded cancelled instead.
    """
    if status == "queued":  # handed back to the queue: not finished, nothing failed
        from ..queue.notify import notify_queued
        from .liveness import settle_tasks

        runs = Run.objects.using(using).filter(pk=run.pk)
        if runs.filter(cancel_requested=False).update(status="queued", error=""):
            run.status, run.error = "queued", ""
            notify_queued(using)
            return
        settle_tasks(using, run.pk, "cancelled")
        status = "cancelled"
    finished = dt.datetime.now(tz=dt.UTC)
    run.status = status
    run.finished_at = finished
    if run.started_at is not None:
        run.duration = (finished - run.started_at).total_seconds()
    if not error and "failed" in states:
        names = pipeline.columns.names
        error = "failed: " + ", ".join(names[i] for i, s in enumerate(states) if s == "failed")
    run.error = error
    run.save(using=using, update_fields=["status", "finished_at", "duration", "error"])
