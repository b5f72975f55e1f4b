"""The inline executor: every node runs in the caller's thread, one at a time, in ``wait``.

Running in ``wait`` rather than ``submit`` keeps the Runner's loop the same for
every executor. Ctrl-C interrupts the running node directly.

A node's ``timeout`` is enforced everywhere:

* on the main thread, by ``SIGALRM`` (:mod:`.watchdog`): it interrupts a node
  blocked in a system call (``time.sleep``, a socket read) and pure Python code;
* elsewhere (``pipeline.run()`` from a worker thread, or where the program uses
  ``SIGALRM`` itself), a thread cannot be interrupted in C, so a timed node runs
  on a helper thread and the executor stops waiting for it at its timeout: the
  attempt fails "timed out", the run goes on, and a node stuck in C is left to
  finish in the background (its error says so; its late result is dropped).

A node's prints are captured and also shown (``tee``): they run in the user's process.
"""

from __future__ import annotations

import threading
from collections import deque

from .base import Executor, TaskOutcome, TaskSpec
from .task import run_task
from .watchdog import Guard, alarm_available

__all__ = ["InlineExecutor"]

# How often a wait on the helper thread looks for a cancel from another thread.
_CANCEL_POLL_SECONDS = 0.1


class InlineExecutor(Executor):
    """Runs tasks in this thread, in submission order; ``capacity`` is always 1."""

    name = "inline"
    #: The Runner may call node functions itself instead of going through
    #: submit/wait (``run/inline_loop.py``): same thread, same order, less work
    #: per node. A subclass that overrides ``submit`` or ``wait`` is really called.
    runs_in_caller = True

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.submit is not InlineExecutor.submit or cls.wait is not InlineExecutor.wait:
            cls.runs_in_caller = False

    def __init__(self, max_workers: int | None = None) -> None:
        super().__init__(max_workers)
        self.capacity = 1  # one thread runs one task at a time, whatever is asked
        self._queue: deque[TaskSpec] = deque()
        self._guard: Guard | None = None
        # For timed nodes where no alarm can stop them (see the module docstring).
        self._helper: Executor | None = None
        self._cancelled = threading.Event()

    def submit(self, task: TaskSpec) -> None:
        """Queue the task; it runs in the next :meth:`wait`."""
        self._queue.append(task)

    def wait(self, timeout: float | None = None) -> list[TaskOutcome]:
        """Run the queued tasks now and return their outcomes (``timeout`` cannot apply)."""
        queue = self._queue
        outcomes = []
        self._cancelled.clear()
        while queue:
            task = queue.popleft()
            if task.timeout is None:
                outcomes.append(run_task(task, tee=True))
                continue
            if not alarm_available():
                found = self._run_on_helper(task)
                if found is not None:
                    outcomes.append(found)
                continue
            self._guard = guard = Guard(alarm=True)
            try:
                outcomes.append(run_task(task, guard, tee=True))
            finally:
                self._guard = None
        return outcomes

    def _run_on_helper(self, task: TaskSpec) -> TaskOutcome | None:
        """Run ``task`` on the helper thread; its outcome, or None if the run was cancelled."""
        from .threads import ThreadExecutor

        if self._helper is None:
            self._helper = ThreadExecutor(1)
        helper = self._helper
        helper.submit(task)
        while not self._cancelled.is_set():
            found = helper.wait(_CANCEL_POLL_SECONDS)
            if found:
                return found[0]
        return None

    def cancel(self) -> None:
        """Drop queued tasks; stop a running one that has a timeout (from another thread)."""
        self._queue.clear()
        self._cancelled.set()
        guard = self._guard
        if guard is not None:
            guard.stop()
        if self._helper is not None:
            self._helper.cancel()

    def shutdown(self) -> None:
        """Drop queued tasks; let the helper thread (if any) end."""
        self._queue.clear()
        if self._helper is not None:
            self._helper.shutdown()
            self._helper = None
