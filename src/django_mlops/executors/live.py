"""The board of running attempts: which nodes run in this process now, and what they printed.

Every attempt that runs with a capture is on its run's board while it runs:
``run_task`` (threads, a timed node of the inline executor, a worker process)
puts it there, the inline loop keeps one slot per run that it points at the
node it is calling (two assignments per node: a run of 10,000 no-op nodes must
not pay for the live view), and the processes executor puts its workers'
attempts there with the text their processes send (:class:`LiveText`).

The runner's heartbeat thread reads the board every ``MLOPS["LIVE_SECONDS"]``
(``records/live.py``) and publishes it. Nothing here touches the database.

Only the heads of the capture buffers are read (``BoundedText.head_since``):
they never change once written, so the text can be published in pieces and is
always the beginning of the task's final, bounded log.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..capture import Capture

__all__ = [
    "STREAMS",
    "InlineSlot",
    "LiveAttempt",
    "LiveText",
    "begin",
    "configured_seconds",
    "drop_inline",
    "end",
    "forget_all",
    "inline_slot",
    "running",
    "runs_here",
]

#: The captured streams, in the order texts are given everywhere here.
STREAMS = ("stdout", "stderr", "log")

_NOTHING = ("", "", "")


class LiveAttempt:
    """One running attempt: which node, since when, and where its text comes from.

    In this process the text is read from its ``capture``; for an attempt in a
    worker process it is the ``received`` text that process sent.
    """

    __slots__ = ("attempt", "capture", "cut", "node", "received", "started_at")

    def __init__(
        self,
        node: str,
        attempt: int,
        started_at: float,
        capture: Capture | None = None,
        *,
        remote: bool = False,
    ) -> None:
        self.node = node
        self.attempt = attempt
        self.started_at = started_at  # wall-clock seconds (time.time())
        self.capture = capture
        self.received: list[str] | None = ["", "", ""] if remote else None
        self.cut = False  # a head filled up: the rest is shown once the task ends

    def texts_since(self, offsets: Sequence[int]) -> tuple[tuple[str, str, str], bool]:
        """Each stream's text from its offset on, and whether any stream's head is full."""
        if self.received is not None:
            got = self.received
            return (got[0][offsets[0] :], got[1][offsets[1] :], got[2][offsets[2] :]), self.cut
        capture = self.capture
        if capture is None:
            return _NOTHING, False
        texts = []
        cut = False
        for index, which in enumerate(STREAMS):
            buffer = getattr(capture, which)
            if buffer is None:
                texts.append("")
                continue
            try:
                text, full = buffer.head_since(offsets[index])
            except RuntimeError:  # the task's thread changed the buffer as we read it
                text, full = "", False
            texts.append(text)
            cut = cut or full
        return (texts[0], texts[1], texts[2]), cut

    def receive(self, texts: Sequence[str], cut: bool) -> None:
        """Append the text a worker process sent for this attempt."""
        got = self.received
        if got is None:
            return
        for index, text in enumerate(texts):
            if text:
                got[index] += text
        self.cut = self.cut or cut


@dataclass(slots=True)
class LiveText:
    """What a worker process sends its parent while a task runs: the new text of each stream."""

    node_id: int
    attempt: int
    texts: tuple[str, str, str]
    cut: bool


class InlineSlot:
    """The inline loop's one entry per run: the node it is calling now, or None.

    ``current`` is replaced whole, ``(node_id, name, attempt, started_at)``, so a
    reader on another thread never sees half of one node and half of the next.
    """

    __slots__ = ("capture", "current", "run_id")

    def __init__(self, run_id: int, capture: Capture) -> None:
        self.run_id = run_id
        self.capture = capture
        self.current: tuple[int, str, int, float] | None = None


_lock = threading.Lock()
_attempts: dict[int, dict[int, LiveAttempt]] = {}  # run id -> node id -> attempt
_inline: dict[int, InlineSlot] = {}  # run id -> the inline loop's slot


def begin(run_id: int | None, node_id: int | None, attempt: LiveAttempt) -> None:
    """Put an attempt on its run's board (an unrecorded run has none)."""
    if run_id is None or node_id is None:
        return
    with _lock:
        _attempts.setdefault(run_id, {})[node_id] = attempt


def end(run_id: int | None, node_id: int | None, attempt: LiveAttempt) -> None:
    """Take an attempt off the board (only that attempt: a retry may have replaced it)."""
    if run_id is None or node_id is None:
        return
    with _lock:
        board = _attempts.get(run_id)
        if board is not None and board.get(node_id) is attempt:
            del board[node_id]
            if not board:
                del _attempts[run_id]


def inline_slot(run_id: int, capture: Capture) -> InlineSlot:
    """The inline loop's slot for a run (made now; drop it with :func:`drop_inline`)."""
    slot = InlineSlot(run_id, capture)
    with _lock:
        _inline[run_id] = slot
    return slot


def drop_inline(slot: InlineSlot) -> None:
    """The inline loop of a run is over."""
    with _lock:
        if _inline.get(slot.run_id) is slot:
            del _inline[slot.run_id]


def running(run_id: int) -> dict[int, LiveAttempt]:
    """Node id -> attempt, for the attempts of a run running in this process now."""
    with _lock:
        found = dict(_attempts.get(run_id, {}))
        slot = _inline.get(run_id)
    if slot is not None:
        current = slot.current
        if current is not None:
            node_id, name, attempt, started = current
            found[node_id] = _InlineAttempt(slot, current, name, attempt, started)
    return found


def runs_here() -> list[int]:
    """The ids of runs with an attempt on the board (a worker process's sender asks)."""
    with _lock:
        return list(_attempts)


def configured_seconds() -> float:
    """``MLOPS["LIVE_SECONDS"]`` when Django is configured, else the default (1 s)."""
    import sys

    if "django.conf" in sys.modules:
        from django.conf import settings

        if settings.configured:
            from ..conf import mlops_settings

            return float(mlops_settings().LIVE_SECONDS)
    return 1.0


def forget_all() -> None:
    """Empty the board: a worker process must not report its parent's attempts."""
    with _lock:
        _attempts.clear()
        _inline.clear()


def _after_fork_in_child() -> None:
    # The parent's heartbeat thread may have held the lock at the fork, and it does
    # not exist in the child to release it: a new lock and an empty board, or the
    # child's first begin() (or forget_all) waits forever.
    global _lock, _attempts, _inline
    _lock = threading.Lock()
    _attempts = {}
    _inline = {}


os.register_at_fork(after_in_child=_after_fork_in_child)


class _InlineAttempt(LiveAttempt):
    """The attempt the inline loop is calling: its text is read only while it still is."""

    __slots__ = ("slot", "token")

    def __init__(
        self,
        slot: InlineSlot,
        token: tuple[int, str, int, float],
        node: str,
        attempt: int,
        started_at: float,
    ) -> None:
        super().__init__(node, attempt, started_at, slot.capture)
        self.slot = slot
        self.token = token

    def texts_since(self, offsets: Sequence[int]) -> tuple[tuple[str, str, str], bool]:
        """As for any attempt; nothing when the loop moved on meanwhile (the next node's text)."""
        if self.slot.current is not self.token:
            return _NOTHING, False
        texts = super().texts_since(offsets)
        if self.slot.current is not self.token:
            return _NOTHING, False
        return texts
