"""The one module with raw SQL: batched inserts, updates and reads of record rows.

The ORM builds a model instance per row and compiles a query per ``save()``;
recording a 10k-node run that way costs more than running it. ``Table`` writes
plain value lists instead, with table and column names from the model's
``_meta``. Everything goes through the cursor of ``django.db.connections[using]``,
so Django's DEBUG query log, ``execute_wrappers``, database routers (callers pass
``using``) and Django's database exceptions all apply. Model signals are not
sent for rows written here (docs/architecture.md says so).

Values are converted as Django's own field code would store them: JSON through
``connection.ops.adapt_json_value``; date-times may be given as epoch seconds
(what the runner measures), turned into what the backend stores.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import Any

from django.db import connections, models

__all__ = [
    "Table",
    "column",
    "estimated_count",
    "parameter_limit",
    "select",
    "widen_sqlite_cache",
]

_UTC = dt.UTC
# Rows per multi-row INSERT where one statement can carry many (PostgreSQL).
_ROWS_PER_STATEMENT = 1000
# PostgreSQL's wire protocol numbers parameters with 16 bits.
_POSTGRES_PARAMETERS = 65535
# SQLite's compiled-in page cache (negative: KiB) and what a recorded run raises it to.
_SQLITE_DEFAULT_CACHE = -2000
_SQLITE_CACHE = -65536
# Epoch second -> "YYYY-MM-DD HH:MM:SS" (UTC): the task times of a run share few seconds.
_SECOND_TEXT: dict[int, str] = {}


def _second_text(second: int) -> str:
    text = _SECOND_TEXT.get(second)
    if text is None:
        if len(_SECOND_TEXT) > 4096:
            _SECOND_TEXT.clear()
        text = _SECOND_TEXT[second] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second))
    return text


def _sqlite_datetime(value: dt.datetime | float) -> str:
    """What Django's SQLite backend stores for an aware datetime: naive UTC text."""
    if isinstance(value, float | int):
        second = int(value)
        return f"{_second_text(second)}.{int((value - second) * 1e6):06d}"
    if value.tzinfo is not None:
        value = value.astimezone(_UTC).replace(tzinfo=None)
    return value.isoformat(" ")


def widen_sqlite_cache(using: str) -> None:
    """Give a SQLite connection a page cache that holds the indexes a run writes to.

    Each task row adds entries at random places in the task indexes; past SQLite's
    default 2 MB cache most of those land on pages read back from disk. A cache
    size the user configured (anything but the default) is left alone.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        found = cursor.fetchone()
        if found is not None and found[0] == _SQLITE_DEFAULT_CACHE:
            cursor.execute(f"PRAGMA cache_size = {_SQLITE_CACHE}")


def column(model: type[models.Model], name: str, using: str) -> str:
    """The quoted column name of a model field."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{model.__name__}.{name} is not a concrete field"
    return str(connections[using].ops.quote_name(field.column))


