"""TaskRun rows: their column layout, and the one batched insert of a run's rows.

The recorder keeps a task's changing values as a plain list in ``UPDATE_COLUMNS``
order, or, for the tasks the inline loop finished in one step, as parallel
columns (``fastloop.FinishedColumns``). The first flush writes every TaskRun row of a
run with one ``executemany``, built column by column: per node id a list for
each column, filled where a task has values, then zipped into parameter tuples
in C. At 10k nodes a Python-level tuple per row, two date-time texts and a JSON
encoder call per node cost as much as the insert itself; here a row costs a few
list stores. Texts (stdout, stderr, log, error, traceback) default to '' in the
database and are only written for the few tasks that have any.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter, sub
from typing import Any

from django.db import connection

from ..models import TaskRun
from ..run.inline_loop import FinishedColumns
from ..run.planning import RunPlan
from .sql import TableWriter, column_of, insert_columns

__all__ = [
    "HOST",
    "PID",
    "TEXT_COLUMNS",
    "UPDATE_COLUMNS",
    "consecutive_ids",
    "fresh_row",
    "insert_task_rows",
    "outputs_text",
    "widen_sqlite_cache",
    "write_texts",
]

# What changes while a task runs; row layout of the buffered task updates. The
# outputs slot holds ((dataset, artifact id), ...) once the artifacts are saved.
UPDATE_COLUMNS = (
    "state",
    "attempts",
    "started",
    "finished",
    "duration",
    "host",
    "pid",
    "outputs",
    "stdout",
    "stderr",
    "log",
    "error",
    "traceback",
)
_OUTPUTS = UPDATE_COLUMNS.index("outputs")
TEXT_COLUMNS = UPDATE_COLUMNS[_OUTPUTS + 1 :]
# The columns of the first insert: the run's, the plan's, then UPDATE_COLUMNS up to the texts.
_INSERT_COLUMNS = (
    "run",
    "node",
    "code_hash",
    "key",
    "key_prefix",
    "input_keys",
    "reads",
    "reason",
    "reason_detail",
    *UPDATE_COLUMNS[: _OUTPUTS + 1],
)
HOST = socket.gethostname()
PID = os.getpid()
# SQLite's compiled-in default (negative: KiB) and what a recorded run raises it to.
_SQLITE_DEFAULT_CACHE = -2000
_SQLITE_CACHE = -65536


def fresh_row(state: str) -> list[Any]:
    """``UPDATE_COLUMNS`` values of a task that has not run (yet)."""
    return [state, 0, None, None, None, HOST, None, (), "", "", "", "", ""]


def outputs_text(pairs: Iterable[tuple[str, int]]) -> str:
    """The JSON text of {dataset: artifact id} (the rows of several outputs or an executor's).

    The one-output tasks of the inline loop, nearly all rows, get theirs from the
    pipeline's quoted names instead (``Recorder._finished_outputs``).
    """
    return json.dumps(dict(pairs))


def widen_sqlite_cache() -> None:
    """Give this SQLite connection a page cache that holds the indexes a run writes to.

    Each task row adds an entry at a random place in the key-prefix index; past
    SQLite's default 2 MB cache most of those land on pages read back from disk.
    A cache the user configured (anything but the default) is left alone.
    """
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        found = cursor.fetchone()
        if found is not None and found[0] == _SQLITE_DEFAULT_CACHE:
            cursor.execute(f"PRAGMA cache_size = {_SQLITE_CACHE}")


def insert_task_rows(
    plan: RunPlan,
    run_id: int,
    states: Sequence[str],
    rows: Mapping[int, Sequence[Any]],
    finished: FinishedColumns,
    finished_outputs: Sequence[str],
    cached_outputs: Mapping[int, str],
) -> tuple[list[int], list[tuple[int, Sequence[Any]]]]:
    """Insert one TaskRun per node with what happened so far; return (row order, texts).

    ``states`` per node id; ``rows`` the buffered rows (outputs as (dataset, id)
    pairs); ``finished`` the tasks done in one step, with ``finished_outputs``
    their outputs' JSON texts; ``cached_outputs`` the outputs text of reused nodes.

    Rows go in in execution order (the finished tasks as they ran, then the rest
    in topological order), which is a topological order too: the finished
    columns are used as they are and only the plan's columns are picked, in C.
    Returns that order (node ids) and (node id, texts) for the rows whose texts
    are not all empty, which the caller writes once it knows the rows' ids.
    """
    done_ids = finished.ids
    rest: list[int] = list(plan.order)
    if done_ids:
        done = set(done_ids)
        rest = [i for i in rest if i not in done]
    row_order = done_ids + rest
    attempts: list[Any] = list(finished.attempts)
    started: list[Any] = list(finished.started)
    ended: list[Any] = list(finished.finished)
    duration: list[Any] = list(map(sub, finished.finished, finished.started))
    hosts: list[Any] = [HOST] * len(row_order)
    pids: list[Any] = [PID] * len(done_ids)
    outputs: list[Any] = list(finished_outputs)
    texts: list[tuple[int, Sequence[Any]]] = []
    for node_id in rest:
        row = rows.get(node_id)
        if row is None:
            attempts.append(0)
            started.append(None)
            ended.append(None)
            duration.append(None)
            pids.append(None)
            outputs.append(cached_outputs.get(node_id, "{}"))
            continue
        hosts[len(attempts)] = row[5]  # this row's position
        attempts.append(row[1])
        started.append(row[2])
        ended.append(row[3])
        duration.append(row[4])
        pids.append(row[6])
        outputs.append(outputs_text(row[_OUTPUTS]))
        if any(row[_OUTPUTS + 1 :]):
            texts.append((node_id, row[_OUTPUTS + 1 :]))
    if row_order == list(range(len(row_order))):  # ran in id order (chains, fan-outs)
        pick: Callable[[Sequence[Any]], Sequence[Any]] = _same
    elif len(row_order) > 1:
        pick = itemgetter(*row_order)
    else:
        pick = lambda column: [column[row_order[0]]]  # noqa: E731
    columns: list[Sequence[Any]] = [
        pick(plan.pipeline.columns.names),
        pick(plan.code_hashes),
        pick(plan.keys),
        pick(plan.key_prefixes),
        pick(plan.input_keys_json),
        pick(plan.reads_json),
        pick(plan.reasons),
        pick(plan.details),
        pick(states),
        attempts,
        started,
        ended,
        duration,
        hosts,
        pids,
        outputs,
    ]
    table = connection.ops.quote_name(TaskRun._meta.db_table)
    names = [column_of(TaskRun, c) for c in _INSERT_COLUMNS]
    # JSON columns are given as text; PostgreSQL needs the cast to jsonb spelled out.
    json_cast = "::jsonb" if connection.vendor == "postgresql" else ""
    marks = [
        f"%s{json_cast}" if c in ("input_keys", "reads", "outputs") else "%s"
        for c in _INSERT_COLUMNS
    ]
    insert_columns(table, names, marks, [[run_id] * len(row_order), *columns])
    return row_order, texts


def _same(column: Sequence[Any]) -> Sequence[Any]:
    return column


def write_texts(texts: Sequence[tuple[int, Sequence[Any]]], task_ids: Sequence[int]) -> None:
    """Set the texts ``insert_task_rows`` returned, now that the rows have ids."""
    TableWriter(TaskRun, TEXT_COLUMNS).update(
        [[*values, task_ids[node_id]] for node_id, values in texts]
    )


def consecutive_ids(plan: RunPlan, run_id: int, order: Sequence[int]) -> list[int] | None:
    """Per node id, the TaskRun ids ``insert_task_rows`` just gave on SQLite; else ``None``.

    One ``executemany`` inside the run's transaction holds SQLite's write lock, and
    AUTOINCREMENT hands out increasing rowids, so the rows got consecutive ids
    ending at ``last_insert_rowid()``, in ``order`` (the row order it returned).
    Two indexed lookups (the first and last node) confirm it; reading back 10k
    (node, id) pairs costs more.
    ``None`` (on other backends, or if the check fails) means: read the ids.
    """
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
