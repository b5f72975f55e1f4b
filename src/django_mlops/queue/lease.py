"""A worker's lease on a run it took from the queue: the claim it holds, and how it ends.

A claim makes ``Run.claims`` one higher; that number is the lease's fencing
token. While a worker executes the run, its heartbeat (``records.liveness``)
and every flush of its records (``records.writer``) write only where the row
still has ``status='running'`` and ``claims`` equal to the token. When they
find it otherwise (the lease expired and another worker took the run over, or
the run was settled), the lease is *lost*: the writer raises :class:`LeaseLost`
and the worker abandons the run without writing anything more.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.utils import timezone

__all__ = ["Lease", "LeaseLost"]


class LeaseLost(Exception):
    """The run is no longer this worker's: another worker holds it, or it was settled."""


@dataclass
class Lease:
    """One claim of one run by one worker.

    ``hand_back`` is set by the worker when it stops (SIGTERM): the run stops
    handing out nodes, lets the running ones finish and goes back to the queue.
    ``lost`` is set by whoever finds the claim no longer the worker's.
    """

    run_id: int
    claim: int
    worker: str
    using: str = "default"
    hand_back: threading.Event = field(default_factory=threading.Event)
    lost: threading.Event = field(default_factory=threading.Event)
    #: node name -> (attempt, epoch start) of the attempts running now.
    running: dict[str, tuple[int, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def node_started(self, node: str, attempt: int) -> None:
        """An attempt of ``node`` started (the heartbeat records it, see :meth:`beat`)."""
        with self._lock:
            self.running[node] = (attempt, time.time())

    def node_ended(self, node: str) -> None:
        """The attempt of ``node`` ended (its outcome goes through the writer)."""
        with self._lock:
            self.running.pop(node, None)

    def beat(self) -> bool:
        """The heartbeat: renew the lease and record the attempts running now.

        The writer records a node's start with its next flush, which may come only
        after a long node ends; a worker killed meanwhile would leave no sign that
        the attempt began. The heartbeat writes it: ``running`` with its attempt
        number, only over an unfinished row with fewer attempts (never over an
        outcome the writer committed). A worker that takes the run over then knows the
        attempt was made and counts the next one on. False when the lease is lost.
        """
        from ..models import TaskRun

        with self._lock:
            running = dict(self.running)
        with transaction.atomic(using=self.using):
            if not self.renew():
                return False
            tasks = TaskRun.objects.using(self.using).filter(
                # "running": an earlier claim's interrupted attempt, not yet reset.
                run_id=self.run_id,
                state__in=("pending", "ready", "retrying", "running"),
            )
            for node, (attempt, began) in running.items():
                tasks.filter(node=node, attempts__lt=attempt).update(
                    state="running",
                    attempts=attempt,
                    started_at=dt.datetime.fromtimestamp(began, tz=dt.UTC),
                    finished_at=None,
                )
        return True

    def renew(self) -> bool:
        """Renew the run's heartbeat if the claim is still ours; False (and ``lost``) if not.

        Runs in the caller's transaction when there is one: inside a flush, the
        row stays locked until the flush commits, so a takeover cannot slip in
        between this check and the writes that follow it.
        """
        from ..models import Run

        if self.lost.is_set():
            return False
        changed = (
            Run.objects.using(self.using)
            .filter(pk=self.run_id, status="running", claims=self.claim)
            .update(heartbeat_at=timezone.now())
        )
        if not changed:
            self.lost.set()
        return bool(changed)

    def fence(self) -> None:
        """Raise :class:`LeaseLost` unless the claim is still ours (renewing it)."""
        if not self.renew():
            raise LeaseLost(
                f"run {self.run_id}: claim {self.claim} of worker {self.worker} is no longer "
                "the run's (taken over or settled); abandoning it"
            )

    def close(self) -> None:
        """Close this thread's connection (the lease's thread is done with the database)."""
        connections[self.using].close()
