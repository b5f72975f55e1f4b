"""records/sql.py: batched rows read back through the ORM exactly as Django would store them.

On SQLite and on PostgreSQL (``MLOPS_TEST_DATABASE=postgres``), where a batch
travels as one JSON text that the server unpacks: texts that need quoting,
nested JSON, NULLs, date-times given as epoch seconds and as aware datetimes in
another zone, non-finite floats, and batches larger than one statement takes.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext

from django_mlops.models import Metric, Param, Run
from django_mlops.records import sql
from django_mlops.records.sql import Table

pytestmark = pytest.mark.django_db

_TRICKY = ['quote " and \\ backslash', "it's", "ünïcödé ✓", "{not json}", "", "a,b\n\tc"]


def _run() -> Run:
    return Run.objects.create(pipeline="sql", status="running")


def test_texts_and_json_values_read_back_unchanged() -> None:
    run = _run()
    values: list[object] = [
        {"nested": {"list": [1, 2.5, None, True]}, "text": _TRICKY[0]},
        [1, "two", {"3": [4]}],
        _TRICKY[1],
        12345678901234,
        {},
        None,
    ]
    rows = [[run.pk, f"key {i} {_TRICKY[i % len(_TRICKY)]}", v] for i, v in enumerate(values)]
    Table(Param, ("run", "key", "value"), "default").insert(rows)
    stored = dict(Param.objects.filter(run=run).values_list("key", "value"))
    assert stored == {key: value for _, key, value in rows}


def test_times_floats_and_defaults() -> None:
    run = _run()
    epoch = 1_790_000_000.123456
    zoned = dt.datetime(2026, 12, 3, 9, 30, 15, 654321, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    columns = ("run", "key", "value", "step", "timestamp")
    Table(Metric, columns, "default").insert(
        [
            [run.pk, "epoch", 0.1, None, epoch],
            [run.pk, "zoned", math.inf, 3, zoned],
            [run.pk, "negative", -math.inf, -(2**40), 0.0],
        ]
    )
    found = {m.key: m for m in Metric.objects.filter(run=run)}
    expected = dt.datetime.fromtimestamp(epoch, tz=dt.UTC)
    assert abs(found["epoch"].timestamp - expected) <= dt.timedelta(microseconds=1)
    assert found["zoned"].timestamp == zoned
    assert found["zoned"].value == math.inf and found["negative"].value == -math.inf
    assert found["negative"].step == -(2**40) and found["epoch"].step is None
    assert found["negative"].timestamp == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    assert not any(m.reused for m in found.values())  # not given: the model's default


def test_updates_by_key() -> None:
    run = _run()
    Table(Param, ("run", "key", "value"), "default").insert(
        [[run.pk, name, 0] for name in ("a", "b", "c")]
    )
    ids = dict(Param.objects.filter(run=run).values_list("key", "id"))
    Table(Param, ("key", "value"), "default").update(
        [[f"{name}!", {"was": name, "text": _TRICKY[0]}, ids[name]] for name in ("a", "c")],
        ("id",),
    )
    stored = dict(Param.objects.filter(run=run).values_list("key", "value"))
    assert stored == {
        "a!": {"was": "a", "text": _TRICKY[0]},
        "b": 0,
        "c!": {"was": "c", "text": _TRICKY[0]},
    }


def test_batches_larger_than_a_statement(monkeypatch: pytest.MonkeyPatch) -> None:
    run = _run()
    monkeypatch.setattr(sql, "_ROWS_PER_STATEMENT", 3)
    rows = [[run.pk, f"k{i:02d}", i] for i in range(8)]
    with CaptureQueriesContext(connection) as queries:
        Table(Param, ("run", "key", "value"), "default").insert(rows)
    inserts = [q for q in queries if "INSERT INTO" in q["sql"]]
    # SQLite: one executemany; PostgreSQL: three statements of 3, 3 and 2 rows.
    assert len(inserts) == (3 if connection.vendor == "postgresql" else 1)
    stored = list(Param.objects.filter(run=run).order_by("id").values_list("key", "value"))
    assert stored == [(key, value) for _, key, value in rows]


def test_a_text_longer_than_its_column_is_refused_not_cut() -> None:
    run = _run()
    table = Table(Param, ("run", "key", "value"), "default")
    if connection.vendor != "postgresql":
        pytest.skip("SQLite does not bound text lengths")
    with pytest.raises(DataError), transaction.atomic():
        table.insert([[run.pk, "k" * 201, 1]])
    assert not Param.objects.filter(run=run).exists()