def parameter_limit(using: str) -> int:
    """How many parameters one statement may bind on this connection."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        return _POSTGRES_PARAMETERS
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        # Django assumes 999, SQLite's old default; the library's own limit is
        # usually far higher (32766 since SQLite 3.32).
        return int(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return 999


class Table:
    """Inserts and updates rows of one model, a batch per statement.

    ``columns`` names the fields a caller provides, in order; on insert every
    other concrete field gets its model default. Values of the JSON fields named
    in ``json_texts`` are given as JSON texts already (built without an encoder
    call per row) and stored as they are.
    """

    def __init__(
        self,
        model: type[models.Model],
        columns: Sequence[str],
        using: str,
        json_texts: Sequence[str] = (),
    ) -> None:
        meta = model._meta
        self.model = model
        self.using = using
        connection = connections[using]
        self.table = connection.ops.quote_name(meta.db_table)
        self.columns = list(columns)
        self._quoted = [column(model, name, using) for name in columns]
        self._preps = [
            None if name in json_texts else self._prep_for(meta.get_field(name)) for name in columns
        ]
        # PostgreSQL takes a JSON text for a jsonb column only when it says so.
        cast = "::jsonb" if connection.vendor == "postgresql" else ""
        self._marks = [f"%s{cast}" if name in json_texts else "%s" for name in columns]
        provided = set(columns)
        self._defaults: list[tuple[str, Any]] = []
        for field in meta.concrete_fields:
            if field.primary_key or field.name in provided:
                continue
            value = field.get_default() if field.has_default() else None
            if value is None and not field.null and isinstance(field, models.CharField):
                value = ""
            prep = self._prep_for(field)
            if prep is not None and value is not None:
                value = prep(value)
            self._defaults.append((connection.ops.quote_name(field.column), value))

    def _prep_for(self, field: Any) -> Callable[[Any], Any] | None:
        # Called per value on big batches: straight to what the backend stores,
        # not through Field.get_db_prep_save's layers.
        connection = connections[self.using]
        if isinstance(field, models.JSONField):
            ops, encoder = connection.ops, field.encoder
            empty = ops.adapt_json_value({}, encoder)  # most rows: made once, not per row

            def adapt_json(value: Any) -> Any:
                return empty if value == {} else ops.adapt_json_value(value, encoder)

            return adapt_json
        if isinstance(field, models.DateTimeField):
            if connection.vendor == "sqlite":
                return _sqlite_datetime
            adapt = connection.ops.adapt_datetimefield_value

            def aware(value: dt.datetime | float) -> Any:
                if isinstance(value, float | int):
                    value = dt.datetime.fromtimestamp(value, tz=_UTC)
                return adapt(value)

            return aware
        return None

    def _converted(self, rows: Iterable[Sequence[Any]], extra: int = 0) -> list[tuple[Any, ...]]:
        """Parameter tuples: the converted columns, then (insert) the defaults or (update) keys."""
        rows = list(rows)
        width = len(self.columns) + extra
        values: list[Sequence[Any]] = list(zip(*rows, strict=True)) or [()] * width
        for i, prep in enumerate(self._preps):
            if prep is not None:
                values[i] = [None if v is None else prep(v) for v in values[i]]
        if not extra:
            values.extend([value] * len(rows) for _, value in self._defaults)
        return list(zip(*values, strict=True))

    def insert(self, rows: Sequence[Sequence[Any]], conflict: str = "") -> None:
        """Insert rows (values in ``columns`` order); ``conflict`` is an ON CONFLICT clause."""
        if not rows:
            return
        connection = connections[self.using]
        names = self._quoted + [name for name, _ in self._defaults]
        group = "(" + ", ".join(self._marks + ["%s"] * len(self._defaults)) + ")"
        head = f"INSERT INTO {self.table} ({', '.join(names)}) VALUES "
        params = self._converted(rows)
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql":
                # One statement, many parameter sets: Django's SQLite cursor
                # rewrites placeholders once per call (a regular expression over
                # the text), so one short statement beats one long one.
                cursor.executemany(f"{head}{group} {conflict}", params)
                return
            per = max(1, min(_ROWS_PER_STATEMENT, _POSTGRES_PARAMETERS // len(names)))
            for start in range(0, len(params), per):
                chunk = params[start : start + per]
                sql = f"{head}{', '.join([group] * len(chunk))} {conflict}"
                cursor.execute(sql, list(chain.from_iterable(chunk)))

    def update(self, rows: Sequence[Sequence[Any]], keys: Sequence[str]) -> None:
        """Update rows: each row is the ``columns`` values followed by the ``keys`` values."""
        if not rows:
            return
        connection = connections[self.using]
        sets = ", ".join(
            f"{name} = {mark}" for name, mark in zip(self._quoted, self._marks, strict=False)
        )
        where = " AND ".join(f"{column(self.model, key, self.using)} = %s" for key in keys)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {self.table} SET {sets} WHERE {where}",
                self._converted(rows, extra=len(keys)),
            )


def select(
    model: type[models.Model],
    fields: Sequence[str],
    where: str,
    params: Sequence[Any],
    using: str,
    order_by: str = "",
) -> list[tuple[Any, ...]]:
    """Plain tuples of ``fields``; ``where`` names fields as ``{field}`` (quoted here).

    For reads of many rows where the ORM would build an instance or run a field
    converter per row; values come back as the backend stores them.
    """
    names = {f.name: column(model, f.name, using) for f in model._meta.concrete_fields}
    names.update({f.attname: names[f.name] for f in model._meta.concrete_fields})
    table = connections[using].ops.quote_name(model._meta.db_table)
    sql = f"SELECT {', '.join(names[f] for f in fields)} FROM {table} WHERE {where.format(**names)}"
    if order_by:
        sql += f" ORDER BY {names[order_by]}"
    with connections[using].cursor() as cursor:
        cursor.execute(sql, list(params))
        return list(cursor.fetchall())


def estimated_count(queryset: models.QuerySet[Any]) -> int | None:
    """The planner's estimate of the rows ``queryset`` matches (PostgreSQL), else None.

    ``EXPLAIN`` costs no scan: for the API's lists of 100,000 runs, where an
    exact ``COUNT(*)`` would cost more than the page itself.
    """
    using = queryset.db
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # psycopg returns json already decoded; be safe
        import json

        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
