"""A lookup the ORM compiles once and every request then executes: the per-request check.

Serving resolves an alias on every request, and building that query through the
ORM costs several times more than running it. ``CompiledLookup`` asks the ORM for
the SQL once per database alias, with placeholder values, and afterwards runs
that statement with the request's values through Django's connection (so the
DEBUG query log, execute wrappers, routers and database errors all still apply).
The SQL is Django's own, not written here, and so are the value converters
(SQLite's text dates become datetimes, its integers booleans) applied to the row.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connections, models, router
from django.db.models import QuerySet

from ..records.retrying import is_passing_error

__all__ = ["CompiledLookup"]

# Placeholder values, recognisable among the compiled query's parameters.
_TEXT = "\x00mlops-placeholder-{}\x00"
_RETRY_SECONDS = 5.0
_NUMBER = 2_000_000_011  # in range for every integer column, and unlikely


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A lookup's SQL, which value fills each placeholder, and the columns' converters."""

    sql: str
    order: list[str]
    converters: list[tuple[int, Any, list[Callable[..., Any]]]]

    def convert(self, row: Any, connection: Any) -> tuple[Any, ...]:
        """``row`` with each column converted as the ORM would (on this thread's connection)."""
        if not self.converters:
            return tuple(row)
        values = list(row)
        for position, expression, functions in self.converters:
            value = values[position]
            for function in functions:
                value = function(value, expression, connection)
            values[position] = value
        return tuple(values)


class CompiledLookup:
    """``make(**values)``, a sliced ``values_list`` query on ``model``, compiled once."""

    def __init__(self, model: type[models.Model], make: Callable[..., QuerySet[Any]]) -> None:
        self._model = model
        self._make = make
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, using: str, values: dict[str, Any]) -> _Compiled:
        placeholders: dict[str, Any] = {}
        for index, (key, value) in enumerate(sorted(values.items())):
            is_number = isinstance(value, int) and not isinstance(value, bool)
            placeholders[key] = _NUMBER - index if is_number else _TEXT.format(key)
        compiler = self._make(**placeholders).query.get_compiler(using)
        sql, params = compiler.as_sql()
        by_value = {value: key for key, value in placeholders.items()}
        # What the ORM would convert each selected column with (position -> functions).
        converters = [
            (position, expression, functions)
            for position, (functions, expression) in compiler.get_converters(
                [column for column, _, _ in compiler.select]
            ).items()
        ]
        return _Compiled(sql, [by_value[param] for param in params], converters)

    def fetch_one(self, **values: Any) -> tuple[Any, ...] | None:
        """The first row for these values (as the database returns it), or None."""
        using = router.db_for_read(self._model) or "default"
        key = (using, tuple(sorted(values)))
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.setdefault(key, self._compile(using, values))
        params = [values[name] for name in compiled.order]
        deadline = time.monotonic() + _RETRY_SECONDS
        delay = 0.002
        while True:
            try:
                connection = connections[using]
                with connection.cursor() as cursor:
                    cursor.execute(compiled.sql, params)
                    # All rows (at most one): a statement run to its end holds no read lock.
                    rows = cursor.fetchall()
                return compiled.convert(rows[0], connection) if rows else None
            except DatabaseError as exc:
                # A request meeting an alias move's write lock waits for it, not fails.
                if not is_passing_error(exc) or time.monotonic() + delay > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
