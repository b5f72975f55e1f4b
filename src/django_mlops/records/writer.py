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
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connections,
    router,
    transaction,
)

from ..artifacts import ArtifactStore, Serialized, serialize
from ..models import (
    Artifact,
    LoggedArtifact,
    Metric,
    Param,
    Run,
    TaskAttempt,
    TaskOutput,
    TaskRun,
)
from .history import RunHistory
from .rows import HOST, TASK_COLUMNS, TEXT_COLUMNS, TaskRow, row_from_outcome, settled_row
from .sql import Table, select, widen_sqlite_cache

if TYPE_CHECKING:
    from ..executors import TaskOutcome
    from ..executors.base import TrackingEvent
    from ..pipeline import Pipeline
    from ..queue.lease import Lease
    from ..registry.register import ModelRegistration
    from ..run.planning import RunPlan

__all__ = ["RecordWriter", "is_passing_error"]

logger = logging.getLogger("django_mlops.records")

_FINAL = frozenset(
    {"succeeded", "cached", "failed", "upstream_failed", "not_started", "cancelled", "excluded"}
)
_SCALARS = (type(None), bool, int, str)
_SCALAR_TEXT_MAX = 256
# Seconds a flush keeps retrying a failing write: short during the run (the next
# flush tries again with the buffer intact), long at the end (nothing comes after).
_RETRY_DURING_RUN = 2.0
_RETRY_AT_END = 60.0
_NO_READS: dict[str, str] = {}


def _now() -> dt.datetime:
    return dt.datetime.now(tz=dt.UTC)


