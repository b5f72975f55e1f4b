"""The loop of one run: hand ready nodes to the executor, take outcomes, tell the scheduler.

The engine's Scheduler decides what may run; an Executor runs node functions; a
Recorder (when the run is recorded) buffers what happened. Lists here are
indexed by engine node id and the per-node work is kept small: at 10k no-op
nodes this loop is the whole overhead of an unrecorded run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from .. import _engine
from ..errors import NodeOutputError
from ..pipeline import Node
from .planning import RunPlan

if TYPE_CHECKING:
    from ..executors import Executor, TaskOutcome
    from ..executors.base import TrackingEvent
    from ..records.writer import Recorder

__all__ = ["Execution", "RunEvent"]

_FAILED = frozenset({"failed", "upstream_failed"})
_FINAL = frozenset(
    {"succeeded", "cached", "failed", "upstream_failed", "not_started", "cancelled", "excluded"}
)


@dataclass(frozen=True, slots=True)
class RunEvent:
    """A step of a run, for live progress displays (``on_event``)."""

    kind: str  # run_started, task_started, task_finished, run_finished
    run_id: int | None
    node: str | None
    state: str | None  # a NodeState name for task events, the run status for run_finished
    done: int  # nodes in a final state
    total: int  # nodes in the pipeline
    elapsed: float  # seconds since the run started
    running: tuple[str, ...]  # nodes running now
    error: str = ""  # a failed or retrying attempt's error line


def _outputs_of(node: Node, value: Any) -> tuple[Any, ...]:
    """The node's return value as one value per declared output, checked."""
    if not node.outputs:
        return ()
    if not node.returns_tuple:
        return (value,)
    if not isinstance(value, tuple | list) or len(value) != len(node.outputs):
        got = f"{len(value)} values" if isinstance(value, tuple | list) else type(value).__name__
        raise NodeOutputError(
            f"node '{node.name}' declares {len(node.outputs)} outputs "
            f"{list(node.outputs)} and must return a tuple of that length; it returned {got}"
        )
    return tuple(value)


def _concept_step(*args: Any) -> Any:
    # The plan never starts a concept step; reaching this is an engine bug.
    raise RuntimeError("a concept step has no code to run")


