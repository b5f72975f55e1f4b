"""What one flush writes, inside its transaction: task rows and the rows that hang off them.

The first flush inserts one TaskRun per node (in topological order, so id order
reads as a run order) with the states reached by then; later flushes update the
rows that changed. Outputs, failed attempts, metrics, logged artifacts, params
and model versions of the buffered rows follow, each as one batched statement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..models import LoggedArtifact, Metric, Param, TaskAttempt, TaskOutput, TaskRun
from .rows import TASK_COLUMNS, TEXT_COLUMNS
from .sql import Table, select

if TYPE_CHECKING:
    from .writer import RecordWriter

__all__ = ["write_batch"]

_NO_READS: dict[str, str] = {}
_OUTPUT_COLUMNS = ("task", "dataset", "artifact")
_ATTEMPT_COLUMNS = (
    *("task", "number", "started_at", "finished_at", "duration"),
    *("host", "pid", "error", "traceback"),
)
_METRIC_COLUMNS = ("run", "task", "key", "value", "step", "timestamp")
_LOGGED_COLUMNS = ("run", "task", "name", "artifact", "created_at")


def write_batch(writer: RecordWriter, first: bool) -> None:
    """Everything ``writer`` has buffered, inside the caller's transaction."""
    if first and writer.resumed:
        from .resume import reset_tasks

        reset = [writer.rows[i] for i in sorted(writer.dirty)]
        reset_tasks(writer.using, writer.plan, reset, writer.task_ids, writer.history.reused_tasks)
    elif first:
        writer.task_ids = _insert_tasks(writer)
    else:
        _update_tasks(writer)
    ids, artifacts, using, run_id = (
        writer.task_ids,
        writer.outputs.artifact_ids,
        writer.using,
        writer.run_id,
    )
    outputs: list[list[Any]] = []
    attempts: list[list[Any]] = []
    add_output, rows = outputs.append, writer.rows
    for node_id in sorted(writer.dirty):
        row = rows[node_id]
        task = ids[node_id]
        for dataset, serialized in row.outputs:  # a plain loop: no frame per node
            add_output([task, dataset, artifacts[serialized.sha256]])
        if row.failures:
            attempts += [
                [
                    task,
                    f.number,
                    f.started,
                    f.finished,
                    _span(f.started, f.finished),
                    f.host,
                    f.pid,
                    f.error,
                    f.traceback,
                ]
                for f in row.failures
            ]
    if first:
        outputs += _reused_output_rows(writer)
    Table(TaskOutput, _OUTPUT_COLUMNS, using).insert(outputs)
    Table(TaskAttempt, _ATTEMPT_COLUMNS, using).insert(attempts)
    Table(Metric, _METRIC_COLUMNS, using).insert(
        [[run_id, _task(ids, n), k, v, s, t] for n, k, v, s, t in writer.metrics]
    )
    now = dt.datetime.now(tz=dt.UTC)
    Table(LoggedArtifact, _LOGGED_COLUMNS, using).insert(
        [[run_id, _task(ids, n), name, artifacts[s.sha256], now] for n, name, s in writer.logged]
    )
    if writer.params:
        Param.objects.using(using).bulk_create(
            [Param(run_id=run_id, key=k, value=v) for k, v in writer.params.items()],
            update_conflicts=True,
            unique_fields=["run", "key"],
            update_fields=["value"],
        )
    if writer.models:
        from ..registry.register import create_versions

        names = writer.pipeline.columns.names
        create_versions(
            using,
            run_id,
            [(ids[n], names[n], r, artifacts[r.artifact.sha256]) for n, r in writer.models],
        )
    if first:
        writer.history.copy_reused_records(run_id)


def _insert_tasks(writer: RecordWriter) -> list[int]:
    """Insert one TaskRun per node; the ids, per node id.

    Texts (stdout, stderr, log, error, traceback) are empty for most tasks: they
    are left to the database default and set afterwards for the few with any.
    """
    plan, rows, names = writer.plan, writer.rows, writer.pipeline.columns.names
    reused_from, reads, input_keys = writer.history.reused_tasks, plan.reads, plan.input_keys_json
    values = []
    texts = []
    for node_id in plan.order:
        row = rows.get(node_id)
        if row is None:
            state, attempts, started, finished, duration, host, pid = (
                plan.initial[node_id],
                0,
                None,
                None,
                None,
                "",
                None,
            )
            reason, detail = plan.reasons[node_id], plan.details[node_id]
        else:
            state, attempts, started, finished, duration, host, pid, *text = row.values()
            reason = row.reason or plan.reasons[node_id]
            detail = plan.details[node_id] if row.detail is None else row.detail
            if any(text):
                texts.append([*text, node_id])
        values.append(
            [
                writer.run_id,
                names[node_id],
                state,
                attempts,
                started,
                finished,
                duration,
                host,
                pid,
                plan.code_hashes[node_id],
                plan.keys[node_id],
                input_keys[node_id],
                reads.get(node_id, _NO_READS),
                reason,
                detail,
                reused_from.get(node_id),
            ]
        )
    columns = ("run", "node", *TASK_COLUMNS[: -len(TEXT_COLUMNS)], "code_hash", "key")
    columns += ("input_keys", "reads", "reason", "reason_detail", "reused_from")
    Table(TaskRun, columns, writer.using, json_texts=("input_keys",)).insert(values)
    found = dict(select(TaskRun, ("node", "id"), "{run} = %s", [writer.run_id], writer.using))
    ids = [found[name] for name in names]
    for text in texts:
        text[-1] = ids[text[-1]]
    Table(TaskRun, TEXT_COLUMNS, writer.using).update(texts, ("id",))
    return ids


def _update_tasks(writer: RecordWriter) -> None:
    """Update the rows of the tasks that changed since the last commit."""
    plan, ids = writer.plan, writer.task_ids
    values = [
        [
            *row.values(),
            row.reason or plan.reasons[row.node_id],
            plan.details[row.node_id] if row.detail is None else row.detail,
            ids[row.node_id],
        ]
        for row in (writer.rows[i] for i in sorted(writer.dirty))
    ]
    columns = (*TASK_COLUMNS, "reason", "reason_detail")
    Table(TaskRun, columns, writer.using).update(values, ("id",))


def _reused_output_rows(writer: RecordWriter) -> list[list[Any]]:
    """TaskOutput rows of the nodes the plan reuses: the artifacts they reuse."""
    ids, stored = writer.task_ids, writer.history.stored_outputs
    keys, nodes = writer.plan.keys, writer.pipeline.nodes
    return [
        [ids[node_id], dataset, stored[(keys[node_id], dataset)]]
        for node_id in writer.history.reused_tasks
        for dataset in nodes[node_id].outputs
        if (keys[node_id], dataset) in stored
    ]


def _span(started: float | None, finished: float | None) -> float | None:
    return finished - started if started is not None and finished is not None else None


def _task(ids: Sequence[int], node_id: int | None) -> int | None:
    return None if node_id is None else ids[node_id]
