"""The child side of the processes executor: what a worker process does.

A worker receives pickled tasks over its pipe, runs them and sends pickled
outcomes back. Before that it makes sure that it dies with its parent, that a
crash dump goes to the file its parent reads (not to the terminal), that its
database connections are its own, and, when spawned, that it can import the
pipeline files its parent loaded and set Django up the same way.
"""

from __future__ import annotations

import contextlib
import faulthandler
import importlib.abc
import importlib.machinery
import importlib.util
import os
import pickle
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing import reduction
from multiprocessing.connection import Connection
from types import ModuleType
from typing import Any

from . import live
from .base import TaskOutcome, TaskSpec
from .connections import DjangoSetup, close_thread_connections, forget_inherited_connections
from .task import failed_outcome, run_task

__all__ = ["STOP", "InheritedFd", "WorkerStart", "file_modules", "worker_main"]

STOP = b""  # sent to a worker to make it exit

# discovery.import_file loads a file whose stem is taken (or not an identifier)
# under this prefix; a spawned child cannot find such a module by name.
_FILE_MODULE_PREFIX = "_mlops_file_"

# How often the portable parent watch looks (seconds): a worker outlives its
# parent by at most this long where PR_SET_PDEATHSIG is not available.
PARENT_POLL_SECONDS = 0.5

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class InheritedFd:
    """A file descriptor handed to a worker process with any start method.

    Under ``fork`` the object is inherited as is; under ``spawn`` and
    ``forkserver`` it is pickled while the child starts, and multiprocessing
    duplicates the descriptor into the child.
    """

    __slots__ = ("fd",)

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (_rebuild_fd, (reduction.DupFd(self.fd),))


def _rebuild_fd(dup: Any) -> InheritedFd:
    return InheritedFd(dup.detach())


@dataclass(slots=True)
class WorkerStart:
    """Everything a worker needs before its first task, sent once at start."""

    #: The pid the worker must see as its parent, or ``None`` under forkserver (the
    #: server is the parent, and leaves with the executor's process).
    parent_pid: int | None
    #: Where the worker's crash dump (faulthandler) goes, or ``None``.
    crash_log: InheritedFd | None
    #: Kill the worker when its parent dies by PR_SET_PDEATHSIG (Linux) rather than polling.
    death_signal: bool = True
    #: Set for a child that starts without the parent's memory (spawn, forkserver).
    django: DjangoSetup | None = None
    #: Module name -> file, for pipeline files loaded under a derived name.
    files: dict[str, str] = field(default_factory=dict)
    #: Send a running task's new output to the parent this often (0: never).
    live_seconds: float = 0.0


def file_modules() -> dict[str, str]:
    """Pipeline files loaded under a derived module name, which a fresh process must map."""
    found = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if name.startswith(_FILE_MODULE_PREFIX) and path:
            found[name] = path
    return found


