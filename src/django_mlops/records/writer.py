"""Writing a run's records in few, batched transactions.

The Run row (and its Param rows) are written when the run starts. Everything
else is buffered and written by ``flush()``: one transaction, one
``executemany`` per table. The runner calls ``flush()`` at most every
``RECORD_FLUSH_SECONDS`` and at the end, and its wait on the executor is bounded
by that interval, so a finished task is on disk within about one interval: a
coordinator that is killed loses at most the last interval's records (those
nodes simply run again next time; outputs are content-addressed).

The first flush inserts every TaskRun row in one statement, with the states
reached by then; later flushes update the rows that changed. A run shorter than
one interval therefore writes each task row once, in its final state, instead
of inserting it and updating it again (half the database work on many small
nodes). A task's outputs are on its row ({dataset: artifact id}), written in the
same statement as its success: a succeeded TaskRun always names its outputs,
which is what "stored" means to the next plan (found through the row's key).
A cached task's row names the outputs it reused.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction

from ..artifacts import ArtifactStore, serialize
from ..executors.task import current_pid
from ..models import Artifact, LoggedArtifact, Metric, Param, Run, TaskRun
from ..run.inline_loop import FinishedColumns
from ..run.planning import RunPlan
from .history import RunHistory
from .sql import TableWriter, column_of, rows_by
from .taskrows import HOST as _HOST
from .taskrows import PID as _PID
from .taskrows import (
    UPDATE_COLUMNS,
    consecutive_ids,
    fresh_row,
    insert_task_rows,
    outputs_text,
    widen_sqlite_cache,
    write_texts,
)

if TYPE_CHECKING:
    from ..executors import TaskOutcome
    from ..executors.base import TrackingEvent
    from ..pipeline import Pipeline

__all__ = ["Recorder"]

_SCALARS = (type(None), bool, int, str)
_SCALAR_TEXT_MAX = 256
_OUTPUTS = UPDATE_COLUMNS.index("outputs")
_SHA256 = attrgetter("sha256")


def epoch(value: Any) -> float | None:
    """Epoch seconds from an epoch float or a datetime."""
    if value is None or isinstance(value, float | int):
        return value
    return float(value.timestamp())


def _now() -> dt.datetime:
    return dt.datetime.now(tz=dt.UTC)


class Recorder:
    """Writes one run's records; created before planning, which reads ``history``."""

    #: The types whose small values ``scalars`` caches.
    scalar_kinds = frozenset(_SCALARS)

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.store = ArtifactStore()
        self.run: Run
        self.run_id = 0
        self.plan: RunPlan
        self.task_ids: list[int] = []  # per node id, once the TaskRun rows exist
        # node id -> changed UPDATE_COLUMNS values: a list while a task can still
        # change, a tuple once finished in one step (``task_done``). Tuples of plain
        # values are dropped from the cyclic GC's view at its first pass; 10k lists
        # kept until the flush would make every full collection of the run longer.
        self._rows: dict[int, list[Any] | tuple[Any, ...]] = {}
        self._states: list[str] = []  # per node id, the state last buffered or written
        # Tasks the inline loop finished in one step; it appends to these lists.
        self.finished = FinishedColumns()
        self._metrics: list[list[Any]] = []  # node id in the task column until flushed
        self._params: list[list[Any]] = []
        self._logged: list[tuple[int | None, str, Any]] = []
        self._reused: dict[str, int] = {}  # dataset -> artifact id of a reused producer
        self._cached_outputs: dict[int, str] = {}  # reused node id -> its outputs' JSON text
        self.history = RunHistory(pipeline)  # planning reads the store through it
        self._updates = TableWriter(TaskRun, UPDATE_COLUMNS)
        # (type, value) -> Serialized of small scalars; the inline loop reads it directly.
        self.scalars: dict[tuple[type, Any], Any] = {}

    # Start ----------------------------------------------------------------------------

    def start(
        self,
        plan: RunPlan,
        *,
        selection: Mapping[str, list[str]],
        executor: str,
        no_cache: bool,
        run: Run | None,
        reproduces: Run | None,
        retry_of: Run | None,
    ) -> int:
        """Create or take over a queued Run, with params; TaskRun rows come at the first flush."""
        from ..conf import mlops_settings
        from .environment import capture_environment

        environment = capture_environment(mlops_settings().PROJECT_ROOT)
        nodes = plan.pipeline.nodes
        self.plan = plan
        fields: dict[str, Any] = {
            "pipeline": plan.pipeline.name,
            "status": "running",
            "params": plan.params,
            "selection": dict(selection),
            "executor": executor,
            "no_cache": no_cache,
            "started_at": _now(),
            "tasks_total": len(nodes),
            "reproduces": reproduces,
            "retry_of": retry_of,
        }
        run_fields = {f.name for f in Run._meta.fields}
        fields.update({k: v for k, v in environment.items() if k in run_fields})
        fields.setdefault("host", _HOST)
        fields.setdefault("pid", _PID)
        self._find_reused(plan)
        if connection.vendor == "sqlite":
            widen_sqlite_cache()
        with transaction.atomic():
            if run is None:
                run = Run.objects.create(**fields)
            else:
                for name, value in fields.items():
                    setattr(run, name, value)
                run.save()
            TableWriter(Param, ("run", "key", "value")).insert(
                [[run.pk, k, v] for k, v in plan.params.items()]
            )
        self.run, self.run_id = run, run.pk
        self._states = list(plan.initial)
        return int(run.pk)

    def _find_reused(self, plan: RunPlan) -> None:
        """Note the stored artifact of every output of the nodes the plan reuses.

        A reused task's row names those outputs too; for the common one-output
        node its JSON text is put together from the pipeline's quoted name.
        """
        initial = plan.initial
        if "cached" not in initial:
            return
        stored, keys, nodes = self.history.stored_outputs, plan.keys, plan.pipeline.nodes
        first_json = plan.pipeline.columns.first_output_json
        reused, texts = self._reused, self._cached_outputs
        for node_id in [i for i, state in enumerate(initial) if state == "cached"]:
            key, datasets = keys[node_id], nodes[node_id].outputs
            if len(datasets) == 1:
                artifact_id = stored.get((key, datasets[0]))
                if artifact_id is not None:
                    reused[datasets[0]] = artifact_id
                    texts[node_id] = f"{{{first_json[node_id]}: {artifact_id}}}"
                    continue
            # Several outputs (a missing one is reported when a consumer needs it).
            pairs = [(d, stored[(key, d)]) for d in datasets if (key, d) in stored]
            reused.update(pairs)
            texts[node_id] = outputs_text(pairs)

    def load_reused(self, dataset: str) -> Any:
        """The stored value of a dataset produced by a reused node, verified by the store."""
        artifact_id = self._reused.get(dataset)
        if artifact_id is None:
            raise LookupError(f"no stored artifact for dataset '{dataset}'")
        return self.store.get(Artifact.objects.get(pk=artifact_id))

    # During the run -------------------------------------------------------------------

    def task_started(self, node_id: int, attempt: int) -> None:
        """A node was handed to the executor (attempt counts from 1)."""
        row = self._mutable_row(node_id, "running")
        row[0], row[1], row[2] = "running", attempt, time.time()
        self._states[node_id] = "running"

    def serialize(self, values: Sequence[Any]) -> list[Any]:
        """Serialize a node's outputs now, so an unserializable output fails that node."""
        if len(values) == 1:  # the common case, without a list comprehension's frame
            return [self.serialize_one(values[0])]
        return [self.serialize_one(value) for value in values]

    def serialize_one(self, value: Any) -> Any:
        """One output's Serialized form (small scalars from ``scalars``)."""
        # Many nodes return the same small scalar (None, True, a short string):
        # equal scalars have equal bytes, so serialize each once per run. Floats are
        # left out because 0.0 == -0.0 while their bytes differ.
        kind = type(value)
        if kind in _SCALARS and (kind is not str or len(value) <= _SCALAR_TEXT_MAX):
            cached = self.scalars.get((kind, value))
            if cached is None:
                cached = self.scalars[(kind, value)] = serialize(value)
            return cached
        return serialize(value)

    def task_succeeded(
        self, node_id: int, outcome: TaskOutcome, datasets: Sequence[str], serialized: Sequence[Any]
    ) -> None:
        """Buffer a success with its outputs and tracking events."""
        self._finish_row(node_id, "succeeded", outcome, "", "")
        self._set_outputs(node_id, datasets, serialized)
        if outcome.events:
            self.events(node_id, outcome.events)

    def task_failed(
        self,
        node_id: int,
        state: str,
        error: str,
        traceback: str,
        outcome: TaskOutcome | None,
    ) -> None:
        """Buffer a failed attempt (state ``retrying`` or ``failed``)."""
        self._finish_row(node_id, state, outcome, error, traceback)
        if outcome is not None and outcome.events:
            self.events(node_id, outcome.events)

    def task_done(
        self,
        node_id: int,
        attempt: int,
        started: float,
        finished: float,
        texts: tuple[str, str, str],
        datasets: Sequence[str],
        serialized: Sequence[Any],
        events: Sequence[TrackingEvent],
    ) -> None:
        """Buffer a success that ran in the Runner's thread (``fastloop``): no outcome object.

        The same row ``task_started`` + ``task_succeeded`` would leave, built in one
        step. (The loop appends a success without texts, events or several outputs
        to ``finished`` itself.)
        """
        self._rows[node_id] = (
            "succeeded",
            attempt,
            started,
            finished,
            finished - started,
            _HOST,
            current_pid(),
            (),
            texts[0],
            texts[1],
            texts[2],
            "",
            "",
        )
        self._states[node_id] = "succeeded"
        self._set_outputs(node_id, datasets, serialized)
        if events:
            self.events(node_id, events)

    def _set_outputs(
        self, node_id: int, datasets: Sequence[str], serialized: Sequence[Any]
    ) -> None:
        """Put the (dataset, Serialized) pairs in the row's outputs slot."""
        if len(datasets) != len(serialized):
            raise ValueError(f"{len(datasets)} datasets but {len(serialized)} serialized values")
        row = self._mutable_row(node_id, "succeeded")
        row[_OUTPUTS] = tuple(zip(datasets, serialized, strict=True))

    def _mutable_row(self, node_id: int, state: str) -> list[Any]:
        """The node's buffered row as a list (made fresh in ``state`` if there is none)."""
        found = self._rows.get(node_id)
        row = fresh_row(state) if found is None else list(found)
        self._rows[node_id] = row
        return row

    def _finish_row(
        self, node_id: int, state: str, outcome: TaskOutcome | None, error: str, traceback: str
    ) -> None:
        row = self._mutable_row(node_id, state)
        row[0] = state
        self._states[node_id] = state
        if outcome is not None:
            started = epoch(outcome.started_at) or row[2]
            finished = epoch(outcome.finished_at) or time.time()
            row[2], row[3] = started, finished
            row[4] = finished - started if started else None
            row[5] = getattr(outcome, "host", "") or _HOST
            row[6] = getattr(outcome, "pid", None)
            row[8], row[9], row[10] = outcome.stdout or "", outcome.stderr or "", outcome.log or ""
        else:
            row[3] = time.time()
        row[11] = error.strip().splitlines()[-1][:1000] if error and error.strip() else ""
        row[12] = traceback or ""

    def events(self, node_id: int | None, events: Sequence[TrackingEvent]) -> None:
        """Buffer the metrics, params and artifacts a task logged."""
        for event in events:
            if event.kind == "metric":
                self._metrics.append(
                    [
                        self.run_id,
                        node_id,
                        event.key,
                        float(event.value),
                        event.step,
                        epoch(event.timestamp),
                    ]
                )
            elif event.kind == "param":
                self._params.append([self.run_id, event.key, event.value])
            elif event.kind == "artifact":
                self._logged.append((node_id, event.key, serialize(event.value)))

    def cancel_requested(self) -> bool:
        """Whether someone asked (``mlops cancel``) to stop this run."""
        flag = Run.objects.filter(pk=self.run_id).values_list("cancel_requested", flat=True)
        return bool(flag.first())

    # Writing --------------------------------------------------------------------------

    def flush(self) -> None:
        """Write everything buffered in one transaction."""
        created = bool(self.task_ids)
        finished = self.finished.take()
        if created and not (
            self._rows or finished.ids or self._metrics or self._params or self._logged
        ):
            return
        logged, self._logged = self._logged, []
        rows, self._rows = self._rows, {}
        metrics, self._metrics = self._metrics, []
        params, self._params = self._params, []
        row_outputs = [s for row in rows.values() for _, s in row[_OUTPUTS]]
        artifacts = self._save_artifacts(finished.outputs + row_outputs + [s for _, _, s in logged])
        # Outputs as (dataset, artifact id) from here on.
        rows = {
            n: (
                *row[:_OUTPUTS],
                [(d, artifacts[s.sha256]) for d, s in row[_OUTPUTS]],
                *row[_OUTPUTS + 1 :],
            )
            for n, row in rows.items()
        }
        states = self._states
        for node_id in finished.ids:
            states[node_id] = "succeeded"
        with transaction.atomic():
            if created:
                self._update_tasks(rows, finished, artifacts)
            else:
                self._create_tasks(rows, finished, artifacts)
            ids = self.task_ids
            TableWriter(LoggedArtifact, ("run", "task", "name", "artifact", "created_at")).insert(
                [
                    [self.run_id, None if n is None else ids[n], name, artifacts[s.sha256], _now()]
                    for n, name, s in logged
                ]
            )
            for metric in metrics:
                metric[1] = None if metric[1] is None else ids[metric[1]]
            TableWriter(Metric, ("run", "task", "key", "value", "step", "timestamp")).insert(
                metrics
            )
            TableWriter(Param, ("run", "key", "value")).insert(params, self._param_upsert())

    def _finished_outputs(
        self, finished: FinishedColumns, artifacts: Mapping[str, int]
    ) -> list[str]:
        """The outputs JSON text of each task in ``finished`` (one output each).

        Built with ``map`` over C functions: one text per node of a 10k-node run.
        """
        names = map(self.pipeline.columns.first_output_json.__getitem__, finished.ids)
        ids = map(artifacts.__getitem__, map(_SHA256, finished.outputs))
        return list(map("{{{}: {}}}".format, names, ids))

    def _create_tasks(
        self,
        rows: Mapping[int, Sequence[Any]],
        finished: FinishedColumns,
        artifacts: Mapping[str, int],
    ) -> None:
        """Insert every TaskRun row, in topological order (so id order reads meaningfully)."""
        order, texts = insert_task_rows(
            self.plan,
            self.run_id,
            self._states,
            rows,
            finished,
            self._finished_outputs(finished, artifacts),
            self._cached_outputs,
        )
        found = consecutive_ids(self.plan, self.run_id, order)
        if found is None:
            ids = dict(rows_by(TaskRun, "run", self.run_id, ("node", "id")))
            found = [ids[n.name] for n in self.plan.pipeline.nodes]
        self.task_ids = found
        write_texts(texts, found)

    def _update_tasks(
        self,
        rows: Mapping[int, Sequence[Any]],
        finished: FinishedColumns,
        artifacts: Mapping[str, int],
    ) -> None:
        """Update the rows of the tasks that changed since the last flush."""
        ids, nodes = self.task_ids, self.pipeline.nodes
        updates = [
            [*row[:_OUTPUTS], dict(row[_OUTPUTS]), *row[_OUTPUTS + 1 :], ids[n]]
            for n, row in rows.items()
        ]
        for node_id, attempt, start, end, item in zip(
            finished.ids,
            finished.attempts,
            finished.started,
            finished.finished,
            finished.outputs,
            strict=True,
        ):
            outputs = {nodes[node_id].outputs[0]: artifacts[item.sha256]}
            row = ["succeeded", attempt, start, end, end - start, _HOST, _PID, outputs]
            updates.append([*row, "", "", "", "", "", ids[node_id]])
        self._updates.update(updates)

    @staticmethod
    def _param_upsert() -> str:
        run, key, value = (column_of(Param, f) for f in ("run", "key", "value"))
        return f"ON CONFLICT ({run}, {key}) DO UPDATE SET {value} = excluded.{value}"

    def _save_artifacts(self, items: Sequence[Any]) -> dict[str, int]:
        unique = {s.sha256: s for s in items}
        if not unique:
            return {}
        saved = self.store.save_many(list(unique.values()))
        return {a.sha256: a.pk for a in saved}

    def finish(self, states: Sequence[str], status: str) -> None:
        """Record final states (failure spread, cancels) and the run's status and timings."""
        state_only: list[list[Any]] = []
        known = self._states
        for node_id in self.finished.ids:  # finished in the loop, not flushed yet
            known[node_id] = "succeeded"
        # Buffered rows carry the state in ``known``: equal lists (the common
        # case, compared in C) leave nothing to settle.
        if list(states) != known:
            for node_id, state in enumerate(states):
                if state == known[node_id]:
                    continue
                if node_id in self._rows:
                    self._mutable_row(node_id, state)[0] = state
                elif self.task_ids:
                    # Settled by the scheduler without running (upstream_failed, cancelled).
                    state_only.append([state, self.task_ids[node_id]])
                known[node_id] = state
        # The last rows, the settled states and the run's status in one transaction:
        # one commit (a sync to disk) instead of three, and no reader sees a
        # finished run whose tasks are not all written.
        with transaction.atomic():
            self.flush()
            TableWriter(TaskRun, ("state",)).update(state_only)
            self._save_status(states, status)

    def _save_status(self, states: Sequence[str], status: str) -> None:
        finished = _now()
        run = self.run
        run.status = status
        run.finished_at = finished
        if run.started_at is not None:
            run.duration = (finished - run.started_at).total_seconds()
        failed = []
        if "failed" in states:
            names = self.pipeline.columns.names
            failed = [names[i] for i, s in enumerate(states) if s == "failed"]
        if failed:
            run.error = f"failed: {', '.join(failed)}"
        run.save(update_fields=["status", "finished_at", "duration", "error"])
