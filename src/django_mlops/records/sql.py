"""The one module with raw SQL: batched inserts, updates and reads of record rows.

The ORM builds a model instance per row and compiles a query per ``save()``;
recording a 10k-node run that way costs more than running it. ``Table`` writes
plain value lists instead, with table and column names from the model's
``_meta``. Everything goes through the cursor of ``django.db.connections[using]``,
so Django's DEBUG query log, ``execute_wrappers``, database routers (callers pass
``using``) and Django's database exceptions all apply. Model signals are not
sent for rows written here (docs/architecture.md says so).

Values are converted as Django's own field code would store them: JSON as the
``json.dumps`` text (with the field's encoder) that every backend's
``adapt_json_value`` stores; date-times may be given as epoch seconds (what the
runner measures), turned into what the backend stores.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import Any

from django.db import connections, models
from django.db.models.expressions import RawSQL

__all__ = [
    "Table",
    "column",
    "estimated_count",
    "many_values",
    "parameter_limit",
    "select",
    "widen_sqlite_cache",
]

_UTC = dt.UTC
# Rows per PostgreSQL statement (the rows of its one JSON text parameter).
_ROWS_PER_STATEMENT = 2_000
# PostgreSQL's wire protocol numbers parameters with 16 bits.
_POSTGRES_PARAMETERS = 65535
# SQLite's compiled-in page cache (negative: KiB) and what a recorded run raises it to.
_SQLITE_DEFAULT_CACHE = -2000
_SQLITE_CACHE = -65536
# A text type with a length bound, as Django's PostgreSQL backend names it.
_BOUNDED_TEXT = re.compile(r"^(varchar|character varying)\(\d+\)$")
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


def _postgres_datetime(value: dt.datetime | float) -> str:
    """An aware date-time as PostgreSQL reads it from a text (ISO 8601, with its offset)."""
    if isinstance(value, float | int):
        return f"{_sqlite_datetime(value)}+00:00"
    return value.isoformat()


def _datetime_texts(
    values: Iterable[Any], one: Callable[[Any], str], suffix: str
) -> list[str | None]:
    """A column of date-times as ``one`` makes them; epoch floats (most) without a call each."""
    seconds = _SECOND_TEXT
    texts: list[str | None] = []
    add = texts.append
    for value in values:
        if value.__class__ is float:
            second = int(value)
            text = seconds.get(second) or _second_text(second)
            add(f"{text}.{int((value - second) * 1e6):06d}{suffix}")
        else:
            add(None if value is None else one(value))
    return texts


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
    other concrete field gets its model default (a field with a database default
    is left to the database). Values of the JSON fields named in ``json_texts``
    are given as JSON texts already (built without an encoder call per row) and
    stored as they are.

    SQLite takes one short statement with a parameter set per row
    (``executemany``). PostgreSQL takes one statement per batch with one
    parameter, the batch as a JSON array of rows, which the server unpacks
    (``jsonb_array_elements``) and casts column by column: the text is made by
    the C JSON encoder in one call and quoted by libpq in one call, where a
    multi-row ``VALUES`` list costs the driver a regular expression over 16,000
    placeholders and an adapter call per value (measured: 4x the time).
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
        self.postgres = connection.vendor == "postgresql"
        self.table = connection.ops.quote_name(meta.db_table)
        self.columns = list(columns)
        self._quoted = [column(model, name, using) for name in columns]
        fields = [meta.get_field(name) for name in columns]
        self._preps = [
            None if name in json_texts else self._prep_for(field)
            for name, field in zip(columns, fields, strict=True)
        ]
        self._types = [self._sql_type(field) for field in fields]
        provided = set(columns)
        self._defaults: list[tuple[str, str, Any]] = []  # (quoted column, SQL type, value)
        for field in meta.concrete_fields:
            if field.primary_key or field.name in provided:
                continue
            if field.db_default is not models.NOT_PROVIDED:
                continue  # the database fills it in
            value = field.get_default() if field.has_default() else None
            if value is None and not field.null and isinstance(field, models.CharField):
                value = ""
            prep = self._prep_for(field)
            if prep is not None and value is not None:
                value = prep([value])[0]
            quoted = connection.ops.quote_name(field.column)
            self._defaults.append((quoted, self._sql_type(field), value))

    def _sql_type(self, field: Any) -> str:
        """The type PostgreSQL casts each unpacked value to: the column's, but texts as text.

        An explicit cast to ``varchar(n)`` would cut a longer text silently; from
        ``text`` the INSERT's own conversion refuses it, as for any other insert.
        """
        return _BOUNDED_TEXT.sub("text", str(field.db_type(connections[self.using])))

    def _prep_for(self, field: Any) -> Callable[[Iterable[Any]], list[Any]] | None:
        # Converts a column of a big batch at once (None stays None): straight to what
        # the backend stores, not through Field.get_db_prep_save's layers per value.
        connection = connections[self.using]
        if isinstance(field, models.JSONField):
            # The text every backend's adapt_json_value stores (PostgreSQL's wraps
            # the same json.dumps call in a Jsonb, which would be adapted per row).
            dumps = partial(json.dumps, cls=field.encoder) if field.encoder else json.dumps
            empty = dumps({})  # most rows: made once, not per row

            def adapt_json(values: Iterable[Any]) -> list[Any]:
                return [empty if v == {} else None if v is None else dumps(v) for v in values]

            return adapt_json
        if isinstance(field, models.DateTimeField):
            if connection.vendor == "sqlite":
                return partial(_datetime_texts, one=_sqlite_datetime, suffix="")
            return partial(_datetime_texts, one=_postgres_datetime, suffix="+00:00")
        return None

    def _columns(self, rows: Sequence[Sequence[Any]], width: int) -> list[Any]:
        """The rows' values column by column, converted for the backend."""
        values: list[Any] = list(zip(*rows, strict=True)) or [()] * width
        for i, prep in enumerate(self._preps):
            if prep is not None:
                values[i] = prep(values[i])
        return values

    def _parameter_sets(self, rows: Sequence[Sequence[Any]], extra: int = 0) -> list[Any]:
        """One parameter set per row: the converted columns, then the defaults (insert)."""
        if not any(self._preps) and (extra or not self._defaults):
            return list(rows)  # nothing to convert or add: the rows as they are
        values = self._columns(rows, len(self.columns) + extra)
        if not extra:
            values.extend([value] * len(rows) for _, _, value in self._defaults)
        return list(zip(*values, strict=True))

    def _batches(self, rows: Sequence[Sequence[Any]], keys: int = 0) -> Iterator[str]:
        """PostgreSQL: the rows as JSON array texts, one per statement."""
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            chunk = rows[start : start + _ROWS_PER_STATEMENT]
            converted = list(zip(*self._columns(chunk, len(self.columns) + keys), strict=True))
            try:
                yield json.dumps(converted, allow_nan=False)
            except ValueError:  # NaN or an infinity, which JSON cannot say: as texts
                yield json.dumps(
                    [[_float_text(v) for v in row] for row in converted], allow_nan=False
                )

    def _unpacked(self, i: int, sql_type: str) -> str:
        """Value ``i`` of an unpacked row ``e``, cast to its column's type."""
        return f"(e->>{i})::{sql_type}"

    def insert(self, rows: Sequence[Sequence[Any]], conflict: str = "") -> None:
        """Insert rows (values in ``columns`` order); ``conflict`` is an ON CONFLICT clause."""
        if not rows:
            return
        connection = connections[self.using]
        names = self._quoted + [name for name, _, _ in self._defaults]
        head = f"INSERT INTO {self.table} ({', '.join(names)}) "
        with connection.cursor() as cursor:
            if not self.postgres:
                # One statement, many parameter sets: Django's SQLite cursor
                # rewrites placeholders once per call (a regular expression over
                # the text), so one short statement beats one long one.
                group = ", ".join(["%s"] * len(names))
                cursor.executemany(f"{head}VALUES ({group}) {conflict}", self._parameter_sets(rows))
                return
            selected = [self._unpacked(i, t) for i, t in enumerate(self._types)]
            selected += [f"%s::{sql_type}" for _, sql_type, _ in self._defaults]
            defaults = [value for _, _, value in self._defaults]
            sql = (
                f"{head}SELECT {', '.join(selected)} "
                f"FROM jsonb_array_elements(%s::jsonb) AS e {conflict}"
            )
            for batch in self._batches(rows):
                cursor.execute(sql, [*defaults, batch])

    def update(self, rows: Sequence[Sequence[Any]], keys: Sequence[str]) -> None:
        """Update rows: each row is the ``columns`` values followed by the ``keys`` values."""
        if not rows:
            return
        connection = connections[self.using]
        key_fields = [self.model._meta.get_field(key) for key in keys]
        key_columns = [column(self.model, key, self.using) for key in keys]
        with connection.cursor() as cursor:
            if not self.postgres:
                sets = ", ".join(f"{name} = %s" for name in self._quoted)
                where = " AND ".join(f"{name} = %s" for name in key_columns)
                cursor.executemany(
                    f"UPDATE {self.table} SET {sets} WHERE {where}",
                    self._parameter_sets(rows, extra=len(keys)),
                )
                return
            sets = ", ".join(
                f"{name} = {self._unpacked(i, t)}"
                for i, (name, t) in enumerate(zip(self._quoted, self._types, strict=True))
            )
            first = len(self.columns)
            where = " AND ".join(
                f"{self.table}.{name} = {self._unpacked(first + i, self._sql_type(field))}"
                for i, (name, field) in enumerate(zip(key_columns, key_fields, strict=True))
            )
            sql = f"UPDATE {self.table} SET {sets} FROM jsonb_array_elements(%s::jsonb) AS e "
            for batch in self._batches(rows, len(keys)):
                cursor.execute(f"{sql}WHERE {where}", [batch])


def _float_text(value: Any) -> Any:
    """A non-finite float as the text PostgreSQL's float input reads; anything else as is."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


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
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def many_values(values: Sequence[Any], using: str) -> Any:
    """For ``field__in=``: many values as a subquery over one JSON text parameter.

    A plain list makes the ORM prepare and bind each value as a parameter of its
    own (about 3 us each for 10,000 cache keys, and chunks to stay within the
    backend's parameter limit); the server unpacks one JSON array instead.
    Backends other than SQLite (whose JSON functions Django's JSONField
    requires) and PostgreSQL get the plain list.
    """
    vendor = connections[using].vendor
    if vendor == "postgresql":
        return RawSQL("SELECT jsonb_array_elements_text(%s::jsonb)", [json.dumps(list(values))])
    if vendor == "sqlite":
        return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(list(values))])
    return list(values)
