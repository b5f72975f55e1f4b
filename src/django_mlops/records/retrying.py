"""Which failed writes may pass when tried again, and how long a flush keeps trying.

SQLite's busy lock, PostgreSQL's lock timeouts, serialization failures, deadlocks
and dropped connections pass; a constraint violation or a bad statement does not.
"""

from __future__ import annotations

from django.db import DatabaseError, InterfaceError, OperationalError

__all__ = ["RETRY_AT_END", "RETRY_DURING_RUN", "is_passing_error"]

# Seconds a flush keeps retrying a failing write: short during the run (the next
# flush tries again with the buffer intact), long at the end (nothing comes after).
RETRY_DURING_RUN = 2.0
RETRY_AT_END = 60.0

# What the message of a write failure that may pass says.
_PASSING = (
    "database is locked",
    "database table is locked",
    "busy",
    "lock timeout",
    "could not obtain lock",
    "could not serialize",
    "deadlock",
    "connection",
    "server closed",
    "terminating",
)


def is_passing_error(exc: DatabaseError) -> bool:
    """Whether a failed write may succeed when tried again (a lock, a dropped connection)."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    message = str(exc).lower()
    return any(words in message for words in _PASSING)
