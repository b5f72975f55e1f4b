"""Waking idle workers: PostgreSQL's NOTIFY when a run is queued, LISTEN in the worker.

``notify_queued`` is called wherever a run becomes ``queued`` (``enqueue_run``, a
hand-back, a takeover); the notification is sent when the transaction commits,
so a woken worker finds the row. Other databases have no such channel: their
workers poll (``MLOPS["WORKER_POLL_SECONDS"]``), and so do PostgreSQL's, slowly,
as a safety net for a notification lost with a dropped connection.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError, connections, transaction

__all__ = ["CHANNEL", "QueueListener", "notify_queued"]

logger = logging.getLogger("django_mlops.queue")

#: The PostgreSQL notification channel of the run queue.
CHANNEL = "django_mlops_queue"


def notify_queued(using: str) -> None:
    """Tell listening workers that a run is queued, once the current transaction commits."""
    if connections[using].vendor != "postgresql":
        return

    def send() -> None:
        try:
            with connections[using].cursor() as cursor:
                cursor.execute("SELECT pg_notify(%s, '')", [CHANNEL])
        except DatabaseError as exc:  # the workers' slow poll finds the run anyway
            logger.warning("queue notification not sent (%s)", exc)

    transaction.on_commit(send, using=using)


class QueueListener:
    """A connection of its own that LISTENs on :data:`CHANNEL` (PostgreSQL only).

    :meth:`wait` returns when a notification arrives or after ``timeout``
    seconds; a broken connection is reopened at the next wait (meanwhile the
    worker only polls).
    """

    def __init__(self, using: str) -> None:
        self.using = using
        self._connection: Any = None

    @staticmethod
    def available(using: str) -> bool:
        """Whether the database can notify (PostgreSQL)."""
        return connections[using].vendor == "postgresql"

    def _connect(self) -> Any:
        wrapper = connections[self.using]
        raw = wrapper.get_new_connection(wrapper.get_connection_params())
        raw.autocommit = True
        raw.execute(f'LISTEN "{CHANNEL}"')
        return raw

    def wait(self, timeout: float) -> bool:
        """Block until a notification (True) or ``timeout`` seconds (False)."""
        try:
            if self._connection is None or self._connection.closed:
                self._connection = self._connect()
            connection = self._connection
            woken = any(True for _ in connection.notifies(timeout=timeout, stop_after=1))
            if woken:  # several runs queued at once wake the worker once
                for _ in connection.notifies(timeout=0):
                    pass
            return woken
        except Exception as exc:  # psycopg's errors, a dropped server: poll meanwhile
            logger.warning("queue listener: %s; polling until it reconnects", exc)
            self.close()
            return False

    def close(self) -> None:
        """Close the listening connection."""
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None
