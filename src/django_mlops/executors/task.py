"""Running one attempt in the current thread: tracking context, capture, errors, outcome.

Every executor ends up here (in this thread, a pool thread or a worker process).
The path with ``capture=False`` and no guard is kept to a handful of calls: it is
the whole per-node overhead of the inline executor.
"""

from __future__ import annotations

import contextlib
import os
import site
import socket
import sysconfig
import time
import traceback
from pathlib import Path
from types import TracebackType

from .. import capture as capturing
from ..tracking import TaskContext, enter_task, leave_task
from . import live
from .base import TaskCancelled, TaskOutcome, TaskSpec, TaskTimeout
from .watchdog import Guard

__all__ = [
    "HOST",
    "current_pid",
    "exception_texts",
    "failed_outcome",
    "run_task",
    "skip_frames_of",
    "timeout_message",
]

HOST = socket.gethostname()
CANCELLED_MESSAGE = "TaskCancelled: the run was cancelled"

# getpid() is a system call, and system calls are slow under sandboxes such as
# gVisor (~10 us); the pid only changes in a forked child, which refreshes it.
_PID = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _PID.__setitem__(0, os.getpid()))

# Files whose frame, first in a traceback, is ours rather than the user's.
_OWN_FILES = {__file__}


def current_pid() -> int:
    """This process's id (cached; refreshed after a fork)."""
    return _PID[0]


def skip_frames_of(filename: str) -> None:
    """Leave a module's calling frame out of node tracebacks (another loop that calls nodes)."""
    _OWN_FILES.add(filename)


def timeout_message(task: TaskSpec) -> str:
    """The one-line error of an attempt stopped at its timeout."""
    return f"TaskTimeout: node '{task.node}' timed out: it exceeded its timeout of {task.timeout} s"


def _library_roots() -> tuple[str, ...]:
    """Folders whose code is not the user's: the standard library, installed packages, us."""
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    with contextlib.suppress(AttributeError):  # an old virtualenv's site module lacks it
        roots.update(site.getsitepackages())
    roots.add(site.getusersitepackages())
    roots.add(str(Path(__file__).resolve().parents[1]))  # the django_mlops package
    return tuple(os.path.join(os.path.realpath(r), "") for r in roots if r)


_LIBRARY_ROOTS = _library_roots()
_LIBRARY_FOLDERS = ("site-packages", "dist-packages")
_user_file_cache: dict[str, bool] = {}


def _is_user_file(filename: str) -> bool:
    """Whether a frame of this file is the user's code (not a library's nor ours)."""
    known = _user_file_cache.get(filename)
    if known is not None:
        return known
    if filename.startswith("<"):
        # "<frozen importlib._bootstrap>" is the standard library; "<string>",
        # "<stdin>" and "<ipython-input-...>" are what a user typed.
        mine = not filename.startswith("<frozen ")
    else:
        path = os.path.realpath(filename)
        mine = not path.startswith(_LIBRARY_ROOTS) and not any(
            part in _LIBRARY_FOLDERS for part in Path(path).parts
        )
    _user_file_cache[filename] = mine
    return mine


def _user_location(exc: BaseException) -> str:
    """`` (in fit, my_pipelines.py:31)`` when ``exc`` was raised inside a library called
    from user code: the innermost user frame says where in the user's code it failed.

    Empty when the exception was raised in the user's own code (the error's last
    traceback line already points there) or no user frame is on the way.
    """
    tb = exc.__traceback__
    user: TracebackType | None = None
    innermost_is_user = False
    while tb is not None:
        innermost_is_user = _is_user_file(tb.tb_frame.f_code.co_filename)
        if innermost_is_user:
            user = tb
        tb = tb.tb_next
    if user is None or innermost_is_user:
        return ""
    code = user.tb_frame.f_code
    return f" (in {code.co_name}, {os.path.basename(code.co_filename)}:{user.tb_lineno})"


def _error_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return line + _user_location(exc)


def _traceback_text(exc: BaseException) -> str:
    # Skip the calling loops' frames: the user's function is where the story starts.
    tb: TracebackType | None = exc.__traceback__
    while (
        tb is not None and tb.tb_next is not None and tb.tb_frame.f_code.co_filename in _OWN_FILES
    ):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def exception_texts(exc: Exception | SystemExit, node: str) -> tuple[str, str]:
    """``(error line, traceback)`` of an exception a node raised (not a stop by its guard)."""
    if isinstance(exc, SystemExit):  # sys.exit() in a node fails the node, not the whole run
        return f"SystemExit: node '{node}' called sys.exit({exc.code!r})", _traceback_text(exc)
    return _error_line(exc), _traceback_text(exc)


