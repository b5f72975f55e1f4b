"""The one place that writes a run's records, in few batched transactions.

The Run row (and its Param rows) are written when the run starts. Everything
else is buffered as ``TaskRow`` objects and events and written by ``flush()``:
outputs to the artifact store first, then one transaction. The first flush
inserts every TaskRun row (in topological order, with the states reached by
then); later flushes update the rows that changed. A row leaves the buffer only
once it is committed in a final state, so a write that fails (SQLite's
"database is locked" while another process writes, a dropped connection) loses
nothing: it is retried, and the next flush tries again with everything still
buffered. A storage failure fails the tasks whose outputs could not be stored
and ends the run failed (``storage_error``); the other tasks are recorded.

The runner calls ``flush()`` at most every ``RECORD_FLUSH_SECONDS`` and at the end.
What a flush writes is ``records.batch``; outputs are stored by ``records.storing``;
which failures are retried is ``records.retrying``; the final status is
``records.run_status``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, connections, router, transaction

from ..artifacts import Serialized, serialize
from ..models import Artifact, Param, Run
from .batch import write_batch
from .collector import collector_paused
from .history import RunHistory
from .retrying import RETRY_AT_END, RETRY_DURING_RUN, is_passing_error
from .rows import HOST, TaskRow, row_from_outcome, settled_row
from .run_status import save_status
from .sql import Table, widen_sqlite_cache
from .storing import OutputStorage

if TYPE_CHECKING:
    from ..executors import TaskOutcome
    from ..executors.base import TrackingEvent
    from ..pipeline import Pipeline
    from ..queue.lease import Lease
    from ..registry.register import ModelRegistration
    from ..run.planning import RunPlan

__all__ = ["RecordWriter"]

logger = logging.getLogger("django_mlops.records")

_FINAL = frozenset(
    {"succeeded", "cached", "failed", "upstream_failed", "not_started", "cancelled", "excluded"}
)


class RecordWriter:
    """Writes one run's records; created before planning, which reads ``history``."""

    def __init__(
        self, pipeline: Pipeline, using: str | None = None, lease: Lease | None = None
    ) -> None:
        self.pipeline = pipeline
        #: A queue worker's claim on the run: every write is fenced by it.
        self.lease = lease
        self.using: str = using or router.db_for_write(Run) or "default"
        self.outputs = OutputStorage(self.using)
        self.history = RunHistory(pipeline, self.using)
        self.run: Run
        self.run_id = 0
        self.plan: RunPlan
        self.rows: dict[int, TaskRow] = {}  # node id -> row not yet committed final
        self.states: list[str] = []  # per node id, the state of its latest row
        # The buffer: what the next flush writes (``records.batch``).
        self.dirty: set[int] = set()  # node ids whose row changed since the last commit
        self.task_ids: list[int] = []  # per node id, once the TaskRun rows exist
        self.metrics: list[list[Any]] = []  # [node id, key, value, step, timestamp]
        self.params: dict[str, Any] = {}  # logged params, the last value of a key wins
        self.logged: list[tuple[int | None, str, Serialized]] = []
        # Models registered by succeeded tasks: (node id, registration).
        self.models: list[tuple[int, ModelRegistration]] = []
        #: Set when outputs could not be stored: the run must end failed with it.
        self.storage_error = ""
        #: A run from the queue taken over: its TaskRun rows exist (ids in ``task_ids``).
        self.resumed = False
        #: Node ids whose finished row of an earlier claim is kept as it is.
        self.kept: set[int] = set()
        #: Per node id, the attempts earlier claims made (the next one counts on).
        self.previous_attempts: list[int] = []
        self._flushed = False  # whether a flush has committed yet

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
        """Create (or take over a queued) Run row with its params; task rows come at first flush."""
        from ..conf import mlops_settings
        from .environment import capture_environment

        environment = capture_environment(mlops_settings().PROJECT_ROOT)
        self.plan = plan
        self.states = list(plan.initial)
        now = dt.datetime.now(tz=dt.UTC)
        fields: dict[str, Any] = {
            "pipeline": plan.pipeline.name,
            "source": plan.pipeline.source,
            "status": "running",
            "params": plan.params,
            "selection": dict(selection),
            "executor": executor,
            "no_cache": no_cache,
            "started_at": now,
            "heartbeat_at": now,
            "tasks_total": len(plan.pipeline),
            "reproduces": reproduces,
            "retry_of": retry_of,
            "error": "",
        }
        run_fields = {f.name for f in Run._meta.fields}
        fields.update({k: v for k, v in environment.items() if k in run_fields})
        fields.setdefault("host", HOST)
        widen_sqlite_cache(self.using)
        self.previous_attempts = [0] * len(plan.pipeline)
        with transaction.atomic(using=self.using):
            if run is None:
                run = Run.objects.using(self.using).create(**fields)
            else:
                if self.lease is not None:
                    self.lease.fence()
                    fields.pop("host", None)  # the claim wrote the worker's host and pid
                    fields.pop("pid", None)
                if run.started_at is not None:  # resumed: it started with its first claim
                    fields["started_at"] = run.started_at
                for name, value in fields.items():
                    setattr(run, name, value)
                # Only these fields: a cancel asked for meanwhile must not be overwritten.
                run.save(using=self.using, update_fields=list(fields))
            # Claimed before: an earlier worker may have written rows already.
            again = run.claims > 1
            if again:
                self._take_over(run)
            Table(Param, ("run", "key", "value"), self.using).insert(
                [[run.pk, k, v] for k, v in plan.params.items()],
                "ON CONFLICT DO NOTHING" if again else "",
            )
        self.run, self.run_id = run, run.pk
        return int(run.pk)

    def _take_over(self, run: Run) -> None:
        """A run claimed before: take over the TaskRun rows it has, if any (``records.resume``)."""
        from .resume import existing_tasks, resume

        existing = existing_tasks(self.using, run.pk)
        if not existing:
            return
        resumed = resume(run, self.plan, existing)
        self.resumed = True
        self.task_ids = resumed.task_ids
        self.previous_attempts = resumed.previous_attempts
        self.kept = resumed.kept
        for node_id in resumed.kept:  # its own row stays: nothing reused is recorded again
            self.history.reused_tasks.pop(node_id, None)
        self.rows.update(resumed.rows)
        self.dirty.update(resumed.rows)

    def load_reused(self, dataset: str) -> Any:
        """The stored value of a dataset produced by a reused node, verified by the store."""
        artifact_id = self.history.reused_outputs.get(dataset)
        if artifact_id is None:
            raise LookupError(f"no stored artifact for dataset '{dataset}'")
        return self.outputs.store.get(Artifact.objects.using(self.using).get(pk=artifact_id))

    # During the run -------------------------------------------------------------------

    def serialize(self, values: Sequence[Any]) -> list[Serialized]:
        """Serialize a node's outputs now, so an unserializable output fails that node."""
        return self.outputs.serialize(values)

    def task_started(self, node_id: int, attempt: int) -> None:
        """An attempt was handed to an executor (attempts count from 1)."""
        row = self.rows.get(node_id)
        if row is None:  # the first attempt (most)
            self.rows[node_id] = TaskRow(node_id, "running", attempt, time.time())
        else:
            row.state, row.attempts, row.started, row.finished = (
                "running",
                attempt,
                time.time(),
                None,
            )
        self.states[node_id] = "running"
        self.dirty.add(node_id)

    def task_finished(
        self,
        node_id: int,
        state: str,
        outcome: TaskOutcome,
        outputs: Sequence[tuple[str, Serialized]] = (),
        error: str | None = None,
    ) -> None:
        """An attempt ended (``state``: succeeded, retrying or failed), with its events."""
        self.rows[node_id] = row_from_outcome(
            self.rows.get(node_id), node_id, state, outcome, outputs, error
        )
        self.states[node_id] = state
        self.dirty.add(node_id)
        if outcome.events:
            self.events(node_id, outcome.events, succeeded=state == "succeeded")

    def task_settled(self, node_id: int, state: str, reason: str = "", detail: str = "") -> None:
        """A node's final state was decided without an attempt (or its attempt was stopped)."""
        self.rows[node_id] = settled_row(self.rows.get(node_id), node_id, state, reason, detail)
        self.states[node_id] = state
        self.dirty.add(node_id)

    def events(
        self, node_id: int | None, events: Sequence[TrackingEvent], *, succeeded: bool = True
    ) -> None:
        """Buffer the metrics, params, artifacts and (if it succeeded) models a task logged."""
        for event in events:
            if event.kind == "metric":
                self.metrics.append(
                    [node_id, event.key, float(event.value), event.step, event.timestamp]
                )
            elif event.kind == "param":
                self.params[event.key] = event.value
            elif event.kind == "artifact":
                self.logged.append((node_id, event.key, serialize(event.value)))
            elif event.kind == "model" and succeeded and node_id is not None:
                # A failed attempt's model is not a version: the retry registers its own.
                self.models.append((node_id, event.value))

    def cancel_requested(self) -> bool:
        """Whether someone asked (``mlops cancel``) to stop this run.

        A read that fails (SQLite locked by another process's write) answers no:
        the next flush asks again, and the run must not die of a busy database.
        """
        found = Run.objects.using(self.using).filter(pk=self.run_id)
        try:
            return bool(found.values_list("cancel_requested", flat=True).first())
        except DatabaseError as exc:
            logger.warning("run %s: cannot read a cancel request yet (%s)", self.run_id, exc)
            return False

    # Writing --------------------------------------------------------------------------

    def flush(self, *, final: bool = False, ending: Callable[[], None] | None = None) -> None:
        """Write everything buffered; a failed write is retried and loses nothing.

        ``ending`` runs in the same transaction, after the rows (the run's status):
        a retry repeats the whole transaction, not a part of it.
        """
        first = not self._flushed
        idle = not (self.dirty or self.metrics or self.params or self.logged or self.models)
        if not first and idle and ending is None:
            return
        with collector_paused():  # rows built and freed here: see ``records.collector``
            self._write(first, final, ending)

    def _write(self, first: bool, final: bool, ending: Callable[[], None] | None) -> None:
        """The flush's writes, retried; a committed flush empties the buffer."""
        deadline = time.monotonic() + (RETRY_AT_END if final else RETRY_DURING_RUN)
        delay = 0.05
        while True:
            try:
                # Before the transaction, in autocommit (see ``records.storing``).
                self._store_outputs()
                with transaction.atomic(using=self.using):
                    if self.lease is not None:
                        # First, so the row stays locked (PostgreSQL) or the write lock
                        # held (SQLite) to the commit: no takeover between check and write.
                        self.lease.fence()
                    write_batch(self, first)
                    if ending is not None:
                        ending()
                break
            except DatabaseError as exc:
                if first and not self.resumed:
                    self.task_ids = []  # the rows were rolled back with their ids
                passing = is_passing_error(exc)
                if not passing or time.monotonic() + delay > deadline:
                    if ending is not None or not passing:
                        raise
                    logger.warning(
                        "run %s: records not written yet (%s); will retry", self.run_id, exc
                    )
                    return
                # A dropped connection is reopened by the next query.
                connections[self.using].close_if_unusable_or_obsolete()
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        self._flushed = True
        # Committed: final rows leave the buffer, the others stay for their next change.
        for node_id in self.dirty:
            row = self.rows[node_id]
            if row.state in _FINAL:
                del self.rows[node_id]
            else:
                row.failures, row.outputs = None, ()
        self.dirty.clear()
        self.metrics, self.params, self.logged, self.models = [], {}, [], []

    def _store_outputs(self) -> None:
        """Save the buffered outputs, logged artifacts and models (``records.storing``)."""
        rows = [self.rows[i] for i in sorted(self.dirty) if self.rows[i].outputs]
        saved = self.outputs.save(rows, self.logged, self.models, self.pipeline.columns.names)
        self.logged, self.models = saved.logged, saved.models
        if saved.error:
            for row in rows:
                if row.state == "failed":
                    self.states[row.node_id] = "failed"
            self.storage_error = self.storage_error or saved.error

    def finish(self, states: Sequence[str], status: str, error: str = "") -> None:
        """Record final states (failure spread, cancels) and the run's status and timings."""
        self.settle(states)

        def ending() -> None:
            # Read here, after the last outputs were stored: that may have failed.
            final_status, final_error = status, error
            if self.storage_error:
                final_status, final_error = "failed", error or self.storage_error
            save_status(self.using, self.run, self.pipeline, states, final_status, final_error)

        # The last rows and the run's status in one transaction: no reader sees a
        # finished run whose tasks are not all written.
        self.flush(final=True, ending=ending)

    def settle(self, states: Sequence[str]) -> None:
        """Buffer the states the scheduler settled at the end (upstream failed, cancelled)."""
        from .reasons import not_run_reasons

        if list(states) == self.states:  # the common case, compared in C
            return
        changed = [i for i, state in enumerate(states) if state != self.states[i]]
        reasons = not_run_reasons(self.pipeline, states, changed)
        for node_id in changed:
            reason, detail = reasons.get(node_id, ("", ""))
            self.task_settled(node_id, states[node_id], reason, detail)
