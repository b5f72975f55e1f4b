"""What earlier runs left behind, as planning needs it: stored outputs and previous tasks.

Lookups go through indexes (the key index on succeeded tasks, or run and node)
and read plain values, so planning a 10k-node run costs a few queries, not one
per node. For the nodes a run reuses, ``copy_reused_records`` brings along the
metrics and logged artifacts their producer logged when it ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db.models import Max

from ..models import LoggedArtifact, Metric, TaskRun
from .collector import collector_paused
from .sql import Table, many_values

if TYPE_CHECKING:
    from ..pipeline import Pipeline
    from ..run.planning import PreviousTask, RunPlan

__all__ = ["RunHistory"]

# Keep IN (...) lists well below every backend's bound on query parameters.
_IN_CHUNK = 900


class RunHistory:
    """Reads of the store for one pipeline, and what they found for the run being planned."""

    def __init__(self, pipeline: Pipeline, using: str) -> None:
        self.pipeline = pipeline
        self.using = using
        #: (key, dataset) -> artifact id of the latest succeeded task with that key.
        self.stored_outputs: dict[tuple[str, str], int] = {}
        #: (key, output names) -> id of the task whose outputs a node with them reuses.
        self.producers: dict[tuple[str, tuple[str, ...]], int] = {}
        #: node id -> producer task id, for the nodes the plan reuses (``note_plan``).
        self.reused_tasks: dict[int, int] = {}
        #: dataset -> artifact id, for the outputs of reused nodes.
        self.reused_outputs: dict[str, int] = {}

    def stored_keys(self, keys: Sequence[str]) -> set[str]:
        """The keys (one per node id) whose node's outputs are all stored.

        Looked up by key, not by pipeline: the same code on the same inputs is
        reusable wherever it ran. A key says nothing about output names, so every
        output must be there under its dataset name. The latest producer of a key wins.
        A node with no outputs is reusable after any success of its key.
        """
        with collector_paused():  # 10,000 rows made and dropped: see ``records.collector``
            return self._stored_keys(keys)

    def _stored_keys(self, keys: Sequence[str]) -> set[str]:
        wanted = sorted({k for k in keys if k})
        # A left join: a task with no outputs comes back once, with None.
        rows = list(
            TaskRun.objects.using(self.using)
            .filter(key__in=many_values(wanted, self.using), state="succeeded")
            .values_list("key", "id", "output_records__dataset", "output_records__artifact_id")
            .order_by()
        )
        # Flat maps, not a dict per task (10,000 rows for a cached 10k-node run):
        # key -> newest task id; (key, dataset) -> newest task id with that output;
        # (task id, dataset) -> artifact id.
        latest: dict[str, int] = {}
        newest: dict[tuple[str, str], int] = {}
        artifacts: dict[tuple[int, str], int] = {}
        for key, task_id, dataset, artifact_id in rows:
            if latest.get(key, -1) < task_id:
                latest[key] = task_id
            if dataset is not None and artifact_id is not None:
                slot = (key, dataset)
                if newest.get(slot, -1) < task_id:
                    newest[slot] = task_id
                artifacts[(task_id, dataset)] = artifact_id
        # A node reuses the newest task of its key that has every output it declares
        # (the same code may have run under other output names). A key counts as
        # stored only if every node with that key finds one.
        found: set[str] = set()
        missing: set[str] = set()
        producers, stored = self.producers, self.stored_outputs
        for node, key in zip(self.pipeline.nodes, keys, strict=True):
            if not key:
                continue
            names = node.outputs
            producer = newest.get((key, names[0])) if names else latest.get(key)
            # The newest task with the first output has it; with more, check the others.
            if producer is not None and len(names) > 1:
                producer = self._producer(key, names, producer, rows, artifacts)
            if producer is None:
                missing.add(key)
                continue
            producers[(key, names)] = producer
            for dataset in names:
                stored[(key, dataset)] = artifacts[(producer, dataset)]
            found.add(key)
        return found - missing

    @staticmethod
    def _producer(
        key: str,
        outputs: tuple[str, ...],
        newest_with_first: int,
        rows: Sequence[tuple[str, int, str | None, int | None]],
        artifacts: dict[tuple[int, str], int],
    ) -> int | None:
        """The newest succeeded task of ``key`` with all of ``outputs``, or None."""
        if all((newest_with_first, d) in artifacts for d in outputs):
            return newest_with_first
        # Rare: several outputs, the newest task with the first one lacks another.
        candidates = sorted({t for k, t, _, _ in rows if k == key}, reverse=True)
        return next((t for t in candidates if all((t, d) in artifacts for d in outputs)), None)

    def note_plan(self, plan: RunPlan) -> None:
        """Remember which producer each reused node of ``plan`` takes its outputs from."""
        nodes, keys = self.pipeline.nodes, plan.keys
        for node_id, state in enumerate(plan.initial):
            if state != "cached":
                continue
            key = keys[node_id]
            self.reused_tasks[node_id] = self.producers[(key, nodes[node_id].outputs)]
            for dataset in nodes[node_id].outputs:
                artifact_id = self.stored_outputs.get((key, dataset))
                if artifact_id is not None:
                    self.reused_outputs[dataset] = artifact_id

    def previous_tasks(self, names: Sequence[str]) -> dict[str, PreviousTask]:
        """The latest earlier TaskRun of each named node in this pipeline (two queries)."""
        from ..run.planning import PreviousTask

        rows = TaskRun.objects.using(self.using).filter(run__pipeline=self.pipeline.name)
        if len(names) <= _IN_CHUNK:
            rows = rows.filter(node__in=names)
        latest = rows.values("node").annotate(last=Max("id")).values_list("last", flat=True)
        found = (
            TaskRun.objects.using(self.using)
            .filter(id__in=latest)
            .values_list("node", "code_hash", "key", "input_keys", "run__params", "reads")
        )
        return {
            node: PreviousTask(
                code_hash, key, dict(input_keys or {}), dict(params or {}), dict(reads or {})
            )
            for node, code_hash, key, input_keys, params, reads in found
        }

    def copy_reused_records(self, run_id: int) -> None:
        """Give this run's reused tasks the metrics and logged artifacts of their producers.

        Marked ``reused``: comparing runs needs the metrics of a cached run, and
        must still tell them from values logged in this run. Called once this run's
        task rows are written: each reused task names its producer (``reused_from``),
        so one query per table, joined through that, finds what to copy.
        """
        if not self.reused_tasks:
            return
        reusing = {"task__reused_by__run_id": run_id}
        metrics = (
            Metric.objects.using(self.using)
            .filter(**reusing)
            .values_list("task__reused_by__id", "key", "value", "step", "timestamp")
            .order_by("id")
        )
        metric_columns = ("task", "key", "value", "step", "timestamp")
        Table(Metric, ("run", *metric_columns, "reused"), self.using).insert(
            [[run_id, *row, True] for row in metrics]
        )
        logged = (
            LoggedArtifact.objects.using(self.using)
            .filter(**reusing)
            .values_list("task__reused_by__id", "name", "artifact_id", "created_at")
            .order_by("id")
        )
        logged_columns = ("task", "name", "artifact", "created_at")
        Table(LoggedArtifact, ("run", *logged_columns, "reused"), self.using).insert(
            [[run_id, *row, True] for row in logged]
        )
