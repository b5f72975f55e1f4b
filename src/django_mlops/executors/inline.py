"""The inline executor: every node runs in the caller's thread, one at a time, in ``wait``.

Running in ``wait`` rather than ``submit`` keeps the Runner's loop the same for
every executor. Timeouts stop pure-Python code through the watchdog (a call into
C finishes first); Ctrl-C interrupts the running node directly. A node's prints
are captured and also shown (``tee``): they run in the user's process.
"""

from __future__ import annotations

from collections import deque

from .base import Executor, TaskOutcome, TaskSpec
from .task import run_task
from .watchdog import Guard

__all__ = ["InlineExecutor"]


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

    def submit(self, task: TaskSpec) -> None:
        """Queue the task; it runs in the next :meth:`wait`."""
        self._queue.append(task)

    def wait(self, timeout: float | None = None) -> list[TaskOutcome]:
        """Run the queued tasks now and return their outcomes (``timeout`` cannot apply)."""
        queue = self._queue
        outcomes = []
        while queue:
            task = queue.popleft()
            if task.timeout is None:
                outcomes.append(run_task(task, tee=True))
                continue
            self._guard = guard = Guard()
            try:
                outcomes.append(run_task(task, guard, tee=True))
            finally:
                self._guard = None
        return outcomes

    def cancel(self) -> None:
        """Drop queued tasks; stop a running one that has a timeout (from another thread)."""
        self._queue.clear()
        guard = self._guard
        if guard is not None:
            guard.stop()

    def shutdown(self) -> None:
        """Drop queued tasks."""
        self._queue.clear()
