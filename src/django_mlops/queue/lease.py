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

import threading
from dataclasses import dataclass, field

from django.db import connections
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
