"""Per-task capture of stdout, stderr and logging records.

``sys.stdout`` and ``sys.stderr`` are replaced once by :class:`StreamRouter`
proxies that send each write to the buffers of the task running in the current
context (a context variable, so concurrent tasks on different threads never mix
their output) and everything else to the original stream. A logging handler on
the root logger does the same for log records. Only Python-level writes are
seen: output written by C code straight to file descriptor 1 or 2 is not.

The logging configuration is respected: a record the logger's level filters out
(``INFO`` under the default ``WARNING`` root level) never reaches the handler.

Buffers are bounded: past ``limit`` characters the head and the tail are kept
and the text says how much was dropped in between.

A capture made with ``tee=True`` also lets the writes through to the original
stream as they happen (the inline executor: a node's prints show on the
terminal while it runs, and are recorded). A display that owns the terminal
(the CLI's live progress line) can take those writes with :func:`set_echo` to
keep its own line out of their way.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import TextIO

__all__ = [
    "DEFAULT_LIMIT",
    "BoundedText",
    "Capture",
    "Echo",
    "StreamRouter",
    "enter",
    "install",
    "leave",
    "set_echo",
    "start",
    "stop",
]

#: Characters kept per stream and task by default (half head, half tail).
DEFAULT_LIMIT = 1_000_000


class BoundedText:
    """A text buffer that keeps its first and last ``limit // 2`` characters."""

    __slots__ = ("_head", "_head_left", "_tail", "_tail_limit", "_tail_size", "dropped")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._head: list[str] = []
        self._head_left = limit - limit // 2
        self._tail: deque[str] = deque()
        self._tail_size = 0
        self._tail_limit = limit // 2
        self.dropped = 0  # characters thrown away between head and tail

    def write(self, text: str) -> int:
        """Append ``text``; return its length (the ``io`` convention)."""
        size = len(text)
        if self._head_left > 0:
            taken = text[: self._head_left]
            self._head.append(taken)
            self._head_left -= len(taken)
            text = text[len(taken) :]
            if not text:
                return size
        self._tail.append(text)
        self._tail_size += len(text)
        # Trim whole chunks first, then cut into the oldest one.
        while self._tail_size > self._tail_limit:
            extra = self._tail_size - self._tail_limit
            oldest = self._tail[0]
            if len(oldest) <= extra:
                self._tail.popleft()
                self._tail_size -= len(oldest)
                self.dropped += len(oldest)
            else:
                self._tail[0] = oldest[extra:]
                self._tail_size -= extra
                self.dropped += extra
        return size

    def head_since(self, offset: int) -> tuple[str, bool]:
        """The head's text from character ``offset`` on, and whether the head is full.

        The head never changes once written, so a reader that follows a running
        task (the live logs) can take it piece by piece; what comes after a full
        head may be dropped later, so it is only shown once the task has ended.
        """
        return "".join(self._head)[offset:], self._head_left <= 0

    def getvalue(self) -> str:
        """The kept text, with a marker where characters were dropped."""
        head = "".join(self._head)
        if not self._tail:
            return head
        marker = f"\n[... {self.dropped} characters dropped ...]\n" if self.dropped else ""
        return head + marker + "".join(self._tail)


class Capture:
    """The three buffers of one task, made on first write.

    Most nodes print nothing: creating the buffers lazily keeps a capture to one
    small object, so a recorded run can afford one per task.
    """

    __slots__ = ("limit", "log", "stderr", "stdout", "tee", "written")

    def __init__(self, limit: int = DEFAULT_LIMIT, *, tee: bool = False) -> None:
        self.limit = limit
        #: Also write through to the original stream (shown as well as captured).
        self.tee = tee
        self.stdout: BoundedText | None = None
        self.stderr: BoundedText | None = None
        self.log: BoundedText | None = None
        # A plain attribute, not a property: a loop capturing many tasks reads it
        # after each one.
        self.written = False

    def buffer(self, which: str) -> BoundedText:
        """The ``stdout``, ``stderr`` or ``log`` buffer, created if needed."""
        found: BoundedText | None = getattr(self, which)
        if found is None:
            found = BoundedText(self.limit)
            setattr(self, which, found)
            self.written = True
        return found

    @property
    def used(self) -> bool:
        """Whether anything was written."""
        return self.written

    def take(self) -> tuple[str, str, str]:
        """``values()``, then start empty again (the next task reuses this capture)."""
        texts = self.values()
        self.stdout = self.stderr = self.log = None
        self.written = False
        return texts

    def values(self) -> tuple[str, str, str]:
        """``(stdout, stderr, log)`` as text."""
        return (
            "" if self.stdout is None else self.stdout.getvalue(),
            "" if self.stderr is None else self.stderr.getvalue(),
            "" if self.log is None else self.log.getvalue(),
        )


