"""Taking a queued run: one conditional UPDATE, atomic on every database.

On PostgreSQL the row is chosen with ``FOR UPDATE SKIP LOCKED``, so concurrent
workers never wait on each other's candidate nor take the same one. On SQLite
the single statement runs under the database's write lock, which it takes
before it reads (SQLite serialises writers; the busy timeout makes a second
worker wait its turn rather than fail), and re-checks ``status = 'queued'``.
Either way a run cancelled before it is claimed is never taken: the UPDATE
requires ``status = 'queued'`` and no cancel request, and a cancel is the same
kind of conditional UPDATE, so whichever commits first wins.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from django.db import connections
from django.utils import timezone

from ..records.rows import HOST
from .lease import Lease

if TYPE_CHECKING:
    from ..models import Run

__all__ = ["cancel_queued_cancels", "claim_next", "queued_exists", "worker_identity"]


def worker_identity(name: str = "") -> str:
    """How a worker is named in the records: ``name``, or ``host:pid``."""
    return name or f"{HOST}:{os.getpid()}"


def _claim_sql(table: str, postgres: bool) -> str:
    # The SET expressions read the row's old values: resumed_from becomes the
    # previous holder when the run was claimed before (a takeover or a hand-back).
    lock = " FOR UPDATE SKIP LOCKED" if postgres else ""
    return (
        f"UPDATE {table} SET status = 'running', claims = claims + 1, claimed_at = %s, "
        "heartbeat_at = %s, host = %s, pid = %s, "
        "resumed_from = CASE WHEN claims > 0 THEN worker ELSE resumed_from END, worker = %s "
        f"WHERE id = (SELECT id FROM {table} WHERE status = 'queued' AND cancel_requested = %s "
        f"ORDER BY priority DESC, created_at ASC, id ASC LIMIT 1{lock}) "
        "AND status = 'queued' AND cancel_requested = %s "
        "RETURNING id, claims"
    )


def claim_next(worker: str, using: str = "default") -> tuple[Run, Lease] | None:
    """Take the next queued run (highest priority, then oldest) for ``worker``, or None.

    The run is ``running`` with this worker's claim when this returns; its
    :class:`Lease` carries the claim number that fences every later write.
    """
    from ..models import Run

    connection = connections[using]
    table = connection.ops.quote_name(Run._meta.db_table)
    now = timezone.now()
    sql = _claim_sql(table, connection.vendor == "postgresql")
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, now, HOST, os.getpid(), worker, False, False])
        row = cursor.fetchone()
    if row is None:
        return None
    run_id, claim = int(row[0]), int(row[1])
    run = Run.objects.using(using).get(pk=run_id)
    return run, Lease(run_id, claim, worker, using)


def queued_exists(using: str = "default") -> bool:
    """Whether any run waits in the queue (a read, cheaper than a claim)."""
    from ..models import Run

    return Run.objects.using(using).filter(status="queued", cancel_requested=False).exists()


def cancel_queued_cancels(using: str = "default") -> list[int]:
    """End the queued runs someone asked to cancel while they ran; return their ids.

    A cancel asked of a running run that is handed back at the same moment
    leaves such a row; it is cancelled, never claimed.
    """
    from ..models import Run
    from ..records.liveness import settle_tasks

    asked = Run.objects.using(using).filter(status="queued", cancel_requested=True)
    ended = []
    for pk in asked.values_list("pk", flat=True):
        changed = (
            Run.objects.using(using)
            .filter(pk=pk, status="queued")
            .update(status="cancelled", finished_at=timezone.now(), error="cancelled while queued")
        )
        if changed:
            settle_tasks(using, pk, "cancelled")
            ended.append(pk)
    return ended
