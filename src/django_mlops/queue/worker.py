"""``mlops worker``: take queued runs and execute them, as many at once as allowed.

The main thread looks for work and handles signals; each claimed run executes
in a thread of its own through ``run_pipeline(run=..., lease=...)``, with the
run's executor. Between looks for work the worker takes over the runs whose
lease expired (``settle_stale_runs`` puts them back in the queue) and ends the
queued runs someone asked to cancel.

Signals: the first SIGTERM (or SIGINT, SIGHUP) lets the running nodes finish,
hands the rest of every run back to the queue and exits 0; a second one hands
the runs back at once (their running nodes run again elsewhere as a new
attempt) and exits 1 without waiting.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

from django.db import connections

from .claims import claim_next, worker_identity
from .lease import Lease, LeaseLost
from .notify import QueueListener

if TYPE_CHECKING:
    from ..models import Run

__all__ = ["Worker"]

logger = logging.getLogger("django_mlops.queue")

_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name)
)
# Pipelines are loaded from files by the run threads: one import at a time.
_LOADING = threading.Lock()
# How often the worker looks for expired leases and cancelled queued runs, at most.
_SETTLE_EVERY = 0.5
# Slices of an idle wait on the listener, so a stop signal is acted on promptly.
_LISTEN_SLICE = 0.25
_HARD_STOP_WAIT = 10.0


class Worker:
    """One ``mlops worker`` process's loop (see the module docstring)."""

    def __init__(
        self,
        *,
        concurrency: int,
        poll: float | None,
        burst: bool = False,
        once: bool = False,
        name: str = "",
        using: str = "default",
        say: Callable[[str], None] = print,
    ) -> None:
        self.concurrency = concurrency
        self.burst = burst or once
        self.max_runs = 1 if once else None
        self.name = worker_identity(name)
        self.using = using
        self.say = say
        self.listener = QueueListener(using) if QueueListener.available(using) else None
        self.poll = poll if poll is not None else (5.0 if self.listener else 0.1)
        self.active: dict[int, tuple[Lease, threading.Thread]] = {}
        self.claimed = 0
        self.stopping = threading.Event()
        self.wake = threading.Event()  # a run ended (a slot is free) or a signal came
        # Reentrant: the signal handler takes it, and may interrupt the main thread holding it.
        self._lock = threading.RLock()
        self._signals = 0
        self._last_settle = 0.0

    # The loop -------------------------------------------------------------------------

    def run(self) -> int:
        """Work until stopped (or, with ``burst``, until the queue is empty); the exit code."""
        previous = {s: signal.signal(s, self._on_signal) for s in _STOP_SIGNALS}
        how = "LISTEN/NOTIFY and a poll" if self.listener else "polling"
        self.say(
            f"worker {self.name} started (concurrency {self.concurrency}, {how} every "
            f"{self.poll:g} s)"
        )
        try:
            while not self.stopping.is_set():
                self._settle()
                took = self._fill()
                if self.burst and not took and not self.active:
                    break
                if self.max_runs is not None and self.claimed >= self.max_runs:
                    self._join()
                    break
                if not took or len(self.active) >= self.concurrency:
                    self._idle()
            self._join()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if self.listener is not None:
                self.listener.close()
            connections[self.using].close()
        self.say(f"worker {self.name} stopped")
        return 0

    def _settle(self) -> None:
        """Take over expired leases and end cancelled queued runs (at most every 0.5 s)."""
        from ..records.liveness import settle_stale_runs
        from .claims import cancel_queued_cancels

        now = time.monotonic()
        if now - self._last_settle < _SETTLE_EVERY:
            return
        self._last_settle = now
        try:
            for run_id in settle_stale_runs(self.using):
                self.say(f"run {run_id}: its worker stopped answering; back in the queue")
            cancel_queued_cancels(self.using)
        except Exception as exc:  # a busy database: the next round tries again
            logger.warning("worker %s: could not settle stale runs (%s)", self.name, exc)

    def _fill(self) -> bool:
        """Claim runs while there are free slots; whether any was claimed."""
        from .claims import queued_exists

        took = False
        while len(self.active) < self.concurrency and not self.stopping.is_set():
            if self.max_runs is not None and self.claimed >= self.max_runs:
                break
            try:
                # A read first: idle workers polling SQLite must not take its write lock.
                claimed = claim_next(self.name, self.using) if queued_exists(self.using) else None
            except Exception as exc:  # a busy or briefly gone database: the next look
                logger.warning("worker %s: could not claim (%s)", self.name, exc)
                connections[self.using].close_if_unusable_or_obsolete()
                return took
            if claimed is None:
                break
            self._start(*claimed)
            took = True
        return took

    def _start(self, run: Run, lease: Lease) -> None:
        if self.stopping.is_set():  # a stop signal came while this claim was made
            from ..records.liveness import requeue_run

            requeue_run(self.using, run.pk, lease.claim, f"worker {self.name} stopping")
            self.say(f"run {run.pk} handed back to the queue")
            return
        self.claimed += 1
        thread = threading.Thread(
            target=self._execute, args=(run, lease), name=f"mlops-run-{run.pk}", daemon=True
        )
        with self._lock:
            self.active[run.pk] = (lease, thread)
        resumed = f", resumed from {run.resumed_from}" if run.claims > 1 else ""
        self.say(f"run {run.pk} claimed ({run.pipeline}, claim {run.claims}{resumed})")
        thread.start()

    def _idle(self) -> None:
        """Wait for a notification, a free slot, a signal or the poll interval."""
        self.wake.clear()
        deadline = time.monotonic() + self.poll
        while not self.wake.is_set() and not self.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self.listener is not None and len(self.active) < self.concurrency:
                if self.listener.wait(min(left, _LISTEN_SLICE)):
                    return
            else:
                self.wake.wait(min(left, _LISTEN_SLICE))

    def _join(self) -> None:
        while True:
            with self._lock:
                threads = [thread for _, thread in self.active.values()]
            if not threads:
                return
            for thread in threads:
                thread.join(_LISTEN_SLICE)

    # One run --------------------------------------------------------------------------

    def _execute(self, run: Run, lease: Lease) -> None:
        """Execute one claimed run in this thread; whatever happens, free its slot."""
        from ..discovery import pipeline_of_run
        from ..run.runner import run_pipeline

        try:
            with _LOADING:
                pipeline = pipeline_of_run(run)
            selection = run.selection or {}
            result = run_pipeline(
                pipeline,
                run=run,
                lease=lease,
                params=run.params,
                only=selection.get("only", ()),
                from_nodes=selection.get("from", ()),
                to_nodes=selection.get("to", ()),
                tags=selection.get("tags", ()),
                executor=run.executor or None,
                no_cache=run.no_cache,
            )
            if result.status == "queued":
                self.say(f"run {run.pk} handed back to the queue")
            else:
                self.say(f"run {run.pk} {result.status}")
        except LeaseLost as exc:
            self.say(f"run {run.pk} abandoned: {exc}")
        except Exception as exc:  # the pipeline cannot be loaded: the run says why
            self._fail(lease, f"{type(exc).__name__}: {exc}")
            self.say(f"run {run.pk} failed: {exc}")
        finally:
            with self._lock:
                self.active.pop(run.pk, None)
            lease.close()
            self.wake.set()

    def _fail(self, lease: Lease, error: str) -> None:
        from django.utils import timezone

        from ..models import Run

        Run.objects.using(self.using).filter(
            pk=lease.run_id, status="running", claims=lease.claim
        ).update(status="failed", error=error, finished_at=timezone.now())

    # Signals --------------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        name = signal.Signals(signum).name
        if self._signals == 1:
            self.stopping.set()
            with self._lock:
                leases = [lease for lease, _ in self.active.values()]
            for lease in leases:
                lease.hand_back.set()
            self.wake.set()
            self.say(
                f"{name}: handing {len(leases)} run(s) back after their running nodes "
                f"finish; {name} again to stop at once"
            )
            return
        self._stop_hard(name)

    def _stop_hard(self, name: str) -> None:
        """Put every held run back in the queue now and exit 1 (its own thread and connection)."""
        from ..records.liveness import requeue_run

        with self._lock:
            leases = [lease for lease, _ in self.active.values()]

        def requeue() -> None:
            for lease in leases:
                reason = f"worker {self.name} stopped by {name}"
                try:
                    requeue_run(self.using, lease.run_id, lease.claim, reason)
                except Exception as exc:  # its lease expires and it is taken over anyway
                    logger.warning("run %s not handed back (%s)", lease.run_id, exc)
            connections[self.using].close()

        helper = threading.Thread(target=requeue, name="mlops-hard-stop")
        helper.start()
        helper.join(_HARD_STOP_WAIT)
        self.say(f"{name} again: {len(leases)} run(s) back in the queue; exiting")
        os._exit(1)