_current: ContextVar[Capture | None] = ContextVar("django_mlops_capture", default=None)

#: Writes a teed text: ``(original stream, text)``.
Echo = Callable[[TextIO, str], None]


def _write_through(stream: TextIO, text: str) -> None:
    stream.write(text)
    stream.flush()  # shown as it happens, not when a buffer fills


_echo: list[Echo] = [_write_through]


def set_echo(echo: Echo | None) -> Echo:
    """Route teed writes through ``echo`` (None: straight to the stream); return the previous."""
    previous = _echo[0]
    _echo[0] = echo or _write_through
    return previous


class StreamRouter(io.TextIOBase):
    """Stands in for ``sys.stdout``/``sys.stderr``: writes go to the current task's buffer."""

    def __init__(self, original: TextIO, which: str) -> None:
        super().__init__()
        self.original = original
        self._which = which  # "stdout" or "stderr"

    def write(self, text: str) -> int:
        """Write to the current task's buffer, or to the original stream outside a task."""
        capture = _current.get()
        if capture is None:
            return self.original.write(text)
        if capture.tee:
            # A closed terminal must not fail the node: the text is still captured.
            with contextlib.suppress(OSError, ValueError):
                _echo[0](self.original, text)
        return capture.buffer(self._which).write(text)

    def flush(self) -> None:
        """Flush the original stream (task buffers need no flushing)."""
        if _current.get() is None:
            self.original.flush()

    def isatty(self) -> bool:
        """A task's output is not a terminal; outside tasks, ask the original stream."""
        return _current.get() is None and self.original.isatty()

    def fileno(self) -> int:
        """The original stream's descriptor (for code that needs a real file)."""
        return self.original.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        """The original stream's encoding."""
        return getattr(self.original, "encoding", None) or "utf-8"

    def writable(self) -> bool:
        """Always writable."""
        return True


class _TaskLogHandler(logging.Handler):
    """Sends log records made inside a task to that task's ``log`` buffer."""

    def emit(self, record: logging.LogRecord) -> None:
        capture = _current.get()
        if capture is None:
            # Our handler hides logging's "last resort" (warnings printed to stderr
            # when nothing is configured); stand in for it outside tasks.
            last = logging.lastResort
            if last is not None and record.levelno >= last.level and _only_handler(record):
                last.handle(record)
            return
        try:
            capture.buffer("log").write(self.format(record) + "\n")
        except Exception:  # a broken record must not fail the node
            self.handleError(record)


def _only_handler(record: logging.LogRecord) -> bool:
    """Whether no handler but ours sees ``record`` (so logging would use its last resort)."""
    logger: logging.Logger | None = logging.getLogger(record.name)
    while logger is not None:
        if any(h is not _handler for h in logger.handlers):
            return False
        logger = logger.parent if logger.propagate else None
    return True


_install_lock = threading.Lock()
_handler = _TaskLogHandler()
_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))


def install() -> None:
    """Put the routers on ``sys.stdout``/``sys.stderr`` and the handler on the root logger.

    Idempotent. If something replaced a stream since (a test runner's capture,
    a notebook), a new router wraps whatever is there now.
    """
    if (
        isinstance(sys.stdout, StreamRouter)
        and isinstance(sys.stderr, StreamRouter)
        and _handler in logging.getLogger().handlers
    ):
        return
    with _install_lock:
        if not isinstance(sys.stdout, StreamRouter):
            sys.stdout = StreamRouter(sys.stdout, "stdout")
        if not isinstance(sys.stderr, StreamRouter):
            sys.stderr = StreamRouter(sys.stderr, "stderr")
        root = logging.getLogger()
        if _handler not in root.handlers:
            root.addHandler(_handler)


def start(
    limit: int = DEFAULT_LIMIT, *, tee: bool = False
) -> tuple[Capture, Token[Capture | None]]:
    """Begin capturing in the current context; pass the token to :func:`stop`."""
    install()
    capture = Capture(limit, tee=tee)
    return capture, _current.set(capture)


def stop(token: Token[Capture | None]) -> None:
    """End the capture begun with ``token``."""
    _current.reset(token)


# For a loop that calls :func:`install` once and then captures many tasks: the
# bare context-variable calls, without the per-task check of the routers.
enter = _current.set
leave = _current.reset
