"""The loop of one run: hand ready nodes to the executor, take outcomes, tell the scheduler.

The engine's Scheduler decides what may run; an Executor runs node functions; a
RecordWriter (when the run is recorded) buffers what happened. Every finished
attempt, from any executor or from the inline loop (``run/inline_loop.py``),
goes through :meth:`Execution.succeeded` or :meth:`Execution.failed`: the one
place where outputs are checked and kept, the scheduler is told, and the
outcome is handed to the records. Lists here are indexed by engine node id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from .. import _engine
from .events import RunEvent
from .outcomes import failed_outcome, outputs_of
from .planning import RunPlan

if TYPE_CHECKING:
    from ..artifacts import Serialized
    from ..executors import Executor, TaskOutcome
    from ..executors.base import TrackingEvent
    from ..queue.lease import Lease
    from ..records.writer import RecordWriter

__all__ = ["Execution", "RunEvent", "outputs_of"]

_FAILED = frozenset({"failed", "upstream_failed"})
_FINAL = frozenset(
    {"succeeded", "cached", "failed", "upstream_failed", "not_started", "cancelled", "excluded"}
)


def _concept_step(*args: Any) -> Any:
    # The plan never starts a concept step; reaching this is an engine bug.
    raise RuntimeError("a concept step has no code to run")


class Execution:
    """One run's loop state. Lists are indexed by engine node id."""

    def __init__(
        self,
        plan: RunPlan,
        executor: Executor,
        recorder: RecordWriter | None,
        on_event: Callable[[RunEvent], None] | None,
        run_id: int | None,
        lease: Lease | None = None,
    ) -> None:
        pipeline = plan.pipeline
        self.lease = lease
        #: Set when the run stopped to go back to the queue (its worker stops).
        self.handed_back = False
        self.plan = plan
        self.nodes = pipeline.nodes
        self.executor = executor
        self.recorder = recorder
        self.on_event = on_event
        self.run_id = run_id
        # Params travel through the same dict as datasets, under their "params:x"
        # input names, so building a node's arguments is a single lookup per input.
        self.values: dict[str, Any] = {f"params:{k}": v for k, v in plan.params.items()}
        self.states = list(plan.initial)
        self.attempts = [0] * len(self.nodes)
        self.running: dict[int, str] = {}
        # Nodes in a final state, for progress events (the only reader): counted
        # only when someone listens (``emit`` counts the settled ones on first use).
        self.done = 0
        self._settled: int | None = None
        columns = pipeline.columns
        self.scheduler = _engine.Scheduler(pipeline.graph, plan.engine_plan, 0, columns.retries)
        self.started = time.monotonic()
        self.cancelled = False
        #: Set when the run must end failed though no node failed (outputs not stored).
        self.abort_error = ""
        #: (final states, status), set by the runner when the run has ended.
        self.final: tuple[list[str], str] = ([], "")
        self.inputs = columns.inputs
        funcs = columns.funcs
        # Read-only here: the lists belong to the pipeline and serve every run.
        self.funcs: list[Callable[..., Any]] = cast(Any, funcs)
        if columns.concepts:  # a concept step has no function: a copy with a stand-in
            self.funcs = [f or _concept_step for f in funcs]
        self.single = columns.single_output
        self.first_output = columns.first_output
        # Nothing to record and nobody to tell: successes take the shortest path.
        self.lean = recorder is None and on_event is None
        #: Successes not yet told to the scheduler (the inline loop reports them a
        #: batch at a time); ``None``: each success is reported at once.
        self.unreported: list[int] | None = None
        # Kept for unrecorded runs only (a recorder writes these instead).
        self.failures: dict[int, tuple[str, str]] = {}
        self.metrics: dict[str, float] = {}
        self.logged_params: dict[str, Any] = {}

    def emit(self, kind: str, node: str | None, state: str | None, error: str = "") -> None:
        """Tell ``on_event`` about a step of the run."""
        if self.on_event is not None:
            if self._settled is None:  # a C loop, not a generator
                self._settled = sum(map(_FINAL.__contains__, self.plan.initial))
            self.on_event(
                RunEvent(
                    kind,
                    self.run_id,
                    node,
                    state,
                    self._settled + self.done,
                    len(self.nodes),
                    time.monotonic() - self.started,
                    tuple(self.running.values()),
                    error,
                )
            )

    def arguments(self, node_id: int) -> list[Any]:
        """The node's input values; an input of a reused node is loaded from the store once."""
        values = self.values
        names = self.inputs[node_id]
        for name in names:
            if name not in values:
                assert self.recorder is not None, "an unrecorded run has nothing stored"
                values[name] = self.recorder.load_reused(name)
        return [values[name] for name in names]

    # The executor path ------------------------------------------------------------------

    def submit_ready(self) -> None:
        """Hand ready nodes to the executor, as many as it has free slots."""
        free = self.executor.capacity - len(self.running)
        if free <= 0 or self.cancelled:
            return
        for node_id in self.scheduler.take_ready(free):
            self.submit_one(node_id)

    def submit_one(self, node_id: int) -> None:
        """Start an attempt of a node the scheduler handed out: give it to the executor."""
        from ..executors import TaskSpec

        node = self.nodes[node_id]
        attempt = self.start_attempt(node_id)
        try:
            args = self.arguments(node_id)
        except Exception as exc:  # a stored input that cannot be loaded (tampered, gone)
            self.failed(node_id, self.no_outcome(node_id, f"cannot load an input: {exc}"))
            return
        self.executor.submit(
            TaskSpec(
                node_id=node_id,
                node=node.name,
                func=self.funcs[node_id],
                args=args,
                timeout=node.timeout,
                run_id=self.run_id,
                attempt=attempt,
                # Unrecorded runs (notebooks, tests) let prints and logs reach the terminal.
                capture=self.recorder is not None,
            )
        )

    def start_attempt(self, node_id: int) -> int:
        """Count a new attempt of a node and say it is running; returns its number."""
        attempt = self.attempts[node_id] = self.attempts[node_id] + 1
        name = self.nodes[node_id].name
        self.running[node_id] = name
        self.states[node_id] = "running"
        if self.recorder is not None:
            self.recorder.task_started(node_id, attempt)
        if self.lease is not None:
            self.lease.node_started(name, attempt)
        if self.on_event is not None:
            self.emit("task_started", name, "running")
        return attempt

    def no_outcome(self, node_id: int, error: str) -> TaskOutcome:
        """A failed outcome for an attempt that could not be made (an input not loadable)."""
        from ..executors.task import HOST, current_pid

        now = time.time()
        node = self.nodes[node_id]
        return failed_outcome(
            node, node_id, self.attempts[node_id], error, now, HOST, current_pid()
        )

    def handle(self, outcome: TaskOutcome) -> None:
        """Take one finished attempt from an executor."""
        if outcome.ok:
            self.succeeded(outcome.node_id, outcome.value, outcome)
        else:
            self.failed(outcome.node_id, outcome)

    # Every finished attempt -------------------------------------------------------------

    def succeeded(self, node_id: int, value: Any, outcome: TaskOutcome | None) -> None:
        """A node returned ``value``: check and keep its outputs, tell the scheduler and records.

        ``outcome`` describes the attempt; only an unrecorded run may pass None.
        """
        if self.lean and self.single[node_id]:
            # Unrecorded, no progress display, one output: the whole overhead of a
            # no-op node in memory, so kept to one store.
            self.values[self.first_output[node_id]] = value
        elif not self._keep_outputs(node_id, value, outcome):
            return  # the outputs were refused: the attempt failed
        if outcome is not None and outcome.events and self.recorder is None:
            self.keep_events(outcome.events)
        unreported = self.unreported
        if unreported is None:
            self.scheduler.succeed(node_id)
        else:
            unreported.append(node_id)
        self.states[node_id] = "succeeded"
        self.done += 1
        if self.lease is not None:
            self.lease.node_ended(self.nodes[node_id].name)
        if self.on_event is not None:
            self.running.pop(node_id, None)
            self.emit("task_finished", self.nodes[node_id].name, "succeeded")
        elif self.running:
            self.running.pop(node_id, None)

    def _keep_outputs(self, node_id: int, value: Any, outcome: TaskOutcome | None) -> bool:
        """Check a node's return value against its outputs, keep them, hand them to the records.

        False (and the attempt recorded failed) when the value has the wrong shape or
        an output cannot be serialized.
        """
        recorder = self.recorder
        node = self.nodes[node_id]
        try:
            produced = outputs_of(node, value)
            serialized: Sequence[Serialized] = (
                recorder.serialize(produced) if recorder is not None else ()
            )
        except Exception as exc:  # wrong arity, or an output no serializer takes
            assert outcome is not None or recorder is None
            failure = outcome or self.no_outcome(node_id, "")
            failure.ok, failure.value = False, None
            failure.error, failure.traceback = f"{type(exc).__name__}: {exc}", ""
            self.failed(node_id, failure)
            return False
        names = node.outputs
        if len(names) == 1:  # most nodes: no zips
            self.values[names[0]] = produced[0]
            pairs: tuple[tuple[str, Serialized], ...] = (
                ((names[0], serialized[0]),) if recorder else ()
            )
        else:
            self.values.update(zip(names, produced, strict=True))
            pairs = tuple(zip(names, serialized, strict=True)) if recorder else ()
        if recorder is not None:
            assert outcome is not None, "a recorded attempt needs its outcome"
            recorder.task_finished(node_id, "succeeded", outcome, pairs)
        return True

    def failed(self, node_id: int, outcome: TaskOutcome) -> None:
        """A failed attempt; the scheduler decides between a retry and failure."""
        self.report_successes()
        self.running.pop(node_id, None)
        if self.lease is not None:
            self.lease.node_ended(self.nodes[node_id].name)
        retrying = self.scheduler.fail(node_id)
        state = "retrying" if retrying else "failed"
        self.states[node_id] = state
        if not retrying:
            self.done += 1
        if self.recorder is not None:
            self.recorder.task_finished(node_id, state, outcome)
        else:
            self.failures[node_id] = (outcome.error or "", outcome.traceback or "")
            if outcome.events:
                self.keep_events(outcome.events)
        if self.on_event is not None:
            self.emit("task_finished", self.nodes[node_id].name, state, outcome.error)

    def report_successes(self) -> None:
        """Tell the scheduler about the successes the inline loop has not reported yet."""
        unreported = self.unreported
        if unreported:
            ids = unreported[:]
            unreported.clear()
            self.scheduler.succeed_and_take(ids, 0)

    def keep_events(self, events: Sequence[TrackingEvent]) -> None:
        """Unrecorded runs keep the latest metric and param values in memory."""
        for event in events:
            if event.kind == "metric":
                self.metrics[event.key] = event.value
            elif event.kind == "param":
                self.logged_params[event.key] = event.value

    # The loop ---------------------------------------------------------------------------

    def loop(self, flush_seconds: float) -> None:
        """Run until every node is final (or the run is cancelled), flushing records."""
        if type(self.executor).runs_in_caller:
            from .inline_loop import run_inline

            run_inline(self, flush_seconds)
            return
        scheduler, recorder, running = self.scheduler, self.recorder, self.running
        wait = self.executor.wait
        next_flush = time.monotonic() + flush_seconds
        while True:
            self.submit_ready()
            if not running and (scheduler.finished or self.cancelled):
                break
            for outcome in wait(flush_seconds):
                self.handle(outcome)
            if recorder is not None and time.monotonic() >= next_flush:
                self.flush_records()
                next_flush = time.monotonic() + flush_seconds

    def flush_records(self) -> None:
        """Write the buffered records; stop the run if asked to or if outputs cannot be stored."""
        recorder = self.recorder
        assert recorder is not None
        self.report_successes()
        lease = self.lease
        if lease is not None and lease.lost.is_set():
            # The heartbeat found the claim gone: abandon the run, write nothing.
            from ..queue.lease import LeaseLost

            raise LeaseLost(f"run {self.run_id}: another worker holds it now; abandoned")
        recorder.flush()
        if self.cancelled:
            return
        if recorder.storage_error:
            self.abort_error = recorder.storage_error
            self.cancel()
        elif recorder.cancel_requested():
            self.cancel()
        elif lease is not None and lease.hand_back.is_set():
            self.hand_back()

    def hand_back(self) -> None:
        """Stop handing out nodes; the running ones finish, then the run goes back to the queue."""
        self.report_successes()
        self.handed_back = True
        self.cancelled = True  # both loops stop taking nodes, and wait for the running ones

    def handed_back_states(self, states: Sequence[str]) -> list[str]:
        """The states a handed-back run records: what finished, the rest pending again."""
        kept = _FINAL - {"cancelled"}
        return [state if state in kept else "pending" for state in states]

    def cancel(self) -> None:
        """Stop handing out nodes and stop the running ones; finished work is kept."""
        self.report_successes()
        self.cancelled = True
        self.scheduler.cancel()
        self.executor.cancel()
        for node_id in list(self.running):
            self.states[node_id] = "cancelled"
        self.running.clear()

    def final_states(self) -> list[str]:
        """Every node's final state; the scheduler knows about failure spread and cancels."""
        self.report_successes()
        states: list[str] = self.scheduler.state_names()
        # Only a cancel marks nodes cancelled here: most runs skip the scan of every state.
        if self.cancelled and "cancelled" in self.states:
            for node_id, state in enumerate(self.states):
                if state == "cancelled":  # stopped while running: the scheduler says running
                    states[node_id] = "cancelled"
        return states

    def status(self, states: Sequence[str]) -> str:
        """The run's status from its nodes' final states."""
        if self.abort_error:
            return "failed"
        if self.cancelled and not self.handed_back:
            return "cancelled"
        if not _FAILED.isdisjoint(states):  # a set scan in C, not a generator per node
            return "failed"
        return "succeeded"
