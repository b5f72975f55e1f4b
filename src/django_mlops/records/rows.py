"""A task's record while its run goes on: one ``TaskRow`` per node, made in one place.

Every way a task can end up in the records passes through here: an attempt's
outcome (from any executor, or from the inline loop) becomes a row in
:func:`row_from_outcome`; a node the plan settled without running it (cached,
not started, excluded) or that the scheduler settled (upstream failed,
cancelled) gets its row from :func:`settled_row`. The writer buffers rows and
turns them into ``TaskRun`` records (``TASK_COLUMNS``) when it flushes.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..artifacts import Serialized
    from ..executors import TaskOutcome

__all__ = [
    "HOST",
    "TASK_COLUMNS",
    "TEXT_COLUMNS",
    "FailedAttempt",
    "TaskRow",
    "error_line",
    "row_from_outcome",
    "settled_row",
]

HOST = socket.gethostname()

#: The TaskRun fields a flush writes, in the order ``TaskRow.values`` gives them
#: (on insert, also the plan's code_hash, key, input_keys and reads, and the
#: row's reason, detail and reused_from; see ``RecordWriter``).
TASK_COLUMNS = (
    "state",
    "attempts",
    "started_at",
    "finished_at",
    "duration",
    "host",
    "pid",
    "stdout",
    "stderr",
    "log",
    "error",
    "traceback",
)
#: The columns of ``TASK_COLUMNS`` that are texts, empty for most tasks: the first
#: insert leaves them to the database default and sets the few that have any.
TEXT_COLUMNS = TASK_COLUMNS[7:]
_ERROR_MAX = 1000


def error_line(error: str) -> str:
    """The last line of an error text, bounded (``TaskRun.error`` is one line)."""
    text = error.strip()
    return text.splitlines()[-1][:_ERROR_MAX] if text else ""


@dataclass(slots=True)
class FailedAttempt:
    """An attempt that failed, kept as a ``TaskAttempt`` record."""

    number: int
    started: float | None
    finished: float | None
    host: str
    pid: int | None
    error: str
    traceback: str


@dataclass(slots=True)
class TaskRow:
    """What the records will say about one node: its last attempt and how it ended.

    Times are epoch seconds. ``outputs`` are the (dataset, serialized value) pairs
    of a success, stored when the row is flushed. ``reason``/``detail``, when
    set, replace the plan's (a node that did not run says why).
    """

    node_id: int
    state: str
    attempts: int = 0
    started: float | None = None
    finished: float | None = None
    host: str = HOST
    pid: int | None = None
    stdout: str = ""
    stderr: str = ""
    log: str = ""
    error: str = ""
    traceback: str = ""
    outputs: Sequence[tuple[str, Serialized]] = ()
    reason: str | None = None
    detail: str | None = None
    # Made only for a node that failed an attempt: 10k empty lists kept until the
    # flush would only give the garbage collector more to walk.
    failures: list[FailedAttempt] | None = None

    def values(self) -> list[Any]:
        """The ``TASK_COLUMNS`` values."""
        started, finished = self.started, self.finished
        duration = finished - started if started is not None and finished is not None else None
        return [
            self.state,
            self.attempts,
            started,
            finished,
            duration,
            self.host,
            self.pid,
            self.stdout,
            self.stderr,
            self.log,
            self.error,
            self.traceback,
        ]


def row_from_outcome(
    row: TaskRow | None,
    node_id: int,
    state: str,
    outcome: TaskOutcome,
    outputs: Sequence[tuple[str, Serialized]] = (),
    error: str | None = None,
) -> TaskRow:
    """The row of a node after an attempt ended as ``outcome`` (``state``: its new state).

    ``row`` is the node's row so far (earlier failed attempts), or None.
    ``error`` replaces the outcome's error (an output that cannot be stored).
    A failed attempt is also kept in the row's ``failures``.
    """
    message = outcome.error if error is None else error
    if row is None:
        row = TaskRow(node_id, state)
    row.state = state
    row.attempts = max(row.attempts, outcome.attempt)
    row.started, row.finished = outcome.started_at, outcome.finished_at
    row.host, row.pid = outcome.host or HOST, outcome.pid
    row.stdout, row.stderr, row.log = outcome.stdout, outcome.stderr, outcome.log
    row.outputs = outputs
    if state == "succeeded":
        row.error = row.traceback = ""
    else:
        row.error, row.traceback = error_line(message), outcome.traceback
        if row.failures is None:
            row.failures = []
        row.failures.append(
            FailedAttempt(
                outcome.attempt,
                outcome.started_at,
                outcome.finished_at,
                row.host,
                row.pid,
                row.error,
                row.traceback,
            )
        )
    return row


def settled_row(
    row: TaskRow | None, node_id: int, state: str, reason: str = "", detail: str = ""
) -> TaskRow:
    """The row of a node whose state was decided without (another) attempt.

    A node that had attempts keeps them (cancelled while running); ``reason``
    and ``detail`` say why it did not run when the plan's reason no longer fits.
    """
    if row is None:
        row = TaskRow(node_id, state)
    row.state = state
    if reason:
        row.reason, row.detail = reason, detail
    if state == "cancelled" and row.attempts and row.finished is None:
        row.pid = row.pid or os.getpid()
    return row