class RecordWriter:
    """Writes one run's records; created before planning, which reads ``history``."""

    def __init__(
        self, pipeline: Pipeline, using: str | None = None, lease: Lease | None = None
    ) -> None:
        self.pipeline = pipeline
        #: A queue worker's claim on the run: every write is fenced by it.
        self.lease = lease
        self.using: str = using or router.db_for_write(Run) or "default"
        self.store = ArtifactStore()
        self.history = RunHistory(pipeline, self.using)
        self.run: Run
        self.run_id = 0
        self.plan: RunPlan
        self.rows: dict[int, TaskRow] = {}  # node id -> row not yet committed final
        self.states: list[str] = []  # per node id, the state of its latest row
        self._dirty: set[int] = set()  # node ids whose row changed since the last commit
        self._task_ids: list[int] = []  # per node id, once the TaskRun rows exist
        self._metrics: list[list[Any]] = []  # [node id, key, value, step, timestamp]
        self._params: dict[str, Any] = {}  # logged params, the last value of a key wins
        self._logged: list[tuple[int | None, str, Serialized]] = []
        # Models registered by succeeded tasks: (node id, registration).
        self._models: list[tuple[int, ModelRegistration]] = []
        self._artifact_ids: dict[str, int] = {}  # sha256 -> Artifact id, saved this run
        self._scalars: dict[tuple[type, Any], Serialized] = {}
        #: Set when outputs could not be stored: the run must end failed with it.
        self.storage_error = ""
        #: A run from the queue taken over: its TaskRun rows exist (ids in ``_task_ids``).
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
        now = _now()
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
        self._task_ids = resumed.task_ids
        self.previous_attempts = resumed.previous_attempts
        self.kept = resumed.kept
        for node_id in resumed.kept:  # its own row stays: nothing reused is recorded again
            self.history.reused_tasks.pop(node_id, None)
        self.rows.update(resumed.rows)
        self._dirty.update(resumed.rows)

    def load_reused(self, dataset: str) -> Any:
        """The stored value of a dataset produced by a reused node, verified by the store."""
        artifact_id = self.history.reused_outputs.get(dataset)
        if artifact_id is None:
            raise LookupError(f"no stored artifact for dataset '{dataset}'")
        return self.store.get(Artifact.objects.using(self.using).get(pk=artifact_id))

    # During the run -------------------------------------------------------------------

    def serialize(self, values: Sequence[Any]) -> list[Serialized]:
        """Serialize a node's outputs now, so an unserializable output fails that node."""
        return [self._serialize_one(value) for value in values]

    def _serialize_one(self, value: Any) -> Serialized:
        # Many nodes return the same small scalar (None, True, a short string): equal
        # scalars have equal bytes, so each is serialized once per run. Floats are
        # left out because 0.0 == -0.0 while their bytes differ.
        kind = type(value)
        if kind in _SCALARS and (kind is not str or len(value) <= _SCALAR_TEXT_MAX):
            cached = self._scalars.get((kind, value))
            if cached is None:
                cached = self._scalars[(kind, value)] = serialize(value)
            return cached
        return serialize(value)

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
        self._dirty.add(node_id)

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
        self._dirty.add(node_id)
        if outcome.events:
            self.events(node_id, outcome.events, succeeded=state == "succeeded")

    def task_settled(self, node_id: int, state: str, reason: str = "", detail: str = "") -> None:
        """A node's final state was decided without an attempt (or its attempt was stopped)."""
        self.rows[node_id] = settled_row(self.rows.get(node_id), node_id, state, reason, detail)
        self.states[node_id] = state
        self._dirty.add(node_id)

    def events(
        self, node_id: int | None, events: Sequence[TrackingEvent], *, succeeded: bool = True
    ) -> None:
        """Buffer the metrics, params, artifacts and (if it succeeded) models a task logged."""
        for event in events:
            if event.kind == "metric":
                self._metrics.append(
                    [node_id, event.key, float(event.value), event.step, event.timestamp]
                )
            elif event.kind == "param":
                self._params[event.key] = event.value
            elif event.kind == "artifact":
                self._logged.append((node_id, event.key, serialize(event.value)))
            elif event.kind == "model" and succeeded and node_id is not None:
                # A failed attempt's model is not a version: the retry registers its own.
                self._models.append((node_id, event.value))

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
        idle = not (self._dirty or self._metrics or self._params or self._logged or self._models)
        if not first and idle and ending is None:
            return
        deadline = time.monotonic() + (_RETRY_AT_END if final else _RETRY_DURING_RUN)
        delay = 0.05
        while True:
            try:
                # Before the transaction, in autocommit: an Artifact id is remembered only
                # once its row is committed, so a rolled-back write leaves no stale id.
                self._store_outputs()
                with transaction.atomic(using=self.using):
                    if self.lease is not None:
                        # First, so the row stays locked (PostgreSQL) or the write lock
                        # held (SQLite) to the commit: no takeover between check and write.
                        self.lease.fence()
                    self._write(first)
                    if ending is not None:
                        ending()
                break
            except DatabaseError as exc:
                if first and not self.resumed:
                    self._task_ids = []  # the rows were rolled back with their ids
                passing = _passing(exc)
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
        for node_id in self._dirty:
            row = self.rows[node_id]
            if row.state in _FINAL:
                del self.rows[node_id]
            else:
                row.failures, row.outputs = None, ()
        self._dirty.clear()
        self._metrics, self._params, self._logged, self._models = [], {}, [], []

    def _store_outputs(self) -> None:
        """Save the outputs of buffered rows and logged artifacts to the artifact store.

        All at once; when that fails, row by row, so one unstorable output fails
        its own task (``storage_error``) and every other is still recorded. A
        database error (the Artifact rows could not be written) is not a storage
        failure: it propagates, for ``flush`` to retry.
        """
        rows = [self.rows[i] for i in sorted(self._dirty) if self.rows[i].outputs]
        pending = [s for row in rows for _, s in row.outputs] + [s for _, _, s in self._logged]
        pending += [registration.artifact for _, registration in self._models]
        if not pending:
            return
        try:
            self._save_artifacts(pending)
            return
        except DatabaseError:
            raise
        except Exception:  # storage backends raise anything; retried per row below
            logger.debug("saving %d artifacts at once failed; retrying one by one", len(pending))
        for row in rows:
            try:
                self._save_artifacts([s for _, s in row.outputs])
            except DatabaseError:
                raise
            except Exception as exc:  # any storage failure fails this task only
                name = self.pipeline.nodes[row.node_id].name
                message = f"could not store the outputs of '{name}': {type(exc).__name__}: {exc}"
                row.state, row.outputs, row.error = "failed", (), message
                self.states[row.node_id] = "failed"
                self.storage_error = self.storage_error or message
        kept = []
        for logged in self._logged:
            try:
                self._save_artifacts([logged[2]])
                kept.append(logged)
            except DatabaseError:
                raise
            except Exception as exc:  # as above
                message = f"could not store logged artifact '{logged[1]}': {exc}"
                self.storage_error = self.storage_error or message
        self._logged = kept
        models = []
        for node_id, registration in self._models:
            try:
                self._save_artifacts([registration.artifact])
                models.append((node_id, registration))
            except DatabaseError:
                raise
            except Exception as exc:  # as above
                message = f"could not store model '{registration.name}': {exc}"
                self.storage_error = self.storage_error or message
        self._models = models

    def _save_artifacts(self, items: Sequence[Serialized]) -> None:
        new = {s.sha256: s for s in items if s.sha256 not in self._artifact_ids}
        if new:
            saved = self.store.save_many(list(new.values()), using=self.using)
            self._artifact_ids.update({a.sha256: a.pk for a in saved})

    def _write(self, first: bool) -> None:
        """Everything buffered, inside the caller's transaction."""
        if first and self.resumed:
            from .resume import reset_tasks

            reset = [self.rows[i] for i in sorted(self._dirty)]
            reset_tasks(self.using, self.plan, reset, self._task_ids, self.history.reused_tasks)
        elif first:
            self._insert_tasks()
        else:
            self._update_tasks()
        ids, artifacts = self._task_ids, self._artifact_ids
        outputs: list[list[Any]] = []
        attempts: list[list[Any]] = []
        add_output, rows = outputs.append, self.rows
        for node_id in sorted(self._dirty):
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
            outputs += self._reused_output_rows()
        Table(TaskOutput, ("task", "dataset", "artifact"), self.using).insert(outputs)
        attempt_columns: tuple[str, ...] = ("task", "number", "started_at", "finished_at")
        attempt_columns += ("duration", "host", "pid", "error", "traceback")
        Table(TaskAttempt, attempt_columns, self.using).insert(attempts)
        Table(Metric, ("run", "task", "key", "value", "step", "timestamp"), self.using).insert(
            [[self.run_id, _task(ids, n), k, v, s, t] for n, k, v, s, t in self._metrics]
        )
        Table(LoggedArtifact, ("run", "task", "name", "artifact", "created_at"), self.using).insert(
            [
                [self.run_id, _task(ids, n), name, artifacts[s.sha256], _now()]
                for n, name, s in self._logged
            ]
        )
        if self._params:
            Param.objects.using(self.using).bulk_create(
                [Param(run_id=self.run_id, key=k, value=v) for k, v in self._params.items()],
                update_conflicts=True,
                unique_fields=["run", "key"],
                update_fields=["value"],
            )
        if self._models:
            from ..registry.register import create_versions

            names = self.pipeline.columns.names
            create_versions(
                self.using,
                self.run_id,
                [(ids[n], names[n], r, artifacts[r.artifact.sha256]) for n, r in self._models],
            )
        if first:
            self.history.copy_reused_records(self.run_id)

    def _insert_tasks(self) -> None:
        """Insert one TaskRun per node, in topological order (id order reads as a run order).

        Texts (stdout, stderr, log, error, traceback) are empty for most tasks: they
        are left to the database default and set afterwards for the few with any.
        """
        plan, rows, names = self.plan, self.rows, self.pipeline.columns.names
        reused_from, reads, order = self.history.reused_tasks, plan.reads, plan.order
        input_keys = plan.input_keys_json
        values = []
        texts = []
        for node_id in order:
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
                    self.run_id,
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
        Table(TaskRun, columns, self.using, json_texts=("input_keys",)).insert(values)
        found = dict(select(TaskRun, ("node", "id"), "{run} = %s", [self.run_id], self.using))
        ids = self._task_ids = [found[name] for name in names]
        for text in texts:
            text[-1] = ids[text[-1]]
        Table(TaskRun, TEXT_COLUMNS, self.using).update(texts, ("id",))

    def _update_tasks(self) -> None:
        """Update the rows of the tasks that changed since the last commit."""
        plan, ids = self.plan, self._task_ids
        values = [
            [
                *row.values(),
                row.reason or plan.reasons[row.node_id],
                plan.details[row.node_id] if row.detail is None else row.detail,
                ids[row.node_id],
            ]
            for row in (self.rows[i] for i in sorted(self._dirty))
        ]
        columns = (*TASK_COLUMNS, "reason", "reason_detail")
        Table(TaskRun, columns, self.using).update(values, ("id",))

    def _reused_output_rows(self) -> list[list[Any]]:
        """TaskOutput rows of the nodes the plan reuses: the artifacts they reuse."""
        ids, stored = self._task_ids, self.history.stored_outputs
        keys, nodes = self.plan.keys, self.pipeline.nodes
        return [
            [ids[node_id], dataset, stored[(keys[node_id], dataset)]]
            for node_id in self.history.reused_tasks
            for dataset in nodes[node_id].outputs
            if (keys[node_id], dataset) in stored
        ]

    def finish(self, states: Sequence[str], status: str, error: str = "") -> None:
        """Record final states (failure spread, cancels) and the run's status and timings."""
        self.settle(states)

        def save_status() -> None:
            # Read here, after the last outputs were stored: that may have failed.
            if self.storage_error:
                self._save_status(states, "failed", error or self.storage_error)
            else:
                self._save_status(states, status, error)

        # The last rows and the run's status in one transaction: no reader sees a
        # finished run whose tasks are not all written.
        self.flush(final=True, ending=save_status)

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

    def _save_status(self, states: Sequence[str], status: str, error: str) -> None:
        run = self.run
        if status == "queued":  # handed back to the queue: not finished, nothing failed
            from ..queue.notify import notify_queued
            from .liveness import settle_tasks

            runs = Run.objects.using(self.using).filter(pk=run.pk)
            if runs.filter(cancel_requested=False).update(status="queued", error=""):
                run.status, run.error = "queued", ""
                notify_queued(self.using)
                return
            # Asked to cancel meanwhile: a cancel is never undone by a hand-back.
            settle_tasks(self.using, run.pk, "cancelled")
            status = "cancelled"
        finished = _now()
        run.status = status
        run.finished_at = finished
        if run.started_at is not None:
            run.duration = (finished - run.started_at).total_seconds()
        if not error and "failed" in states:
            names = self.pipeline.columns.names
            error = "failed: " + ", ".join(names[i] for i, s in enumerate(states) if s == "failed")
        run.error = error
        run.save(using=self.using, update_fields=["status", "finished_at", "duration", "error"])


# What the message of a write failure that may pass says (SQLite's busy lock,
# PostgreSQL's lock timeouts, serialization failures, deadlocks and dropped connections).
_PASSING = (
    "database is locked",
    "database table is locked",
    "busy",
    "lock timeout",
    "could not obtain lock",
    "could not serialize",
    "deadlock",
    "connection",
    "server closed",
    "terminating",
)


def _passing(exc: DatabaseError) -> bool:
    """Whether a failed write may succeed when tried again (a lock, a dropped connection)."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    message = str(exc).lower()
    return any(words in message for words in _PASSING)


#: Public name of the test, for the other writers of records (the registry's alias moves).
is_passing_error = _passing


def _span(started: float | None, finished: float | None) -> float | None:
    return finished - started if started is not None and finished is not None else None


def _task(ids: Sequence[int], node_id: int | None) -> int | None:
    return None if node_id is None else ids[node_id]
