"""The processes executor: a pool of worker processes talking over pipes.

Tasks are pickled (functions by reference) and run in a worker with the same
capture and tracking as in-process executors; the outcome, with the return value
and logged events, comes back pickled. Workers start on demand, so they start
after the pipeline's module is loaded.

The start method is ``MLOPS["PROCESS_START_METHOD"]``: ``fork`` (the default on
Linux: fast, and functions of ``__main__`` and test modules work), or ``spawn`` /
``forkserver`` for libraries that break after a fork (CUDA, some BLAS builds).
A spawned worker imports the node functions' modules (pipeline files loaded by
``mlops run file.py:name`` included) and sets Django up with the parent's
settings, so nodes may use the ORM with every method. Workers die with their
parent, even one killed by SIGKILL.

A worker that dies (segfault, ``os._exit``, killed by the OOM killer) fails only
the node it was running and is replaced; a crash dump (faulthandler) is kept
with the failure rather than printed. A node over its timeout has its process
terminated. While a task runs its process sends the parent what it printed, every
``MLOPS["LIVE_SECONDS"]`` (for the live logs); that much of the output of a node
whose process died or was stopped is kept with its failure, the rest is lost with
the process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
import sys
import tempfile
import time
from collections import deque
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_ready
from typing import IO, Any

from . import live
from .base import Executor, TaskOutcome, TaskSpec
from .connections import DjangoSetup
from .task import failed_outcome, timeout_message
from .worker_process import STOP, InheritedFd, WorkerStart, file_modules, worker_main

__all__ = ["START_METHODS", "ProcessExecutor", "available_start_methods", "default_start_method"]

#: The start methods a user may choose (those this platform offers, of these).
START_METHODS = ("fork", "spawn", "forkserver")

# The dump of a crashed worker is cut before its list of extension modules,
# which says nothing about the node and runs to hundreds of names.
_DUMP_TAIL = "\nExtension modules:"


def default_start_method() -> str:
    """``fork`` on Linux (also after Python 3.14 moved its own default), else ``spawn``."""
    return "fork" if sys.platform.startswith("linux") else "spawn"


def _configured_start_method() -> str:
    """``MLOPS["PROCESS_START_METHOD"]`` when Django is configured, else the default."""
    if "django.conf" in sys.modules:
        from django.conf import settings

        if settings.configured:
            from ..conf import mlops_settings

            return mlops_settings().PROCESS_START_METHOD
    return default_start_method()


def available_start_methods() -> list[str]:
    """The :data:`START_METHODS` this platform offers."""
    return [m for m in START_METHODS if m in multiprocessing.get_all_start_methods()]


def _context(method: str) -> Any:
    offered = available_start_methods()
    if method not in offered:
        raise ValueError(
            f"process start method {method!r} is not available here; use one of "
            + ", ".join(repr(m) for m in offered)
        )
    return multiprocessing.get_context(method)


def _crash_log() -> IO[bytes] | None:
    # An anonymous file (unlinked at once): nothing is left behind, even when the
    # whole process tree is killed. os.pread reads it without moving the offset
    # the child shares under fork; platforms without pread keep the default.
    if not hasattr(os, "pread"):
        return None
    return tempfile.TemporaryFile(prefix="django-mlops-worker-")


class _Worker:
    __slots__ = ("conn", "crash_log", "deadline", "live", "process", "started", "task")

    def __init__(self, context: Any, death_signal: bool, live_seconds: float) -> None:
        parent_end, child_end = context.Pipe(duplex=True)
        self.crash_log = _crash_log()
        spawned = context.get_start_method() != "fork"
        start = WorkerStart(
            parent_pid=None if context.get_start_method() == "forkserver" else os.getpid(),
            crash_log=None if self.crash_log is None else InheritedFd(self.crash_log.fileno()),
            death_signal=death_signal,
            django=DjangoSetup.of_this_process() if spawned else None,
            files=file_modules() if spawned else {},
            live_seconds=live_seconds,
        )
        self.process = context.Process(
            target=worker_main, args=(child_end, start), name="django-mlops-worker", daemon=True
        )
        self.process.start()
        child_end.close()  # so the parent sees EOF when the worker dies
        self.conn = parent_end
        self.task: TaskSpec | None = None
        self.deadline: float | None = None
        self.started = 0.0  # wall-clock time the current task was sent
        #: The current task on this process's board, with the text the process sent.
        self.live: live.LiveAttempt | None = None

    def stop(self) -> None:
        """Terminate now, then kill if it does not go."""
        self.process.terminate()
        self.process.join(1.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.close()

    def close(self) -> None:
        """Release the pipe and the crash log (the process is gone or going)."""
        self.conn.close()
        if self.crash_log is not None:
            self.crash_log.close()
            self.crash_log = None

    def crash_dump(self) -> str:
        """What faulthandler wrote when the process crashed ("" if nothing)."""
        if self.crash_log is None:
            return ""
        data = os.pread(self.crash_log.fileno(), 1 << 20, 0)
        return data.decode(errors="replace").split(_DUMP_TAIL, 1)[0].strip()

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


def _received(worker: _Worker) -> tuple[str, str, str]:
    """What a worker's process sent of its task's output before it died or was stopped."""
    got = worker.live.received if worker.live is not None else None
    return (got[0], got[1], got[2]) if got else ("", "", "")


class ProcessExecutor(Executor):
    """Runs tasks in up to ``max_workers`` worker processes (default: the number of CPUs).

    ``start_method`` is ``"fork"``, ``"spawn"`` or ``"forkserver"``; ``None`` reads
    ``MLOPS["PROCESS_START_METHOD"]`` (without Django: ``fork`` on Linux, else
    ``spawn``). An unavailable method is a ``ValueError`` naming the ones there are.
    """

    name = "processes"

    #: Workers learn of their parent's death from Linux (PR_SET_PDEATHSIG) when
    #: possible; False makes them poll for it, as they do on other platforms.
    parent_death_signal = True

    def __init__(self, max_workers: int | None = None, *, start_method: str | None = None) -> None:
        super().__init__(max_workers)
        self.capacity = max_workers or os.cpu_count() or 1
        self.start_method = start_method or _configured_start_method()
        self._context = _context(self.start_method)
        self._idle: list[_Worker] = []
        self._busy: dict[Connection, _Worker] = {}
        self._queued: deque[tuple[TaskSpec, bytes]] = deque()
        self._ready: list[TaskOutcome] = []  # outcomes known without a worker
        self._live_seconds = live.configured_seconds()

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
        worker = self._idle.pop() if self._idle else self._new_worker()
        try:
            worker.conn.send_bytes(data)
        except OSError:  # it died while idle: use a fresh one
            worker.stop()
            worker = self._new_worker()
            worker.conn.send_bytes(data)
        worker.task = task
        worker.started = time.time()
        worker.deadline = None if task.timeout is None else time.monotonic() + task.timeout
        if task.capture and task.run_id is not None:
            worker.live = live.LiveAttempt(task.node, task.attempt, worker.started, remote=True)
            live.begin(task.run_id, task.node_id, worker.live)
        self._busy[worker.conn] = worker

    def _new_worker(self) -> _Worker:
        return _Worker(self._context, self.parent_death_signal, self._live_seconds)

    @staticmethod
    def _off_board(worker: _Worker) -> None:
        if worker.live is not None and worker.task is not None:
            live.end(worker.task.run_id, worker.task.node_id, worker.live)
        worker.live = None

    def _release(self, worker: _Worker, alive: bool) -> None:
        self._off_board(worker)
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
                    found = self._collect(worker)
                    if found is not None:  # None: only live text came
                        outcomes.append(found)
            now = time.monotonic()
            for worker in list(self._busy.values()):
                if worker.deadline is not None and now >= worker.deadline:
                    outcomes.append(self._time_out(worker))
            if outcomes or (until is not None and now >= until):
                return outcomes

    def _collect(self, worker: _Worker) -> TaskOutcome | None:
        task = worker.task
        assert task is not None
        texts = False
        try:
            while worker.conn.poll():
                message = pickle.loads(worker.conn.recv_bytes())
                if isinstance(message, live.LiveText):  # output so far, the task goes on
                    if worker.live is not None and message.attempt == task.attempt:
                        worker.live.receive(message.texts, message.cut)
                    texts = True
                    continue
                outcome: TaskOutcome = message
                # The parent's copy names the node even if the worker could not load the task.
                outcome.node, outcome.attempt = task.node, task.attempt
                outcome.node_id = task.node_id
                self._release(worker, alive=True)
                return outcome
            if texts and worker.process.is_alive():
                return None
        except (EOFError, OSError):
            pass
        # No outcome: the process is gone.
        error = f"WorkerCrashed: {worker.death()} while running node '{task.node}'"
        pid, started = worker.process.pid, worker.started
        dump = worker.crash_dump()
        printed = _received(worker)
        worker.close()
        self._release(worker, alive=False)
        return failed_outcome(
            task,
            error,
            traceback_text=dump,
            crashed=True,
            pid=pid,
            started_at=started,
            texts=printed,
        )

    def _time_out(self, worker: _Worker) -> TaskOutcome:
        task = worker.task
        assert task is not None
        started = worker.started
        pid = worker.process.pid
        printed = _received(worker)
        worker.stop()
        self._release(worker, alive=False)
        return failed_outcome(
            task,
            timeout_message(task),
            timed_out=True,
            started_at=started,
            pid=pid,
            texts=printed,
        )

    def cancel(self) -> None:
        """Terminate the workers running tasks and drop every queued task and outcome."""
        self._queued.clear()
        self._ready = []
        for worker in list(self._busy.values()):
            self._off_board(worker)
            worker.stop()
        self._busy.clear()

    def shutdown(self) -> None:
        """Stop every worker process."""
        self.cancel()
        idle, self._idle = self._idle, []
        for worker in idle:
            with contextlib.suppress(OSError):  # already dead: joined below
                worker.conn.send_bytes(STOP)
        for worker in idle:
            worker.process.join(1.0)
            if worker.process.is_alive():
                worker.stop()
            else:
                worker.close()
