"""Runs that are shown ``running`` only while a live process holds them.

The process that runs a run renews ``Run.heartbeat_at`` from a background thread
(:class:`Heartbeat`), so a node that computes for hours keeps its run alive. A
killed process (SIGKILL, ``os._exit``, a lost machine) stops renewing it, and
:func:`settle_stale_runs` records such runs as failed, with the reason ("its
runner stopped answering at 12:03:10"). Every command and query that lists or
acts on runs calls it first (the CLI, ``django_mlops.runs()``, and later the API,
the website and the worker). On the same host a dead process is recognised at
once, without waiting for its heartbeat to grow old.

The same thread publishes the run's running attempts and their output so far
(``records/live.py``) every ``MLOPS["LIVE_SECONDS"]``; settling a run deletes
what a killed runner left of them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import DatabaseError, connections, router, transaction
from django.utils import timezone

from ..models import LiveTask, Run, TaskRun
from .rows import HOST

if TYPE_CHECKING:
    from ..queue.lease import Lease

__all__ = [
    "Heartbeat",
    "requeue_run",
    "runner_gone",
    "settle_stale_runs",
    "settle_tasks",
    "stopped_reason",
]

logger = logging.getLogger("django_mlops.records")

_UNFINISHED_TASKS = ("pending", "ready", "running", "retrying")


def _alias(using: str | None) -> str:
    return using or router.db_for_write(Run) or "default"


class Heartbeat:
    """Renews a run's ``heartbeat_at`` every ``interval`` seconds until stopped.

    Its own thread and database connection: the run's thread may be inside a
    node for hours. A failed renewal (the database busy or briefly gone) is
    retried at the next beat; it is only logged. With a queue ``lease`` the
    heartbeat is the lease's renewal (one mechanism): it stops, and marks the
    lease lost, when the run's claim is no longer the worker's.

    With ``live_seconds`` it also publishes the running attempts that often
    (:class:`~django_mlops.records.live.LivePublisher`), and deletes them when
    stopped.
    """

    def __init__(
        self,
        run_id: int,
        interval: float,
        using: str | None = None,
        lease: Lease | None = None,
        live_seconds: float | None = None,
    ) -> None:
        self.run_id = run_id
        self.interval = interval
        self.using = _alias(using)
        self.lease = lease
        self.live_seconds = live_seconds
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
        from .live import LivePublisher

        publisher = (
            LivePublisher(self.run_id, self.using, self.lease) if self.live_seconds else None
        )
        step = min(self.interval, self.live_seconds or self.interval)
        next_beat = time.monotonic() + self.interval
        try:
            while not self._stop.wait(step):
                if publisher is not None:
                    publisher.tick()
                if time.monotonic() < next_beat - step / 2:
                    continue
                next_beat = time.monotonic() + self.interval
                try:
                    if self.lease is not None:
                        # A run from the queue: renewed only while the claim is the
                        # worker's own; once lost, the writer abandons the run.
                        if not self.lease.beat():
                            return  # lost: its live rows are the new holder's now
                        continue
                    Run.objects.using(self.using).filter(pk=self.run_id, status="running").update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError as exc:
                    logger.debug("run %s: heartbeat not written (%s)", self.run_id, exc)
        finally:
            if publisher is not None:
                publisher.clear()  # not when the lease was lost: the rows are the new holder's
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
    candidates = running.values_list("pk", "host", "pid", "heartbeat_at", "claims")
    stopped = {
        pk: (heartbeat, claims)
        for pk, host, pid, heartbeat, claims in candidates
        if (heartbeat is not None and heartbeat < cutoff) or runner_gone(host, pid)
    }
    settled = []
    for pk, (heartbeat, claims) in stopped.items():
        if claims and status == "failed":
            # From the queue: its lease expired. Back to the queue, for another
            # worker (or the same one restarted) to resume; not failed.
            if requeue_run(alias, pk, claims, stopped_reason(heartbeat)):
                settled.append(pk)
        elif _settle(alias, pk, heartbeat, status):
            settled.append(pk)
    return sorted(settled)


def requeue_run(alias: str | None, pk: int, claim: int, reason: str) -> bool:
    """Put a running run from the queue back to ``queued``, if ``claim`` still holds it.

    Its records stay as they are: the worker that takes it next resumes it
    (finished nodes reused, an interrupted node run again as a new attempt). A
    run someone asked to cancel is cancelled instead (a cancel is never undone).
    Conditional on the claim: a worker that came back to life, or another
    process requeueing the same run, is not overwritten. True if it changed.
    """
    alias = _alias(alias)
    held = Run.objects.using(alias).filter(pk=pk, status="running", claims=claim)
    with transaction.atomic(using=alias):
        if held.filter(cancel_requested=False).update(status="queued"):
            LiveTask.objects.using(alias).filter(run_id=pk).delete()  # its runner is gone
            from ..queue.notify import notify_queued

            notify_queued(alias)
            return True
    last_heard = held.values_list("heartbeat_at", flat=True).first()
    return _settle(alias, pk, last_heard, "cancelled", claim=claim, reason=reason)


def _settle(
    alias: str,
    pk: int,
    heartbeat: dt.datetime | None,
    status: str,
    *,
    claim: int | None = None,
    reason: str = "",
) -> bool:
    reason = reason or stopped_reason(heartbeat)
    with transaction.atomic(using=alias):
        # Conditional on "running" (and on the claim, for a run from the queue): a
        # runner that comes back to life, or another process settling the same
        # run, is not overwritten.
        held = Run.objects.using(alias).filter(pk=pk, status="running")
        if claim is not None:
            held = held.filter(claims=claim)
        changed = held.update(status=status, error=reason, finished_at=heartbeat or timezone.now())
        if not changed:
            return False
        settle_tasks(alias, pk, reason)
        return True


def settle_tasks(alias: str, pk: int, reason: str) -> None:
    """End the unfinished tasks of an ended run: running ones failed, the rest not started."""
    LiveTask.objects.using(alias).filter(run_id=pk).delete()  # nothing of it runs any more
    tasks = TaskRun.objects.using(alias).filter(run_id=pk)
    tasks.filter(state="running").update(state="failed", error=reason)
    tasks.filter(state__in=_UNFINISHED_TASKS).update(
        state="not_started", reason="not_started", reason_detail=reason
    )
