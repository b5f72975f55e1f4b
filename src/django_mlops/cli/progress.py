"""Live progress of a run in the terminal, fed by the runner's ``on_event`` callback.

On a terminal, :class:`LiveProgress` keeps one status line at the bottom (done/total,
a bar, elapsed time, the nodes running now) and redraws it in place; failures and
retries are printed above it as they happen, so they stay on screen. A ticker
thread redraws twice a second, so elapsed time moves while a long node runs.
Anywhere else (a pipe, a CI log, TERM=dumb), :class:`PlainProgress` prints one line
per event, with no escape codes.
"""

from __future__ import annotations

import shutil
import threading
import time
from typing import TYPE_CHECKING, TextIO

from .. import capture as capturing
from .formatting import STATE_COLOURS, format_duration, paint, plural

if TYPE_CHECKING:
    from ..run.events import RunEvent
    from .base import Console, TextStream

__all__ = ["LiveProgress", "PlainProgress", "Progress", "make_progress"]

_CLEAR_LINE = "\r\x1b[2K"
_SPINNER_UTF8 = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_SPINNER_ASCII = "-\\|/"


def _clock(seconds: float) -> str:
    """Elapsed time at a steady precision while it ticks: ``0.5s``, ``12.3s``, ``2m05s``."""
    return f"{seconds:.1f}s" if seconds < 60 else format_duration(seconds)


class Progress:
    """Receives a run's events; remembers the run id and whether the run started."""

    def __init__(self, pipeline: str) -> None:
        self.pipeline = pipeline
        self.run_id: int | None = None
        self.total = 0
        self.done = 0
        # Nodes already final when the run starts (concept steps and what they
        # block, nodes left out by a selection) are not work of this run: the
        # counts shown leave them out, so nothing is "done" before a node ran.
        self._settled = 0

    def on_event(self, event: RunEvent) -> None:
        """Take one event from the runner (the ``on_event`` callback)."""
        if event.run_id is not None:
            self.run_id = event.run_id
        if event.kind == "run_started":
            self._settled = event.done
        self.total = event.total - self._settled
        self.done = event.done - self._settled
        self.show(event)

    def show(self, event: RunEvent) -> None:
        """Display ``event``; subclasses decide how."""
        raise NotImplementedError

    def close(self) -> None:
        """Leave the terminal clean for what is printed next (idempotent)."""


class PlainProgress(Progress):
    """One line per event, for logs and pipes: ``  1.20s  [3/6]  succeeded  fit``."""

    def __init__(self, pipeline: str, out: TextStream) -> None:
        super().__init__(pipeline)
        self.out = out

    def show(self, event: RunEvent) -> None:
        """Print the event as one line."""
        if event.kind == "run_started":
            run = f"run {event.run_id}" if event.run_id is not None else "run"
            counts = plural(event.total, "node")
            if self.total != event.total:
                counts += f", {self.total} to run"
            line = f"{run} started: {self.pipeline} ({counts})"
        elif event.kind == "run_finished":
            # No duration here: the summary printed next gives the recorded one.
            line = f"run finished: {event.state}"
        else:
            state = event.state or ""
            line = f"{event.elapsed:8.2f}s  [{self.done}/{self.total}]  {state:<15}  {event.node}"
            if event.error:
                line += f": {event.error}"
        self.out.write(line + "\n")
        self.out.flush()


