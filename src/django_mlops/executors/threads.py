"""The threads executor: a pool of worker threads, outcomes back through a queue.

Good for nodes that release the GIL (NumPy, scikit-learn, I/O). A node over its
timeout, or a cancelled one, gets an asynchronous exception. Pure Python code
stops at once and reports its timeout as usual; a thread still stuck in a C call
a moment later (``time.sleep``, a long NumPy kernel) cannot be stopped: the
attempt is reported failed then, saying so, and the thread is left to finish
that call (its late result is dropped) while a new thread takes its place. A
cancelled attempt is reported at once.

Nodes may use the Django ORM: Django opens one connection per thread, and a pool
thread closes the ones it opened when it stops (at shutdown, or when it leaves
after its abandoned task finally returns).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from functools import partial

from .base import Executor, TaskOutcome, TaskSpec, TaskTimeout
from .connections import close_thread_connections
from .task import CANCELLED_MESSAGE, Running, failed_outcome, run_task, timeout_message
from .watchdog import Guard

__all__ = ["ThreadExecutor"]

# How long shutdown waits for threads still unwinding a cancel or timeout (the
# exception arrives at their next bytecode), as the processes executor waits
# for its workers. A thread left running at interpreter exit keeps its task's
# frames, and through them the pipeline and its engine objects, alive for ever.
_STOP_GRACE_SECONDS = 1.0
# How long a timed-out thread gets to take its exception before it counts as stuck.
_TIMEOUT_GRACE_SECONDS = 0.25


def stuck_message(task: TaskSpec) -> str:
    """The error of an attempt whose thread could not be stopped at its timeout."""
    return (
        f"{timeout_message(task)}; its thread could not be stopped (it is blocked in a "
        f"call into C code) and is left to finish in the background"
    )


class _Job:
    __slots__ = ("done", "generation", "guard", "reported", "task")

    def __init__(self, task: TaskSpec, generation: int) -> None:
        self.task = task
        self.generation = generation
        self.guard: Guard | None = None
        self.reported = False  # an outcome was sent for it (set under the executor's lock)
        self.done = threading.Event()  # run_task returned


class ThreadExecutor(Executor):
    """Runs tasks on up to ``max_workers`` threads (default: the number of CPUs)."""

    name = "threads"

    def __init__(self, max_workers: int | None = None) -> None:
        super().__init__(max_workers)
        self.capacity = max_workers or os.cpu_count() or 1
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._outcomes: queue.SimpleQueue[tuple[int, TaskOutcome]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._generation = 0  # bumped by cancel: older outcomes are dropped
        self._workers = 0  # threads serving the queue (not counting abandoned ones)
        self._in_flight = 0  # submitted, outcome not yet sent
        self._pending = 0  # submitted, outcome not yet returned by wait
        self._running: set[_Job] = set()
        self._threads: list[threading.Thread] = []  # every thread started, for shutdown's join
        self._closed = False

    def submit(self, task: TaskSpec) -> None:
        """Queue the task; a thread is started when every existing one is busy."""
        if self._closed:
            raise RuntimeError("this executor has been shut down")
        with self._lock:
            job = _Job(task, self._generation)
            self._pending += 1
            self._in_flight += 1
            start = self._in_flight > self._workers and self._workers < self.capacity
            if start:
                self._workers += 1
        if start:
            thread = threading.Thread(target=self._serve, name="django-mlops-task", daemon=True)
            self._threads.append(thread)
            thread.start()
        self._jobs.put(job)

    def _serve(self) -> None:
        try:
            self._serve_jobs()
        finally:
            close_thread_connections()

    def _serve_jobs(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            with self._lock:
                if job.generation != self._generation:  # cancelled while queued
                    continue
                job.guard = Guard(partial(self._report_stopped, job))
                self._running.add(job)
            outcome = run_task(job.task, job.guard)
            job.done.set()
            with self._lock:
                self._running.discard(job)
                abandoned = job.reported
                if not abandoned:
                    job.reported = True
                    self._in_flight -= 1
            if abandoned:
                # Reported at its timeout or cancel; a new thread has this one's place.
                return
            self._outcomes.put((job.generation, outcome))

    def _report_stopped(self, job: _Job, guard: Guard) -> None:
        """A guard fired: a cancel is reported now, a timeout once the thread proves stuck."""
        if guard.fired_with is TaskTimeout:
            # Not here: this is the watchdog thread, which other deadlines wait for.
            check = threading.Timer(_TIMEOUT_GRACE_SECONDS, self._give_up, (job, guard))
            check.daemon = True
            check.start()
            return
        self._give_up(job, guard)

    def _give_up(self, job: _Job, guard: Guard) -> None:
        """Report the attempt as stopped and give its slot to a new thread (unless it ended)."""
        if job.done.is_set():
            return  # it took the exception: its own thread reports it
        task = job.task
        with self._lock:
            if job.reported:
                return
            job.reported = True
            self._in_flight -= 1
            self._workers -= 1
        running = guard.payload
        timed_out = guard.fired_with is TaskTimeout
        texts, context, started = ("", "", ""), None, None
        if isinstance(running, Running):
            texts, context, started = running.texts(), running.context, running.started_at
        outcome = failed_outcome(
            task,
            stuck_message(task) if timed_out else CANCELLED_MESSAGE,
            started_at=started,
            timed_out=timed_out,
            texts=texts,
            context=context,
        )
        self._outcomes.put((job.generation, outcome))

    def wait(self, timeout: float | None = None) -> list[TaskOutcome]:
        """Outcomes of finished tasks; blocks up to ``timeout`` seconds for the first."""
        if self._pending <= 0:
            return []
        deadline = None if timeout is None else time.monotonic() + timeout
        outcomes: list[TaskOutcome] = []
        while not outcomes:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                item = self._outcomes.get(timeout=remaining)
            except queue.Empty:
                return []
            self._take(item, outcomes)
            while True:  # whatever else is ready, without blocking
                try:
                    self._take(self._outcomes.get_nowait(), outcomes)
                except queue.Empty:
                    break
        return outcomes

    def _take(self, item: tuple[int, TaskOutcome], into: list[TaskOutcome]) -> None:
        generation, outcome = item
        if generation == self._generation:
            self._pending -= 1
            into.append(outcome)

    def cancel(self) -> None:
        """Drop queued tasks and raise ``TaskCancelled`` in the running ones."""
        with self._lock:
            self._generation += 1
            self._pending = 0
            running = list(self._running)
        for job in running:
            if job.guard is not None:
                job.guard.stop()
        with self._lock:
            # Queued jobs of the old generation are skipped by the threads that take them.
            self._in_flight = sum(1 for job in self._running if not job.reported)

    def shutdown(self) -> None:
        """Stop the threads, waiting a moment for those still unwinding a cancel.

        A thread stuck in a long C call is left to finish it (it is a daemon thread).
        """
        if self._closed:
            return
        self._closed = True
        with self._lock:
            workers = self._workers
        for _ in range(workers):
            self._jobs.put(None)
        deadline = time.monotonic() + _STOP_GRACE_SECONDS
        threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
