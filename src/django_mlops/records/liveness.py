"""Runs that are shown ``running`` only while a live process holds them.

The process that runs a run renews ``Run.heartbeat_at`` from a background thread
(:class:`Heartbeat`), so a node that computes for hours keeps its run alive. A
killed process (SIGKILL, ``os._exit``, a lost machine) stops renewing it, and
:func:`settle_stale_runs` records such runs as failed, with the reason ("its
runner stopped answering at 12:03:10"). Every command and query that lists or
acts on runs calls it first (the CLI, ``django_mlops.runs()``, and later the API,
the website and the worker). On the same host a dead process is recognised at
once, without waiting for its heartbeat to grow old.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Iterable

from django.db import DatabaseError, connections, router, transaction
from django.utils import timezone

from ..models import Run, TaskRun
from .rows import HOST

__all__ = ["Heartbeat", "runner_gone", "settle_stale_runs", "stopped_reason"]

logger = logging.getLogger("django_mlops.records")

_UNFINISHED_TASKS = ("pending", "ready", "running", "retrying")


def _alias(using: str | None) -> str:
    return using or router.db_for_write(Run) or "default"


class Heartbeat:
    """Renews a run's ``heartbeat_at`` every ``interval`` seconds until stopped.

    Its own thread and database connection: the run's thread may be inside a
    node for hours. A failed renewal (the database busy or briefly gone) is
    retried at the next beat; it is only logged.
    """

    def __init__(self, run_id: int, interval: float, using: str | None = None) -> None:
        self.run_id = run_id
        self.interval = interval
        self.using = _alias(using)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"mlops-heartbeat-{run_id}", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop renewing (the run is over, or another process takes over)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    Run.objects.using(self.using).filter(pk=self.run_id, status="running").update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError as exc:
                    logger.debug("run %s: heartbeat not written (%s)", self.run_id, exc)
        finally:
            connections[self.using].close()  # this thread's own connection


def runner_gone(host: str, pid: int | None) -> bool:
    """Whether the process that ran a run is known to be gone (only knowable on this host)."""
    if host != HOST or not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def stopped_reason(heartbeat: dt.datetime | None) -> str:
    """The error recorded on a run whose runner stopped: when it was last heard from."""
    if heartbeat is None:
        return "its runner stopped answering"
    local = timezone.localtime(heartbeat) if timezone.is_aware(heartbeat) else heartbeat
    return f"its runner stopped answering at {local:%H:%M:%S}"


def settle_stale_runs(
    using: str | None = None, *, run_ids: Iterable[int] | None = None, status: str = "failed"
) -> list[int]:
    """Record as ended the running runs whose runner is gone; return their ids.

    A run is taken for stopped when its heartbeat is older than
    ``MLOPS["RUN_STALE_SECONDS"]``, or when it ran on this host in a process that
    no longer exists. Such a run ends ``status`` (failed, or cancelled when a
    cancel asked for it) with the reason; its unfinished tasks end failed
    (running) or not started, so nothing is left shown as running.
    ``run_ids`` limits the check to those runs.
    """
    from ..conf import mlops_settings

    alias = _alias(using)
    cutoff = timezone.now() - dt.timedelta(seconds=mlops_settings().RUN_STALE_SECONDS)
    running = Run.objects.using(alias).filter(status="running")
    if run_ids is not None:
        running = running.filter(pk__in=list(run_ids))
    candidates = running.values_list("pk", "host", "pid", "heartbeat_at")
    stopped = {
        pk: heartbeat
        for pk, host, pid, heartbeat in candidates
        if (heartbeat is not None and heartbeat < cutoff) or runner_gone(host, pid)
    }
    for pk, heartbeat in stopped.items():
        _settle(alias, pk, heartbeat, status)
    return sorted(stopped)


def _settle(alias: str, pk: int, heartbeat: dt.datetime | None, status: str) -> None:
    reason = stopped_reason(heartbeat)
    with transaction.atomic(using=alias):
        # Conditional on "running": a runner that comes back to life, or another
        # process settling the same run, is not overwritten.
        changed = (
            Run.objects.using(alias)
            .filter(pk=pk, status="running")
            .update(status=status, error=reason, finished_at=heartbeat or timezone.now())
        )
        if not changed:
            return
        tasks = TaskRun.objects.using(alias).filter(run_id=pk)
        tasks.filter(state="running").update(state="failed", error=reason)
        tasks.filter(state__in=_UNFINISHED_TASKS).update(
            state="not_started", reason="not_started", reason_detail=reason
        )
