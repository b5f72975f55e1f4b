"""TaskRun rows: their column layout, and the one batched insert of a run's rows.

The recorder keeps a task's changing values as a plain list in ``UPDATE_COLUMNS``
order and writes every row of a run with one ``executemany`` at its first flush.
On SQLite the rows are built directly in the form the backend stores (texts for
date-times and JSON), one pass per row: at 10k nodes the generic column-wise
conversion of ``TableWriter.insert`` and a dict plus a JSON encoder call per
node cost as much as the insert itself.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection

from .models import TaskRun
from .planning import RunPlan
from .sqlbatch import TableWriter, _sqlite_utc_text, column_of, second_text

__all__ = [
    "HOST",
    "PLAN_COLUMNS",
    "UPDATE_COLUMNS",
    "consecutive_ids",
    "epoch",
    "fresh_row",
    "insert_task_rows",
    "widen_sqlite_cache",
]

# What changes while a task runs; row layout of the buffered task updates.
UPDATE_COLUMNS = (
    "state",
    "attempts",
    "started_at",
    "finished_at",
    "duration",
    "host",
    "pid",
    "stdout",
    "stderr",
    "log",
    "error",
    "traceback",
)
# What the plan decided; fixed for the run.
PLAN_COLUMNS = ("run", "node", "code_hash", "key", "input_keys", "reason", "reason_detail")
HOST = socket.gethostname()
# What json.dumps does to a str (ensure_ascii): the C function, without the
# encoder set-up json.dumps costs per call.
_quote = json.encoder.encode_basestring_ascii
# SQLite's compiled-in default (negative: KiB) and what a recorded run raises it to.
_SQLITE_DEFAULT_CACHE = -2000
_SQLITE_CACHE = -65536


def epoch(value: Any) -> float | None:
    """Epoch seconds from an epoch float or a datetime (TableWriter stores either)."""
    if value is None or isinstance(value, float | int):
        return value
    return float(value.timestamp())


def fresh_row(state: str) -> list[Any]:
    """``UPDATE_COLUMNS`` values of a task that has not run (yet)."""
    return [state, 0, None, None, None, HOST, None, "", "", "", "", ""]


def widen_sqlite_cache() -> None:
    """Give this SQLite connection a page cache that holds the indexes a run writes to.

    Each task row adds an entry at a random place in the (key, state) index; past
    SQLite's default 2 MB cache most of those land on pages read back from disk.
    A cache the user configured (anything but the default) is left alone.
    """
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        found = cursor.fetchone()
        if found is not None and found[0] == _SQLITE_DEFAULT_CACHE:
            cursor.execute(f"PRAGMA cache_size = {_SQLITE_CACHE}")


def insert_task_rows(
    plan: RunPlan, rows: Mapping[int, Sequence[Any]], states: Sequence[str], run_id: int
) -> None:
    """Insert one TaskRun per node in topological order; ``rows`` has the tasks begun so far."""
    writer = TableWriter(TaskRun, UPDATE_COLUMNS + PLAN_COLUMNS)
    if connection.vendor == "sqlite":
        writer.insert_prepared(_sqlite_rows(plan, rows, states, run_id, writer))
        return
    nodes, input_keys = plan.pipeline.nodes, plan.input_keys
    writer.insert(
        [
            [
                *(rows.get(i) or fresh_row(states[i])),
                run_id,
                nodes[i].name,
                plan.code_hashes[i],
                plan.keys[i],
                input_keys[i],
                plan.reasons[i],
                plan.details[i],
            ]
            for i in plan.order
        ]
    )


def consecutive_ids(plan: RunPlan, run_id: int) -> list[int] | None:
    """Per node id, the TaskRun ids ``insert_task_rows`` just gave on SQLite; else ``None``.

    One ``executemany`` inside the run's transaction holds SQLite's write lock, and
    AUTOINCREMENT hands out increasing rowids, so the rows got consecutive ids
    ending at ``last_insert_rowid()``, in ``plan.order``. Two indexed lookups (the
    first and last node) confirm it; reading back 10k (node, id) pairs costs more.
    ``None`` (on other backends, or if the check fails) means: read the ids.
    """
    order = plan.order
    if connection.vendor != "sqlite" or not order:
        return None
    nodes = plan.pipeline.nodes
    first_name, last_name = nodes[order[0]].name, nodes[order[-1]].name
    table = connection.ops.quote_name(TaskRun._meta.db_table)
    run, node, pk = (column_of(TaskRun, f) for f in ("run", "node", "id"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_insert_rowid()")
        last = int(cursor.fetchone()[0])
        cursor.execute(
            f"SELECT {node}, {pk} FROM {table} WHERE {run} = %s AND {node} IN (%s, %s)",
            [run_id, first_name, last_name],
        )
        found = dict(cursor.fetchall())
    first = last - len(order) + 1
    if found.get(first_name) != first or found.get(last_name) != last:
        return None
    ids = [0] * len(order)
    for offset, node_id in enumerate(order):
        ids[node_id] = first + offset
    return ids


def _sqlite_rows(
    plan: RunPlan,
    rows: Mapping[int, Sequence[Any]],
    states: Sequence[str],
    run_id: int,
    writer: TableWriter,
) -> list[tuple[Any, ...]]:
    """The rows as SQLite stores them, each built once.

    ``input_keys`` is the text ``json.dumps`` gives for the dict {dataset: key}
    (keys are hex; each dataset name is quoted once per run), and the date-times
    go through the writer's own converter.
    """
    nodes = plan.pipeline.nodes
    raw_keys, hashes, keys = plan.raw_input_keys, plan.code_hashes, plan.keys
    reasons, details = plan.reasons, plan.details
    to_text = writer.converter("started_at") or str
    # Task times of a run share few seconds: the cached "YYYY-MM-DD HH:MM:SS" plus the
    # fraction inline, rather than through ``to_text`` (two calls per row cost ~0.4 us).
    fast = to_text is _sqlite_utc_text
    quoted: dict[str, str] = {}
    params = []
    for i in plan.order:
        row = rows.get(i) or fresh_row(states[i])
        node = nodes[i]
        # graph.inputs(i) without an engine call per row: the node's inputs are the
        # graph's unless some are params (which the graph leaves out, and so do the keys).
        names = node.inputs
        if len(names) != len(raw_keys[i]):
            names = node.datasets
        if not names:
            input_keys = "{}"
        elif len(names) == 1:
            name = names[0]
            text = quoted.get(name)
            if text is None:
                text = quoted[name] = _quote(name)
            input_keys = f'{{{text}: "{raw_keys[i][0]}"}}'
        elif len(set(names)) == len(names):
            parts = []
            for name, key in zip(names, raw_keys[i], strict=True):
                text = quoted.get(name)
                if text is None:
                    text = quoted[name] = _quote(name)
                parts.append(f'{text}: "{key}"')
            input_keys = "{" + ", ".join(parts) + "}"
        else:  # a dataset read twice: the dict keeps one entry, as json.dumps shows
            input_keys = json.dumps(dict(zip(names, raw_keys[i], strict=True)))
        started, finished = row[2], row[3]
        if fast and type(started) is float and type(finished) is float:
            second = int(started)
            started = f"{second_text(second)}.{int((started - second) * 1e6):06d}"
            second = int(finished)
            finished = f"{second_text(second)}.{int((finished - second) * 1e6):06d}"
        else:
            started = None if started is None else to_text(started)
            finished = None if finished is None else to_text(finished)
        params.append(
            (
                row[0],
                row[1],
                started,
                finished,
                *row[4:],
                run_id,
                node.name,
                hashes[i],
                keys[i],
                input_keys,
                reasons[i],
                details[i],
            )
        )
    return params
