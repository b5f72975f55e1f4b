"""The processes executor: a pool of worker processes talking over pipes.

Tasks are pickled (functions by reference: with the ``fork`` start method used
on Linux, functions of ``__main__`` and of test modules work) and run in a
worker with the same capture and tracking as in-process executors; the outcome,
with the return value and logged events, comes back pickled. Workers start on
demand, so they are forked after the pipeline's module is loaded.

A worker that dies (segfault, ``os._exit``, killed by the OOM killer) fails only
the node it was running and is replaced. A node over its timeout has its process
terminated. Output a node printed before its process died or was stopped is lost
with the process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import sys
import time
from collections import deque
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_ready
from typing import Any

from .base import Executor, TaskOutcome, TaskSpec
from .task import failed_outcome, run_task, timeout_message

__all__ = ["ProcessExecutor"]

_CONTEXT: Any = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
_STOP = b""  # sent to a worker to make it exit


def _dump_outcome(task: TaskSpec, outcome: TaskOutcome) -> bytes:
    """The outcome as bytes; a part that cannot be pickled fails the node, naming the part."""
    try:
        return pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
    try:
        pickle.dumps(outcome.value, pickle.HIGHEST_PROTOCOL)
    except Exception:
        error = (
            f"node '{task.node}' returned a {type(outcome.value).__name__} that cannot be "
            f"pickled to send it back from its worker process ({problem})"
        )
    else:
        error = f"node '{task.node}' logged a value that cannot be pickled ({problem})"
    kept = []
    for event in outcome.events:
        try:
            pickle.dumps(event, pickle.HIGHEST_PROTOCOL)
        except Exception:
            error += f"; dropped {event.kind} '{event.key}'"
            continue
        kept.append(event)
    outcome.ok, outcome.value, outcome.error, outcome.events = False, None, error, kept
    return pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)


def _worker_main(conn: Connection) -> None:
    """A worker's loop: receive a pickled task, run it, send the pickled outcome."""
    # Ctrl-C goes to the whole process group: the parent decides what to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a parent's handler must not survive the fork
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if data == _STOP:
            return
        try:
            task = pickle.loads(data)
        except Exception as exc:  # e.g. the function's module cannot be imported here
            conn.send_bytes(pickle.dumps(_unloadable(data, exc)))
            continue
        conn.send_bytes(_dump_outcome(task, run_task(task)))


def _unloadable(data: bytes, exc: BaseException) -> TaskOutcome:
    stub = TaskSpec(None, "?", 0, _unloadable, (), None)
    return failed_outcome(stub, f"the worker process cannot load the task: {exc}")


