"""A lookup the ORM compiles once and every request then executes: the per-request check.

Serving resolves an alias on every request, and building that query through the
ORM costs several times more than running it. ``CompiledLookup`` asks the ORM for
the SQL once per database alias, with placeholder values, and afterwards runs
that statement with the request's values through Django's connection (so the
DEBUG query log, execute wrappers, routers and database errors all still apply).
The SQL is Django's own, not written here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, connections, models, router
from django.db.models import QuerySet

from ..records.retrying import is_passing_error

__all__ = ["CompiledLookup"]

# Placeholder values, recognisable among the compiled query's parameters.
_TEXT = "\x00mlops-placeholder-{}\x00"
_RETRY_SECONDS = 5.0
_NUMBER = 2_000_000_011  # in range for every integer column, and unlikely


class CompiledLookup:
    """``make(**values)``, a sliced ``values_list`` query on ``model``, compiled once."""

    def __init__(self, model: type[models.Model], make: Callable[..., QuerySet[Any]]) -> None:
        self._model = model
        self._make = make
        self._compiled: dict[tuple[str, tuple[str, ...]], tuple[str, list[str]]] = {}
        self._lock = threading.Lock()

    def _compile(self, using: str, values: dict[str, Any]) -> tuple[str, list[str]]:
        placeholders: dict[str, Any] = {}
        for index, (key, value) in enumerate(sorted(values.items())):
            is_number = isinstance(value, int) and not isinstance(value, bool)
            placeholders[key] = _NUMBER - index if is_number else _TEXT.format(key)
        sql, params = self._make(**placeholders).query.get_compiler(using).as_sql()
        by_value = {value: key for key, value in placeholders.items()}
        return sql, [by_value[param] for param in params]

    def fetch_one(self, **values: Any) -> tuple[Any, ...] | None:
        """The first row for these values (as the database returns it), or None."""
        using = router.db_for_read(self._model) or "default"
        key = (using, tuple(sorted(values)))
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.setdefault(key, self._compile(using, values))
        sql, order = compiled
        params = [values[name] for name in order]
        deadline = time.monotonic() + _RETRY_SECONDS
        delay = 0.002
        while True:
            try:
                with connections[using].cursor() as cursor:
                    cursor.execute(sql, params)
                    # All rows (at most one): a statement run to its end holds no read lock.
                    rows = cursor.fetchall()
                return tuple(rows[0]) if rows else None
            except DatabaseError as exc:
                # A request meeting an alias move's write lock waits for it, not fails.
                if not is_passing_error(exc) or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
