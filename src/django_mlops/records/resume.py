"""Resuming a run from the queue: the TaskRun rows an earlier claim left, taken over.

When a worker claims a run that was claimed before (taken over after its lease
expired, or handed back), the run's TaskRun rows exist already. A node that
finished under the same key keeps its row and is never recorded again (the plan
reuses its outputs by fingerprint); every other row starts over from the new
plan, its attempts counting on, and an attempt that was running when its worker
stopped is kept as a failed ``TaskAttempt``. See docs/queue.md.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import RunError
from ..models import LoggedArtifact, Metric, TaskOutput, TaskRun
from .rows import TASK_COLUMNS, FailedAttempt, TaskRow
from .sql import Table

if TYPE_CHECKING:
    from ..models import Run
    from ..run.planning import RunPlan

__all__ = ["Resumed", "existing_tasks", "reset_tasks", "resume"]

_FINISHED = ("succeeded", "cached")
_NO_READS: dict[str, str] = {}
_CHUNK = 900


@dataclass
class Resumed:
    """What a resumed run starts from; lists are indexed by node id."""

    task_ids: list[int]
    previous_attempts: list[int]
    #: Nodes whose finished row is kept as it is.
    kept: set[int] = field(default_factory=set)
    #: Rows that start over (written by the first flush, with ``reset_tasks``).
    rows: dict[int, TaskRow] = field(default_factory=dict)


def existing_tasks(using: str, run_id: int) -> dict[str, tuple[Any, ...]]:
    """{node: (id, state, key, attempts, started_at, host, pid)} of a run's TaskRun rows."""
    columns = ("node", "id", "state", "key", "attempts", "started_at", "host", "pid")
    found = TaskRun.objects.using(using).filter(run_id=run_id).values_list(*columns)
    return {node: tuple(rest) for node, *rest in found}


def resume(run: Run, plan: RunPlan, existing: Mapping[str, tuple[Any, ...]]) -> Resumed:
    """Decide, node by node, what the earlier claim's rows become in this run."""
    names = plan.pipeline.columns.names
    if set(existing) != set(names):
        raise RunError(
            f"run {run.pk} cannot be resumed: the pipeline's nodes changed since it started"
        )
    result = Resumed([existing[name][0] for name in names], [0] * len(names))
    interrupted = (
        f"interrupted: worker {run.resumed_from or 'unknown'} stopped before the node "
        "finished; run again as a new attempt"
    )
    for node_id, name in enumerate(names):
        _, state, key, attempts, started, host, pid = existing[name]
        if state in _FINISHED and key == plan.keys[node_id] and plan.initial[node_id] == "cached":
            result.kept.add(node_id)
            continue
        row = TaskRow(node_id, plan.initial[node_id], attempts=attempts, host="")
        if state == "running":
            began = started.timestamp() if started else None
            row.failures = [FailedAttempt(attempts, began, time.time(), host, pid, interrupted, "")]
        result.previous_attempts[node_id] = attempts
        result.rows[node_id] = row
    return result


def reset_tasks(
    using: str,
    plan: RunPlan,
    rows: Sequence[TaskRow],
    task_ids: Sequence[int],
    reused_from: Mapping[int, int],
) -> None:
    """A resumed run's first write: the rows not kept, rewritten from the plan.

    Outputs, metrics and logged artifacts a reset row had (a node whose key
    changed since) go with it; its failed attempts stay.
    """
    ids = [task_ids[row.node_id] for row in rows]
    for model in (TaskOutput, Metric, LoggedArtifact):
        for start in range(0, len(ids), _CHUNK):
            model.objects.using(using).filter(task_id__in=ids[start : start + _CHUNK]).delete()
    values = [
        [
            *row.values(),
            plan.code_hashes[row.node_id],
            plan.keys[row.node_id],
            plan.input_keys_json[row.node_id],
            plan.reads.get(row.node_id, _NO_READS),
            row.reason or plan.reasons[row.node_id],
            plan.details[row.node_id] if row.detail is None else row.detail,
            reused_from.get(row.node_id),
            task_ids[row.node_id],
        ]
        for row in rows
    ]
    columns: tuple[str, ...] = (*TASK_COLUMNS, "code_hash", "key", "input_keys", "reads")
    columns += ("reason", "reason_detail", "reused_from")
    Table(TaskRun, columns, using, json_texts=("input_keys",)).update(values, ("id",))