def failed_outcome(
    task: TaskSpec,
    error: str,
    *,
    traceback_text: str = "",
    started_at: float | None = None,
    timed_out: bool = False,
    crashed: bool = False,
    pid: int | None = None,
    texts: tuple[str, str, str] = ("", "", ""),
    context: TaskContext | None = None,
) -> TaskOutcome:
    """An outcome for an attempt that did not return (or could not be sent back)."""
    now = time.time()
    return TaskOutcome(
        node=task.node,
        attempt=task.attempt,
        ok=False,
        value=None,
        error=error,
        traceback=traceback_text,
        stdout=texts[0],
        stderr=texts[1],
        log=texts[2],
        started_at=now if started_at is None else started_at,
        finished_at=now,
        host=HOST,
        pid=_PID[0] if pid is None else pid,
        events=list(context.events) if context is not None else [],
        timed_out=timed_out,
        crashed=crashed,
        node_id=task.node_id,
    )


class Running:
    """What an attempt has made so far, for whoever reports it before it returns."""

    __slots__ = ("capture", "context", "started_at")

    def __init__(self, context: TaskContext, started_at: float) -> None:
        self.context = context
        self.started_at = started_at
        self.capture: capturing.Capture | None = None

    def texts(self) -> tuple[str, str, str]:
        """Captured ``(stdout, stderr, log)`` so far (best effort while still running)."""
        if self.capture is None:
            return ("", "", "")
        try:
            return self.capture.values()
        except RuntimeError:  # the task thread changed a buffer while we read it
            return ("", "", "")


def run_task(task: TaskSpec, guard: Guard | None = None, *, tee: bool = False) -> TaskOutcome:
    """Call ``task.func(*task.args)`` here and describe how it went.

    ``tee``: captured output also reaches the original streams as it is written
    (the inline executor, whose nodes run in the user's terminal process).

    With a ``guard`` the attempt can be stopped (timeout, cancel) by asynchronous
    exception; ``guard.payload`` receives a :class:`Running` for the reporter.
    ``KeyboardInterrupt`` is not caught: Ctrl-C belongs to the Runner.
    """
    context = TaskContext(task.run_id, task.node, task.attempt)
    started_at = time.time()
    running = Running(context, started_at) if guard is not None else None
    token = enter_task(context)
    capture = None
    capture_token = None
    if task.capture:
        capture, capture_token = capturing.start(tee=tee)
        if running is not None:
            running.capture = capture
    if guard is not None:
        guard.payload = running
    # On the board while it runs, for the live logs (records/live.py publishes them).
    on_board = None
    if capture is not None and task.run_id is not None:
        on_board = live.LiveAttempt(task.node, task.attempt, started_at, capture)
        live.begin(task.run_id, task.node_id, on_board)
    value = None
    error = tb_text = ""
    ok = False
    try:
        try:
            if guard is not None:
                guard.arm(task.timeout)
            value = task.func(*task.args)
            ok = True
        finally:
            if guard is not None and guard.disarm():
                ok = False  # stopped, even if the function swallowed the exception
    except (TaskTimeout, TaskCancelled) as exc:
        tb_text = _traceback_text(exc)
    except (SystemExit, Exception) as exc:
        error, tb_text = exception_texts(exc, task.node)
    finally:
        if capture_token is not None:
            capturing.stop(capture_token)
        if on_board is not None:
            live.end(task.run_id, task.node_id, on_board)
        leave_task(token)
    timed_out = False
    if guard is not None and guard.fired:
        ok = False  # also when the stop landed after the function returned
        timed_out = guard.fired_with is TaskTimeout
        error = timeout_message(task) if timed_out else CANCELLED_MESSAGE
    if not ok:
        value = None
    stdout, stderr, log = capture.values() if capture is not None else ("", "", "")
    return TaskOutcome(
        task.node,
        task.attempt,
        ok,
        value,
        error,
        tb_text,
        stdout,
        stderr,
        log,
        started_at,
        time.time(),
        HOST,
        _PID[0],
        context.events,
        timed_out,
        False,
        task.node_id,
    )