class Execution:
    """One run's loop state. Lists are indexed by engine node id."""

    def __init__(
        self,
        plan: RunPlan,
        executor: Executor,
        recorder: Recorder | None,
        on_event: Callable[[RunEvent], None] | None,
        run_id: int | None,
    ) -> None:
        pipeline = plan.pipeline
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
        self.done = sum(map(_FINAL.__contains__, self.states))  # a C loop, not a generator
        columns = pipeline.columns
        self.scheduler = _engine.Scheduler(pipeline.graph, plan.engine_plan, 0, columns.retries)
        self.started = time.monotonic()
        self.cancelled = False
        # Per node id, looked up once per attempt in the hot loop.
        self.inputs = columns.inputs
        funcs = columns.funcs
        # Read-only here: the lists belong to the pipeline and serve every run.
        self.funcs: list[Callable[..., Any]] = (
            [f or _concept_step for f in funcs] if None in funcs else cast(Any, funcs)
        )
        from ..executors import TaskSpec

        self.task_spec = TaskSpec
        # Kept for unrecorded runs only (a recorder writes these instead).
        self.failures: dict[int, tuple[str, str]] = {}
        self.metrics: dict[str, float] = {}
        self.logged_params: dict[str, Any] = {}

    def emit(self, kind: str, node: str | None, state: str | None, error: str = "") -> None:
        """Tell ``on_event`` about a step of the run."""
        if self.on_event is not None:
            self.on_event(
                RunEvent(
                    kind,
                    self.run_id,
                    node,
                    state,
                    self.done,
                    len(self.nodes),
                    time.monotonic() - self.started,
                    tuple(self.running.values()),
                    error,
                )
            )

    def load_inputs(self, node: Node) -> list[Any]:
        """Arguments when some input comes from a reused node: load it from the store once."""
        values = self.values
        assert self.recorder is not None, "an unrecorded run has nothing stored"
        for name in node.inputs:
            if name not in values:
                values[name] = self.recorder.load_reused(name)
        return [values[name] for name in node.inputs]

    def submit_ready(self) -> None:
        """Hand ready nodes to the executor, as many as it has free slots."""
        free = self.executor.capacity - len(self.running)
        if free <= 0 or self.cancelled:
            return
        submit_one = self.submit_one
        for node_id in self.scheduler.take_ready(free):
            submit_one(node_id)

    def submit_one(self, node_id: int) -> None:
        """Start an attempt of a node the scheduler handed out: give it to the executor."""
        node = self.nodes[node_id]
        attempt = self.attempts[node_id] = self.attempts[node_id] + 1
        self.running[node_id] = node.name
        self.states[node_id] = "running"
        try:
            args = [self.values[name] for name in self.inputs[node_id]]
        except KeyError:
            try:
                args = self.load_inputs(node)
            except Exception as exc:  # a stored input that cannot be loaded (tampered, gone)
                self.finish_failed(node_id, f"cannot load an input of '{node.name}': {exc}", "")
                return
        recorder = self.recorder
        if recorder is not None:
            recorder.task_started(node_id, attempt)
        if self.on_event is not None:
            self.emit("task_started", node.name, "running")
        self.executor.submit(
            self.task_spec(
                node_id=node_id,
                node=node.name,
                func=self.funcs[node_id],
                args=args,
                timeout=node.timeout,
                run_id=self.run_id,
                attempt=attempt,
                # Unrecorded runs (notebooks, tests) let prints and logs reach the terminal.
                capture=recorder is not None,
            )
        )

    @staticmethod
    def outputs_of(node: Node, value: Any) -> tuple[Any, ...]:
        """The node's return value as one value per declared output, checked."""
        return _outputs_of(node, value)

    def handle(self, outcome: TaskOutcome) -> None:
        """Take one finished attempt: keep its outputs and tell the scheduler."""
        node_id = outcome.node_id
        node = self.nodes[node_id]
        recorder = self.recorder
        if outcome.ok and recorder is None and not node.returns_tuple:
            # The unrecorded common case (one output or none), kept to a few steps.
            if node.outputs:
                self.values[node.outputs[0]] = outcome.value
            self.running.pop(node_id, None)
            self.scheduler.succeed(node_id)
            self.states[node_id] = "succeeded"
            self.done += 1
            if outcome.events:
                self.keep_events(outcome.events)
            if self.on_event is not None:
                self.emit("task_finished", node.name, "succeeded")
        elif outcome.ok:
            try:
                produced = _outputs_of(node, outcome.value)
                serialized = recorder.serialize(produced) if recorder is not None else None
            except Exception as exc:  # wrong arity, or an output no serializer takes
                self.finish_failed(node_id, f"{type(exc).__name__}: {exc}", "", outcome)
                return
            self.running.pop(node_id, None)
            if len(produced) == 1:
                self.values[node.outputs[0]] = produced[0]
            else:
                self.values.update(zip(node.outputs, produced, strict=True))
            self.scheduler.succeed(node_id)
            self.states[node_id] = "succeeded"
            self.done += 1
            if recorder is not None:
                recorder.task_succeeded(node_id, outcome, node.outputs, serialized or ())
            elif outcome.events:
                self.keep_events(outcome.events)
            if self.on_event is not None:
                self.emit("task_finished", node.name, "succeeded")
        else:
            self.finish_failed(node_id, outcome.error, outcome.traceback, outcome)

    def keep_events(self, events: Sequence[TrackingEvent]) -> None:
        """Unrecorded runs keep the latest metric and param values in memory."""
        for event in events:
            if event.kind == "metric":
                self.metrics[event.key] = event.value
            elif event.kind == "param":
                self.logged_params[event.key] = event.value

    def finish_failed(
        self, node_id: int, error: str, traceback: str, outcome: TaskOutcome | None = None
    ) -> None:
        """Record a failed attempt; the scheduler decides between retry and failure."""
        node = self.nodes[node_id]
        self.running.pop(node_id, None)
        retrying = self.scheduler.fail(node_id)
        state = "retrying" if retrying else "failed"
        self.states[node_id] = state
        if not retrying:
            self.done += 1
        if self.recorder is not None:
            self.recorder.task_failed(node_id, state, error, traceback, outcome)
        else:
            self.failures[node_id] = (error or "", traceback or "")
            if outcome is not None and outcome.events:
                self.keep_events(outcome.events)
        if self.on_event is not None:
            self.emit("task_finished", node.name, state, error)

    def loop(self, flush_seconds: float) -> None:
        """Run until every node is final (or the run is cancelled), flushing records."""
        scheduler = self.scheduler
        executor = self.executor
        if getattr(executor, "runs_in_caller", False):
            from .inline_loop import run_inline

            run_inline(self, flush_seconds)
            return
        recorder = self.recorder
        next_flush = time.monotonic() + flush_seconds
        submit_ready, handle, wait, running = (
            self.submit_ready,
            self.handle,
            executor.wait,
            self.running,
        )
        while True:
            submit_ready()
            if not running and (scheduler.finished or self.cancelled):
                break
            for outcome in wait(flush_seconds):
                handle(outcome)
            if recorder is not None and time.monotonic() >= next_flush:
                recorder.flush()
                if not self.cancelled and recorder.cancel_requested():
                    self.cancel()
                next_flush = time.monotonic() + flush_seconds

    def cancel(self) -> None:
        """Stop handing out nodes and stop the running ones; finished work is kept."""
        self.cancelled = True
        self.scheduler.cancel()
        self.executor.cancel()
        for node_id in list(self.running):
            self.states[node_id] = "cancelled"
        self.running.clear()

    def final_states(self) -> list[str]:
        """Every node's final state; the scheduler knows about failure spread and cancels."""
        states: list[str] = self.scheduler.state_names()
        if "cancelled" in self.states:
            for node_id, state in enumerate(self.states):
                if state == "cancelled":  # stopped while running: the scheduler says running
                    states[node_id] = "cancelled"
        return states

    def status(self, states: Sequence[str]) -> str:
        """The run's status from its nodes' final states."""
        if self.cancelled:
            return "cancelled"
        if not _FAILED.isdisjoint(states):  # a set scan in C, not a generator per node
            return "failed"
        return "succeeded"
