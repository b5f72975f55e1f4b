"""Live state of a running run: publishing the running attempts, and reading them back.

Writing: :class:`LivePublisher` runs in the runner's heartbeat thread
(``records/liveness.py``). Every ``MLOPS["LIVE_SECONDS"]`` it reads this
process's board of running attempts (``executors/live.py``) and, in one small
transaction, inserts a ``LiveTask`` row for each attempt that started since the
last tick, appends the new output of the others and deletes the rows of the
attempts that ended. A tick with nothing new writes nothing, and only attempts
running at that moment are written: a run of many fast nodes costs a row now and
then, not a write per node.

Reading: :func:`running_tasks` and :func:`task_texts` honour a live row only
while its run is ``running`` (a killed runner's run is settled first by the
callers, and settling deletes its rows) and the task's own row is not final: the
finished ``TaskRun`` supersedes it. Texts are read from an offset, at most
``limit`` characters at a time, sliced by the database.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, models, transaction
from django.db.models.functions import Concat, Length, Substr
from django.utils import timezone

from ..executors import live as board
from ..models import LiveTask, Run, TaskRun

if TYPE_CHECKING:
    from ..queue.lease import Lease

__all__ = [
    "FINAL_STATES",
    "LOG_CHUNK",
    "LivePublisher",
    "clear_live",
    "current_task",
    "running_tasks",
    "task_texts",
]

logger = logging.getLogger("django_mlops.records")

#: Task states that will not change any more in a run.
FINAL_STATES = frozenset(
    {"succeeded", "cached", "failed", "upstream_failed", "not_started", "cancelled", "excluded"}
)
#: The most characters of one stream one read returns (the next read goes on from there).
LOG_CHUNK = 64 * 1024


@dataclass(slots=True)
class _Sent:
    """What the database has of one running attempt."""

    node: str
    key: tuple[int, float]  # (attempt, started_at): a retry is a new attempt
    offsets: list[int] = field(default_factory=lambda: [0, 0, 0])
    cut: bool = False


def _when(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


class LivePublisher:
    """Publishes one run's running attempts from this process, one transaction per tick.

    With the queue's ``lease``, every write is fenced by it: the tick's transaction
    first renews the claim (locking the run's row until it commits), and a worker
    whose claim was taken over writes nothing more and deletes nothing, since the
    live rows are then the new holder's.
    """

    def __init__(self, run_id: int, using: str, lease: Lease | None = None) -> None:
        self.run_id = run_id
        self.using = using
        self.lease = lease
        self._sent: dict[int, _Sent] = {}  # node id -> what is written
        # Rows of an earlier runner of this run (a run taken over from the queue)
        # may be there: the first tick replaces them.
        self._fresh = False

    def tick(self) -> None:
        """Write what changed since the last tick; a failed write is tried again next tick."""
        running = board.running(self.run_id)
        gone = [
            sent.node
            for node_id, sent in self._sent.items()
            if (attempt := running.get(node_id)) is None
            or (attempt.attempt, attempt.started_at) != sent.key
        ]
        now = timezone.now()
        new: list[LiveTask] = []
        appends: list[tuple[str, tuple[str, str, str], bool]] = []
        after: dict[int, _Sent] = {}
        for node_id, attempt in running.items():
            key = (attempt.attempt, attempt.started_at)
            sent = self._sent.get(node_id)
            known = sent is not None and sent.key == key
            if sent is None or not known:
                sent = _Sent(attempt.node, key)
            texts, cut = attempt.texts_since(sent.offsets)
            after[node_id] = _Sent(
                sent.node, key, [o + len(t) for o, t in zip(sent.offsets, texts, strict=True)], cut
            )
            if not known:
                new.append(
                    LiveTask(
                        run_id=self.run_id,
                        node=attempt.node,
                        attempt=attempt.attempt,
                        started_at=_when(attempt.started_at),
                        updated_at=now,
                        stdout=texts[0],
                        stderr=texts[1],
                        log=texts[2],
                        cut=cut,
                    )
                )
            elif any(texts) or cut != sent.cut:
                appends.append((attempt.node, texts, cut))
        if self._fresh and not (gone or new or appends):
            return
        try:
            with transaction.atomic(using=self.using):
                if self.lease is not None and not self.lease.renew():
                    return  # taken over: nothing of this worker's is written any more
                rows = LiveTask.objects.using(self.using).filter(run_id=self.run_id)
                if not self._fresh:
                    rows.delete()
                elif gone:
                    rows.filter(node__in=gone).delete()
                if new:
                    LiveTask.objects.using(self.using).bulk_create(new)
                for node, texts, cut in appends:
                    rows.filter(node=node).update(updated_at=now, cut=cut, **_appended(texts))
        except DatabaseError as exc:
            logger.debug("run %s: live state not written (%s)", self.run_id, exc)
            return
        self._fresh = True
        self._sent = after

    def clear(self) -> None:
        """Delete the run's live rows (its runner is done with it); with a lease, while it holds.

        Conditional on the claim, not on ``lease.lost``: a run that ended is no
        longer ``running`` (so its lease no longer renews), yet its rows are still
        this worker's to delete; a run taken over has another claim number.
        """
        self._sent = {}
        clear_live(self.using, self.run_id, None if self.lease is None else self.lease.claim)


def _appended(texts: tuple[str, str, str]) -> dict[str, Any]:
    """``stream = stream || text`` for each stream that has new text."""
    return {
        which: Concat(models.F(which), models.Value(text), output_field=models.TextField())
        for which, text in zip(board.STREAMS, texts, strict=True)
        if text
    }


def clear_live(using: str, run_id: int, claim: int | None = None) -> None:
    """Delete a run's live rows (only while its claim is ``claim``, when given).

    A failure is only logged: readers ignore the rows of a run that is not running.
    """
    rows = LiveTask.objects.using(using).filter(run_id=run_id)
    if claim is not None:
        rows = rows.filter(run__claims=claim)
    try:
        rows.delete()
    except DatabaseError as exc:
        logger.debug("run %s: live rows not deleted (%s)", run_id, exc)


def running_tasks(run: Run) -> dict[str, dict[str, Any]]:
    """Node -> ``{"attempt", "started_at", "elapsed"}`` of the attempts running now.

    Empty unless the run is ``running``: settle a run (``settle_stale_runs``)
    before asking, so a killed runner's attempts are never shown running.
    """
    if run.status != "running":
        return {}
    now = timezone.now()
    rows = LiveTask.objects.using(run._state.db).filter(run=run)
    return {
        node: {
            "attempt": attempt,
            "started_at": started,
            "elapsed": max(0.0, (now - started).total_seconds()),
        }
        for node, attempt, started in rows.values_list("node", "attempt", "started_at")
    }


def _slices(
    rows: models.QuerySet[Any], cursors: Mapping[str, int], limit: int, extra: tuple[str, ...]
) -> dict[str, Any] | None:
    """One row's ``extra`` fields and each stream's text from its cursor, sliced in SQL."""
    parts: dict[str, Any] = {}
    for which in board.STREAMS:
        start = max(0, cursors.get(which, 0))
        parts[f"{which}_size"] = Length(which)
        parts[f"{which}_part"] = Substr(which, start + 1, limit)
        # Past the end (the text was replaced: a new attempt): start again from 0.
        parts[f"{which}_head"] = Substr(which, 1, limit)
    found = rows.annotate(**parts).values(*extra, *parts).first()
    if found is None:
        return None
    answer = {name: found[name] for name in extra}
    for which in board.STREAMS:
        size = found[f"{which}_size"] or 0
        start = max(0, cursors.get(which, 0))
        if start > size:
            start, text = 0, found[f"{which}_head"] or ""
        else:
            text = found[f"{which}_part"] or ""
        answer[which] = {"from": start, "text": text, "next": start + len(text), "size": size}
    return answer


def task_texts(
    run: Run, node: str, cursors: Mapping[str, int] | None = None, limit: int = LOG_CHUNK
) -> dict[str, Any] | None:
    """A task's state and each stream's text from its cursor: the live row while it runs.

    ``{"state", "attempts", "error", "running", "elapsed", "cut", "stdout":
    {"from", "text", "next", "size"}, "stderr": ..., "log": ...}``; None when the
    run has neither a task row nor a running attempt for ``node``. Each text is
    at most ``limit`` characters: ask again from ``next`` for the rest.
    """
    cursors = cursors or {}
    db = run._state.db
    task = (
        TaskRun.objects.using(db)
        .filter(run=run, node=node)
        .values("state", "attempts", "error")
        .first()
    )
    if run.status == "running" and (task is None or task["state"] not in FINAL_STATES):
        rows = LiveTask.objects.using(db).filter(run=run, node=node)
        found = _slices(rows, cursors, limit, ("attempt", "started_at", "cut"))
        if found is not None:
            started = found.pop("started_at")
            found["attempts"] = found.pop("attempt")
            elapsed = max(0.0, (timezone.now() - started).total_seconds())
            return {"state": "running", "error": "", "running": True, "elapsed": elapsed, **found}
    if task is None:
        return None
    found = _slices(TaskRun.objects.using(db).filter(run=run, node=node), cursors, limit, ())
    assert found is not None
    return {**task, "running": False, "elapsed": None, "cut": False, **found}


def current_task(run: Run, node: str) -> tuple[TaskRun | None, bool]:
    """The run's task for ``node`` as it stands now, and whether it is running live.

    Its row; while an attempt of it runs, with that attempt's number, start and
    output so far (not saved). An attempt running before the task's row was
    first written gives an unsaved row of its own. ``(None, False)`` when there
    is neither.
    """
    db = run._state.db
    task = TaskRun.objects.using(db).filter(run=run, node=node).first()
    if run.status != "running" or (task is not None and task.state in FINAL_STATES):
        return task, False
    found = LiveTask.objects.using(db).filter(run=run, node=node).first()
    if found is None:
        return task, False
    if task is None:
        task = TaskRun(run=run, node=node)
    task.state, task.attempts, task.started_at = "running", found.attempt, found.started_at
    task.finished_at = task.duration = None
    task.stdout, task.stderr, task.log = found.stdout, found.stderr, found.log
    task.error = task.traceback = ""
    return task, True
