"""Batched raw-SQL writes of model rows: one ``executemany`` per table.

The ORM builds a model instance per row and a query per ``save()``; recording a
10k-node run that way costs more than running it. These helpers write plain
value lists through ``cursor.executemany`` with table and column names taken
from the model's ``_meta``, so they follow the schema and work on SQLite and
PostgreSQL alike. Values of JSON and date-time fields are converted the way the
backend stores them (date-times may also be given as epoch seconds); every
other value is passed as is.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any, cast

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models

__all__ = [
    "TableWriter",
    "column_of",
    "insert_columns",
    "insert_values",
    "parameter_limit",
    "rows_by",
]

_UTC = dt.UTC
# Epoch second -> "YYYY-MM-DD HH:MM:SS": task times of a run share few seconds.
_SECOND_TEXT: dict[int, str] = {}


def second_text(second: int) -> str:
    """The UTC "YYYY-MM-DD HH:MM:SS" of an epoch second, cached (bounded)."""
    text = _SECOND_TEXT.get(second)
    if text is None:
        if len(_SECOND_TEXT) > 4096:
            _SECOND_TEXT.clear()
        text = _SECOND_TEXT[second] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second))
    return text


def _sqlite_utc_text(value: dt.datetime | float) -> str:
    """What Django's SQLite backend stores for an aware datetime: naive UTC text.

    Epoch seconds (``time.time()``) are accepted too; the recorder keeps task times
    as floats and formatting them through a per-second cache is several times
    cheaper than building datetimes.
    """
    if isinstance(value, float | int):
        second = int(value)
        return f"{second_text(second)}.{int((value - second) * 1e6):06d}"
    if value.tzinfo is not None:
        value = value.astimezone(_UTC).replace(tzinfo=None)
    return value.isoformat(" ")


def _aware(value: dt.datetime | float) -> dt.datetime:
    if isinstance(value, float | int):
        return dt.datetime.fromtimestamp(value, tz=_UTC)
    return value


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{model.__name__}.{name} is not a concrete field"
    return str(field.column)


class TableWriter:
    """Inserts and updates rows of one model with ``executemany``.

    ``columns`` names the fields a caller provides, in order; every other
    concrete field gets its model default on insert.
    """

    def __init__(self, model: type[models.Model], columns: Sequence[str]) -> None:
        meta = model._meta
        self.model = model
        self.table = connection.ops.quote_name(meta.db_table)
        self.fields = [meta.get_field(name) for name in columns]
        self.columns = [_column(model, name) for name in columns]
        self._preps = [self._prep_for(f) for f in self.fields]
        provided = {f.name for f in self.fields}
        self._defaults: list[tuple[str, Any]] = []
        for field in meta.concrete_fields:
            if field.primary_key or field.name in provided:
                continue
            value = field.get_default() if field.has_default() else None
            text = isinstance(field, models.CharField | models.TextField)
            if value is None and not field.null and text:
                value = ""
            prep = self._prep_for(field)
            if prep is not None and value is not None:
                value = prep(value)
            self._defaults.append((str(field.column), value))

    @staticmethod
    def _prep_for(field: Any) -> Callable[[Any], Any] | None:
        # Called per value on big batches, so the conversions skip Field's layers
        # (get_db_prep_save costs several microseconds per value) and go straight to
        # what the backend stores.
        conn = connections[DEFAULT_DB_ALIAS]
        if isinstance(field, models.JSONField):
            ops, encoder = conn.ops, field.encoder
            return lambda value: ops.adapt_json_value(value, encoder)
        if isinstance(field, models.DateTimeField):
            if conn.vendor == "sqlite" and settings.USE_TZ:
                return _sqlite_utc_text
            adapt = conn.ops.adapt_datetimefield_value
            return lambda value: adapt(_aware(value))
        if isinstance(field, models.DateField):
            return lambda value: field.get_db_prep_save(value, conn)
        return None

    def _prepare(self, rows: Sequence[Sequence[Any]], extra: int = 0) -> list[tuple[Any, ...]]:
        """Converted parameter tuples: the given columns, then (on insert) the defaults.

        Works column by column (``zip(*rows)``), so only the values that need a
        conversion pass through Python code. ``extra`` trailing values per row (the
        key of an update) are passed through.
        """
        width = len(self.columns) + extra
        columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) or [()] * width
        for i, prep in enumerate(self._preps):
            if prep is not None:
                columns[i] = [None if v is None else prep(v) for v in columns[i]]
        if not extra:
            count = len(rows)
            columns.extend([value] * count for _, value in self._defaults)
        return list(zip(*columns, strict=True))

    def insert(self, rows: Sequence[Sequence[Any]], conflict: str = "") -> None:
        """Insert rows (values in ``columns`` order); ``conflict`` is an ON CONFLICT clause."""
        if not rows:
            return
        quote = connection.ops.quote_name
        columns = [quote(c) for c in self.columns + [c for c, _ in self._defaults]]
        insert_values(self.table, columns, ["%s"] * len(columns), self._prepare(rows), conflict)

    def update(self, rows: Sequence[Sequence[Any]], key: str = "id") -> None:
        """Update rows by ``key``: each row is the ``columns`` values followed by the key."""
        if not rows:
            return
        quote = connection.ops.quote_name
        sets = ", ".join(f"{quote(c)} = %s" for c in self.columns)
        key_column = _column(self.model, key)
        sql = f"UPDATE {self.table} SET {sets} WHERE {quote(key_column)} = %s"
        params = self._prepare(rows, extra=1)
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


# Rows per multi-row INSERT. One statement with many VALUES groups binds the
# same parameters as executemany does row by row, but the database runs one
# statement per thousand rows instead of one per row: on SQLite about half a
# microsecond less per 16-column row.
_ROWS_PER_STATEMENT = 1000
# PostgreSQL's wire protocol numbers parameters with 16 bits.
_POSTGRES_PARAMETERS = 65535


def parameter_limit() -> int:
    """How many parameters one statement may bind on this connection (0: unknown)."""
    if connection.vendor == "postgresql":
        return _POSTGRES_PARAMETERS
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        # Django assumes 999, SQLite's old default; the library's own limit is
        # usually far higher (32766 since SQLite 3.32).
        return int(connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return 0


def insert_values(
    table: str,
    columns: Sequence[str],
    placeholders: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: str = "",
) -> None:
    """Insert ``rows`` with multi-row ``INSERT ... VALUES (...), (...)`` statements.

    ``table`` and ``columns`` are quoted names; ``placeholders`` gives each
    column's (``%s``, or ``%s::jsonb`` and the like). Rows keep their order, so
    AUTOINCREMENT ids follow it. Falls back to ``executemany`` where the number
    of parameters a statement may bind is unknown.
    """
    _insert(
        table,
        columns,
        placeholders,
        len(rows),
        lambda start, end: list(chain.from_iterable(rows[start:end])),
        lambda: rows,
        conflict,
    )


def insert_columns(
    table: str, columns: Sequence[str], placeholders: Sequence[str], values: Sequence[Sequence[Any]]
) -> None:
    """``insert_values`` for rows given as columns: ``values`` has one list per column.

    No tuple per row is kept: each statement's parameters are read across the
    columns' slices. (10k row tuples alive at once are enough to set off garbage
    collections that walk every object of the process.)
    """

    def flat(start: int, end: int) -> list[Any]:
        return list(
            chain.from_iterable(zip(*[column[start:end] for column in values], strict=True))
        )

    count = len(values[0]) if values else 0
    _insert(table, columns, placeholders, count, flat, lambda: list(zip(*values, strict=True)))


def _insert(
    table: str,
    columns: Sequence[str],
    placeholders: Sequence[str],
    count: int,
    flat: Callable[[int, int], list[Any]],
    rows: Callable[[], Sequence[Sequence[Any]]],
    conflict: str = "",
) -> None:
    if not count:
        return
    group = "(" + ", ".join(placeholders) + ")"
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    per = min(_ROWS_PER_STATEMENT, parameter_limit() // max(len(columns), 1))
    with connection.cursor() as cursor:
        if per < 2:
            cursor.executemany(f"{head}{group} {conflict}", rows())
            return
        execute = _raw_execute(cursor)
        full = f"{head}{', '.join([group] * per)} {conflict}"
        whole = count - count % per
        for start in range(0, whole, per):
            execute(full, flat(start, start + per))
        if whole < count:
            execute(f"{head}{', '.join([group] * (count - whole))} {conflict}", flat(whole, count))


def _raw_execute(cursor: Any) -> Callable[[str, list[Any]], Any]:
    """``execute`` for statements whose only placeholders are our own ``%s``.

    On SQLite, Django's cursor rewrites ``%s`` to ``?`` with a regular expression
    on every call: over a thousand-row statement that costs more than the insert.
    The rewrite is done here once per statement text, on the sqlite3 cursor.
    """
    if connection.vendor != "sqlite":
        return cast(Callable[[str, list[Any]], Any], cursor.execute)
    import sqlite3

    raw = cursor.cursor
    converted: dict[str, str] = {}

    def execute(sql: str, params: list[Any]) -> Any:
        text = converted.get(sql)
        if text is None:
            text = converted[sql] = sql.replace("%s", "?")
        return sqlite3.Cursor.execute(raw, text, params)

    return execute


def column_of(model: type[models.Model], field: str) -> str:
    """The quoted column name of a model field."""
    return connection.ops.quote_name(_column(model, field))


def rows_by(model: type[models.Model], key: str, value: Any, fields: Sequence[str]) -> list[Any]:
    """Plain tuples of ``fields`` for rows where ``key`` equals ``value`` (one query)."""
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {', '.join(column_of(model, f) for f in fields)} "
        f"FROM {quote(model._meta.db_table)} WHERE {column_of(model, key)} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        return list(cursor.fetchall())