class _FileModuleFinder(importlib.abc.MetaPathFinder):
    """Finds the parent's file-loaded modules by their derived names."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        file = self.files.get(fullname)
        return None if file is None else importlib.util.spec_from_file_location(fullname, file)


def _set_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent dies; False where not possible."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    """The portable fallback: leave as soon as this process has a new parent."""
    while True:
        time.sleep(PARENT_POLL_SECONDS)
        if os.getppid() != parent_pid:
            os._exit(1)


def _let_forkserver_go() -> None:
    """Under forkserver: drop this worker's hold on the server's "alive" pipe.

    Every child of the server is handed the pipe's write end, and the server
    only leaves once all of them are closed; a worker that waits for its parent
    (the server) to die would wait forever. Without the hold, the server leaves
    with the executor's process and its death signal reaches the workers.
    The attribute is multiprocessing's own; None makes a nested use of
    forkserver in a node start a server of its own.
    """
    from multiprocessing import forkserver

    server: Any = getattr(forkserver, "_forkserver", None)
    fd = getattr(server, "_forkserver_alive_fd", None)
    if isinstance(fd, int):
        with contextlib.suppress(OSError):
            os.close(fd)
        server._forkserver_alive_fd = None


def _bind_to_parent(start: WorkerStart) -> None:
    if start.parent_pid is None:
        _let_forkserver_go()
    parent = start.parent_pid if start.parent_pid is not None else os.getppid()
    if not (start.death_signal and _set_death_signal()):
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    # The parent may have died before the death signal was armed: then nobody
    # would send it, and this process already has a new parent.
    if os.getppid() != parent:
        os._exit(1)


def _redirect_crash_dump(crash_log: InheritedFd | None) -> None:
    # Under fork the parent's faulthandler (pytest's, a user's) is inherited and
    # would print the dying worker's stacks to the terminal; the parent reads
    # this file instead and records the dump with the crash.
    if crash_log is None:
        if faulthandler.is_enabled():
            faulthandler.disable()
        return
    faulthandler.enable(file=crash_log.fd, all_threads=True)


def worker_main(conn: Connection, start: WorkerStart) -> None:
    """A worker's life: prepare, then receive a pickled task, run it, send the outcome."""
    _bind_to_parent(start)
    # Ctrl-C goes to the whole process group: the parent decides what to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a parent's handler must not survive the fork
    _redirect_crash_dump(start.crash_log)
    if start.files:
        sys.meta_path.append(_FileModuleFinder(start.files))
    if start.django is not None:
        start.django.apply()
    else:
        forget_inherited_connections()
    live.forget_all()  # a forked child must not report its parent's running attempts
    try:
        _serve(conn, start.live_seconds)
    finally:
        close_thread_connections()  # its own connections: a clean goodbye to the server


def _serve(conn: Connection, live_seconds: float = 0.0) -> None:
    # The pipe is shared by this thread's outcomes and the live sender's texts.
    sending = threading.Lock()
    if live_seconds > 0:
        threading.Thread(
            target=_send_live, args=(conn, sending, live_seconds), name="mlops-live", daemon=True
        ).start()
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if data == STOP:
            return
        try:
            task = pickle.loads(data)
        except Exception as exc:  # e.g. the function's module cannot be imported here
            conn.send_bytes(pickle.dumps(_unloadable(exc)))
            continue
        outcome = run_task(task)
        data = dump_outcome(task, outcome)
        with sending, contextlib.suppress(BrokenPipeError):
            conn.send_bytes(data)


def _send_live(conn: Connection, sending: threading.Lock, interval: float) -> None:
    """Every ``interval`` seconds, send the parent what the running task printed since.

    Under the pipe's lock, read and sent together: a text read before the task
    ended goes out before its outcome, so the parent never gets it after.
    """
    sent: dict[tuple[int, int], tuple[live.LiveAttempt, list[int]]] = {}
    while True:
        time.sleep(interval)
        with sending:
            seen = set()
            for run_id in live.runs_here():
                for node_id, attempt in live.running(run_id).items():
                    key = (run_id, node_id)
                    seen.add(key)
                    known = sent.get(key)
                    if known is None or known[0] is not attempt:
                        known = sent[key] = (attempt, [0, 0, 0])
                    offsets = known[1]
                    texts, cut = attempt.texts_since(offsets)
                    if not any(texts):
                        continue
                    message = live.LiveText(node_id, attempt.attempt, texts, cut)
                    try:
                        conn.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))
                    except OSError:  # the parent is gone: this process follows it
                        return
                    for index, text in enumerate(texts):
                        offsets[index] += len(text)
            for key in [k for k in sent if k not in seen]:
                del sent[key]


def _unloadable(exc: BaseException) -> TaskOutcome:
    stub = TaskSpec(None, "?", 0, _unloadable, (), None)
    return failed_outcome(stub, f"the worker process cannot load the task: {exc}")


def dump_outcome(task: TaskSpec, outcome: TaskOutcome) -> bytes:
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