class LiveProgress(Progress):
    """A status line redrawn in place, with failures printed above it as they happen."""

    def __init__(
        self,
        pipeline: str,
        out: TextStream,
        *,
        colour: bool = True,
        unicode: bool = True,
        interval: float = 0.5,
    ) -> None:
        super().__init__(pipeline)
        self.out = out
        self.colour = colour
        self.unicode = unicode
        self.interval = interval
        self.running: tuple[str, ...] = ()
        self.failures = 0
        self._started: float | None = None
        self._offset = 0.0  # the runner's elapsed at the last event, against our clock
        self._frame = 0
        self._drawn = False
        self._closed = False
        # A node's teed output ended mid-line: drawing now would break its line.
        self._midline = False
        self._previous_echo: capturing.Echo | None = None
        # The ticker and the runner's thread both draw; writes must not interleave.
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def show(self, event: RunEvent) -> None:
        """Update the state from ``event`` and redraw."""
        with self._lock:
            if self._closed:
                return
            self._started = time.monotonic() - event.elapsed
            self.running = event.running
            if event.kind == "task_finished" and event.state in ("failed", "retrying"):
                self._print_above(self._failure_line(event))
            if event.kind == "run_finished":
                self._erase()
                self._closed = True
                self._stop.set()
                if self._previous_echo is not None:
                    capturing.set_echo(self._previous_echo)
                    self._previous_echo = None
                return
            self._draw()
        if event.kind == "run_started" and self._previous_echo is None:
            self._previous_echo = capturing.set_echo(self.echo)
        if event.kind == "run_started" and self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, name="mlops-progress", daemon=True)
            self._ticker.start()

    def _failure_line(self, event: RunEvent) -> str:
        cross = "✗" if self.unicode else "x"
        error = f": {event.error}" if event.error else ""
        if event.state == "retrying":
            text = f"{cross} {event.node} failed, retrying{error}"
            return paint(text, STATE_COLOURS["retrying"], self.colour)
        self.failures += 1
        text = f"{cross} {event.node} failed after {format_duration(event.elapsed)}{error}"
        return paint(text, STATE_COLOURS["failed"], self.colour)

    def echo(self, stream: TextIO, text: str) -> None:
        """Show a node's output (teed by the capture) above the status line."""
        with self._lock:
            self._erase()
            stream.write(text)
            stream.flush()
            self._midline = not text.endswith("\n")
            if not self._closed:
                self._draw()

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                if self._closed:
                    return
                self._frame += 1
                self._draw()

    def status_line(self, width: int) -> str:
        """The status line, at most ``width`` visible characters (colour codes excluded)."""
        spinner = _SPINNER_UTF8 if self.unicode else _SPINNER_ASCII
        elapsed = time.monotonic() - self._started if self._started is not None else 0.0
        bar_width = 20
        filled = bar_width * self.done // self.total if self.total else 0
        full, empty = ("█", "░") if self.unicode else ("#", "-")
        bar = full * filled + empty * (bar_width - filled)
        head = (
            f"{spinner[self._frame % len(spinner)]} {self.pipeline} "
            f"{self.done}/{self.total} {bar} {_clock(elapsed)}"
        )
        tail = ""
        if self.failures:
            tail += f"  {self.failures} failed"
        if self.running:
            tail += "  running: " + ", ".join(self.running)
        text = (head + tail)[: max(width, 10)]
        if len(head + tail) > width and width > 10:
            text = text[: width - 1] + ("…" if self.unicode else ">")
        if not self.colour:
            return text
        # Colour the bar's filled part only; it sits at a known place in `text`.
        start = text.find(bar)
        if start < 0:
            return text
        coloured = paint(full * filled, "32", True) + empty * (bar_width - filled)
        return text[:start] + coloured + text[start + len(bar) :]

    def _draw(self) -> None:
        if self._midline:
            return
        # One column short of the width: writing the last column makes some terminals wrap.
        width = shutil.get_terminal_size((80, 24)).columns - 1
        self.out.write(_CLEAR_LINE + self.status_line(width))
        self.out.flush()
        self._drawn = True

    def _erase(self) -> None:
        if self._drawn:
            self.out.write(_CLEAR_LINE)
            self.out.flush()
            self._drawn = False

    def _print_above(self, line: str) -> None:
        self._erase()
        self.out.write(line + "\n")
        self.out.flush()

    def close(self) -> None:
        """Stop the ticker and erase the status line (after Ctrl-C or an error, too)."""
        with self._lock:
            self._closed = True
            self._stop.set()
            self._erase()
            if self._previous_echo is not None:
                capturing.set_echo(self._previous_echo)
                self._previous_echo = None
        if self._ticker is not None and self._ticker is not threading.current_thread():
            self._ticker.join(timeout=1)


def make_progress(console: Console, pipeline: str) -> Progress:
    """Live progress on a terminal, one line per event anywhere else."""
    if console.is_terminal:
        encoding = (getattr(console.out, "encoding", None) or "").lower().replace("-", "")
        return LiveProgress(
            pipeline, console.out, colour=console.colour, unicode=encoding.startswith("utf")
        )
    return PlainProgress(pipeline, console.out)