class _Worker:
    __slots__ = ("conn", "deadline", "process", "started", "task")

    def __init__(self) -> None:
        parent_end, child_end = _CONTEXT.Pipe(duplex=True)
        self.process = _CONTEXT.Process(
            target=_worker_main, args=(child_end,), name="django-mlops-worker", daemon=True
        )
        self.process.start()
        child_end.close()  # so the parent sees EOF when the worker dies
        self.conn = parent_end
        self.task: TaskSpec | None = None
        self.deadline: float | None = None
        self.started = 0.0  # wall-clock time the current task was sent

    def stop(self) -> None:
        """Terminate now, then kill if it does not go."""
        self.process.terminate()
        self.process.join(1.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()

    def death(self) -> str:
        """How the process ended, in words."""
        self.process.join(1.0)
        code = self.process.exitcode
        pid = self.process.pid
        if code is None:
            return f"process {pid} closed its pipe"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            hint = " (killed: out of memory?)" if -code == signal.SIGKILL else ""
            return f"process {pid} died with signal {name}{hint}"
        return f"process {pid} exited with code {code}"


class ProcessExecutor(Executor):
    """Runs tasks in up to ``max_workers`` worker processes (default: the number of CPUs)."""

    name = "processes"

    def __init__(self, max_workers: int | None = None) -> None:
        super().__init__(max_workers)
        self.capacity = max_workers or os.cpu_count() or 1
        self._idle: list[_Worker] = []
        self._busy: dict[Connection, _Worker] = {}
        self._queued: deque[tuple[TaskSpec, bytes]] = deque()
        self._ready: list[TaskOutcome] = []  # outcomes known without a worker

    def submit(self, task: TaskSpec) -> None:
        """Pickle the task and send it to an idle (or new) worker, or queue it."""
        try:
            data = pickle.dumps(task, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            self._ready.append(
                failed_outcome(
                    task,
                    f"cannot send node '{task.node}' to a worker process: its function or "
                    f"inputs cannot be pickled ({type(exc).__name__}: {exc})",
                )
            )
            return
        if self._idle or len(self._busy) < self.capacity:
            self._dispatch(task, data)
        else:
            self._queued.append((task, data))

    def _dispatch(self, task: TaskSpec, data: bytes) -> None:
        worker = self._idle.pop() if self._idle else _Worker()
        try:
            worker.conn.send_bytes(data)
        except OSError:  # it died while idle: use a fresh one
            worker.stop()
            worker = _Worker()
            worker.conn.send_bytes(data)
        worker.task = task
        worker.started = time.time()
        worker.deadline = None if task.timeout is None else time.monotonic() + task.timeout
        self._busy[worker.conn] = worker

    def _release(self, worker: _Worker, alive: bool) -> None:
        del self._busy[worker.conn]
        worker.task = worker.deadline = None
        if alive:
            self._idle.append(worker)
        if self._queued:
            self._dispatch(*self._queued.popleft())

    def wait(self, timeout: float | None = None) -> list[TaskOutcome]:
        """Outcomes of finished tasks; blocks up to ``timeout`` seconds for the first."""
        outcomes, self._ready = self._ready, []
        if outcomes or not self._busy:
            return outcomes
        until = None if timeout is None else time.monotonic() + timeout
        while True:
            now = time.monotonic()
            limits = [w.deadline for w in self._busy.values() if w.deadline is not None]
            if until is not None:
                limits.append(until)
            delay = max(0.0, min(limits) - now) if limits else None
            handles: list[Any] = [*self._busy, *(w.process.sentinel for w in self._busy.values())]
            ready = set(wait_ready(handles, delay))
            for worker in list(self._busy.values()):
                if worker.conn in ready or worker.process.sentinel in ready:
                    outcomes.append(self._collect(worker))
            now = time.monotonic()
            for worker in list(self._busy.values()):
                if worker.deadline is not None and now >= worker.deadline:
                    outcomes.append(self._time_out(worker))
            if outcomes or (until is not None and now >= until):
                return outcomes

    def _collect(self, worker: _Worker) -> TaskOutcome:
        task = worker.task
        assert task is not None
        try:
            if worker.conn.poll():
                outcome: TaskOutcome = pickle.loads(worker.conn.recv_bytes())
                # The parent's copy names the node even if the worker could not load the task.
                outcome.node, outcome.attempt = task.node, task.attempt
                outcome.node_id = task.node_id
                self._release(worker, alive=True)
                return outcome
        except (EOFError, OSError):
            pass
        # No outcome: the process is gone.
        error = f"WorkerCrashed: {worker.death()} while running node '{task.node}'"
        pid, started = worker.process.pid, worker.started
        worker.conn.close()
        self._release(worker, alive=False)
        return failed_outcome(task, error, crashed=True, pid=pid, started_at=started)

    def _time_out(self, worker: _Worker) -> TaskOutcome:
        task = worker.task
        assert task is not None
        started = worker.started
        pid = worker.process.pid
        worker.stop()
        self._release(worker, alive=False)
        return failed_outcome(
            task, timeout_message(task), timed_out=True, started_at=started, pid=pid
        )

    def cancel(self) -> None:
        """Terminate the workers running tasks and drop every queued task and outcome."""
        self._queued.clear()
        self._ready = []
        for worker in list(self._busy.values()):
            worker.stop()
        self._busy.clear()

    def shutdown(self) -> None:
        """Stop every worker process."""
        self.cancel()
        idle, self._idle = self._idle, []
        for worker in idle:
            with contextlib.suppress(OSError):  # already dead: joined below
                worker.conn.send_bytes(_STOP)
        for worker in idle:
            worker.process.join(1.0)
            if worker.process.is_alive():
                worker.stop()
            else:
                worker.conn.close()
