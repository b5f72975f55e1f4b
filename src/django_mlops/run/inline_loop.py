"""The inline executor's loop, without the executor: node functions called right here.

With the inline executor every attempt runs in the Runner's thread anyway, so
handing it over as a ``TaskSpec`` and taking a ``TaskOutcome`` back only costs
time (two objects, a queue and a dozen attribute reads per node: most of the
overhead of a no-op node). This loop takes every ready node from the scheduler
at once, calls each function directly with the tracking context (and, on
recorded runs, output capture) set around the call, and hands the recorder a
finished row. What it records is what the executor path records: a failing
node gets the same error line and traceback (``exception_texts``), nodes with
a timeout still go through the executor (its watchdog stops them), and Ctrl-C
leaves the node it interrupted ``cancelled`` with its attempt on record.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from .. import capture as capturing
from ..executors.base import TaskOutcome, TrackingEvent
from ..executors.task import HOST, current_pid, exception_texts, skip_frames_of
from ..tracking import TaskContext, reset_current, set_current

if TYPE_CHECKING:
    from .loop import Execution

__all__ = ["FinishedColumns", "run_inline"]

# A node's traceback starts at the user's function, not at this loop's call.
skip_frames_of(__file__)

_NO_TEXT = ("", "", "")


@dataclass
class FinishedColumns:
    """Tasks that succeeded in one attempt in this loop, as parallel columns for the recorder.

    The loop appends to these lists directly; ``outputs`` holds the one
    Serialized value of each (single-output) node. Columns rather than a tuple
    per task: ints and floats are not tracked by the cyclic garbage collector,
    while 10k tuples kept until the flush would set off collections that walk
    every object of the process (measured: twice the loop's own cost). ``take``
    empties them in place, because the loop keeps their ``append`` methods.
    """

    ids: list[int] = field(default_factory=list)
    attempts: list[int] = field(default_factory=list)
    started: list[float] = field(default_factory=list)
    finished: list[float] = field(default_factory=list)
    outputs: list[Any] = field(default_factory=list)

    def take(self) -> FinishedColumns:
        """A copy of the columns, leaving these empty."""
        copy = FinishedColumns(
            self.ids[:], self.attempts[:], self.started[:], self.finished[:], self.outputs[:]
        )
        for column in (self.ids, self.attempts, self.started, self.finished, self.outputs):
            column.clear()
        return copy


def _failed(
    ex: Execution,
    node_id: int,
    attempt: int,
    error: str,
    tb_text: str,
    started: float,
    texts: tuple[str, str, str],
    events: list[TrackingEvent],
) -> None:
    """Record a failed attempt the way the executor path does (an outcome to ``finish_failed``)."""
    name = ex.nodes[node_id].name
    outcome = TaskOutcome(
        name,
        attempt,
        False,
        None,
        error,
        tb_text,
        *texts,
        started,
        time.time(),
        HOST,
        current_pid(),
        events,
        False,
        False,
        node_id,
    )
    ex.running[node_id] = name
    if ex.recorder is not None:
        ex.recorder.task_started(node_id, attempt)
    ex.finish_failed(node_id, error, tb_text, outcome)


def _not_recorded(value: Any) -> Any:
    raise AssertionError("an unrecorded run serializes nothing")


def _interrupted(ex: Execution, node_id: int, attempt: int, rest: list[int]) -> None:
    """Ctrl-C (or another BaseException) in a node: leave it running for ``cancel`` to mark.

    Nodes taken from the scheduler with it but not started yet were never handed
    out; they end ``cancelled`` like the ready nodes ``Scheduler.cancel`` settles.
    """
    ex.running[node_id] = ex.nodes[node_id].name
    ex.states[node_id] = "running"
    if ex.recorder is not None:
        ex.recorder.task_started(node_id, attempt)
    for other in rest:
        ex.states[other] = "cancelled"


def _run_with_executor(ex: Execution, node_id: int) -> None:
    """A node with a timeout: through the executor, whose watchdog can stop it."""
    ex.submit_one(node_id)
    for outcome in ex.executor.wait():
        ex.handle(outcome)


def run_inline(ex: Execution, flush_seconds: float) -> None:
    """Run every node of ``ex`` in this thread until all are final or the run is cancelled."""
    # Successes are told to the scheduler a batch at a time, with the next take
    # (``succeed_and_take``): one engine call per batch instead of one per node. A
    # node's children only become ready once the batch it is in has finished, which
    # is when this loop would take them anyway. Before anything else that reads or
    # changes the scheduler (a failure, the executor path, a cancel) the batch so
    # far is reported first (``report``).
    succeed_and_take = ex.scheduler.succeed_and_take
    finished_ids: list[int] = []
    # One context for the run, its node and attempt changed per node. Without
    # ``on_event`` no other code runs in this thread between two nodes (the
    # recorder's writes read no task), so it is made current once for the whole
    # loop rather than around every call: two context-variable calls fewer per
    # node. With it, user callbacks run between nodes and must not see a task.
    context = TaskContext(ex.run_id, "", 0, [])
    per_node = ex.on_event is not None
    run_token = None if per_node else set_current(context)
    # The output capture likewise: routers installed once per run, and the
    # capture current for the whole loop unless callbacks run between nodes.
    capture = capturing.Capture(tee=True)  # prints also reach the terminal, as they happen
    if ex.recorder is not None:
        capturing.install()
    capture_token = None if per_node or ex.recorder is None else capturing.enter(capture)
    try:
        _run_batches(ex, flush_seconds, succeed_and_take, finished_ids, context, per_node, capture)
    finally:
        if capture_token is not None:
            capturing.leave(capture_token)
        if run_token is not None:
            reset_current(run_token)
        if finished_ids:  # an exception left successes unreported: the runner reads states
            succeed_and_take(finished_ids, 0)


def _run_batches(
    ex: Execution,
    flush_seconds: float,
    succeed_and_take: Callable[..., list[int]],
    finished_ids: list[int],
    context: TaskContext,
    per_node: bool,
    capture: capturing.Capture,
) -> None:
    """Take ready nodes from the scheduler a batch at a time and run them here.

    ``finished_ids`` holds the successes not yet reported. ``per_node``: make
    ``context`` (and, recorded, ``capture``) current around each call; else
    ``run_inline`` made them current for the whole loop.

    One function on purpose: at 10k no-op nodes each attribute lookup or call
    hoisted out of the per-node body is measurable.
    """

    def report() -> None:
        ids = finished_ids[:]
        finished_ids.clear()
        succeed_and_take(ids, 0)

    nodes, funcs, inputs, values = ex.nodes, ex.funcs, ex.inputs, ex.values
    attempts, states, running = ex.attempts, ex.states, ex.running
    recorder, on_event = ex.recorder, ex.on_event
    record = recorder is not None
    outputs_of = ex.outputs_of
    clock, monotonic = time.time, time.monotonic
    enter_capture, leave_capture = capturing.enter, capturing.leave
    capture_each = record and per_node
    # A success in its first attempt with one output and no texts or events goes
    # to the recorder as five list appends (``FinishedColumns``), not a row object.
    done = recorder.finished if recorder is not None else FinishedColumns()
    add_id, add_attempt, add_started = done.ids.append, done.attempts.append, done.started.append
    add_finished, add_output = done.finished.append, done.outputs.append
    single = ex.plan.pipeline.columns.single_output
    scalars = recorder.scalars if recorder is not None else {}
    scalar_kinds = recorder.scalar_kinds if recorder is not None else frozenset()
    serialize_one: Callable[[Any], Any] = (
        recorder.serialize_one if recorder is not None else _not_recorded
    )
    serialize = recorder.serialize if recorder is not None else None
    succeeded = 0
    next_flush = monotonic() + flush_seconds
    try:
        while not ex.cancelled:
            ready = succeed_and_take(finished_ids)  # copied into the engine's own vector
            finished_ids.clear()
            if not ready:
                break  # nothing runs between batches here: no ready node means all are final
            for node_id in ready:
                node = nodes[node_id]
                if node.timeout is not None:
                    report()
                    _run_with_executor(ex, node_id)
                    continue
                attempt = attempts[node_id] = attempts[node_id] + 1
                name = node.name
                names = inputs[node_id]
                try:
                    # No comprehension (a frame per call): one input as a tuple, several
                    # through an itemgetter, which returns them as a tuple. Made per
                    # call, not kept per node: 10k long-lived objects would set off
                    # garbage collections that walk every object of the process.
                    args: Sequence[Any]
                    if len(names) == 1:
                        args = (values[names[0]],)
                    else:
                        args = itemgetter(*names)(values) if names else ()
                except KeyError:
                    try:
                        args = ex.load_inputs(node)
                    except Exception as exc:  # a stored input that cannot be loaded
                        report()
                        ex.finish_failed(node_id, f"cannot load an input of '{name}': {exc}", "")
                        continue
                if on_event is not None:
                    running[node_id] = name
                    states[node_id] = "running"
                    ex.emit("task_started", name, "running")
                # A node that logs nothing leaves the context's events list empty: the
                # next one reuses it (no allocation per node for the cyclic GC to count).
                context.node, context.attempt = name, attempt
                token = set_current(context) if per_node else None
                capture_token = enter_capture(capture) if capture_each else None
                started = clock() if record else 0.0  # unrecorded runs keep no timings
                try:
                    try:
                        value: Any = funcs[node_id](*args)
                    finally:
                        if capture_token is not None:
                            leave_capture(capture_token)
                        if token is not None:
                            reset_current(token)
                except (SystemExit, Exception) as exc:
                    texts = capture.take() if capture.written else _NO_TEXT
                    events = context.events
                    context.events = []  # the failed outcome keeps the events list
                    error, tb_text = exception_texts(exc, name)
                    report()
                    _failed(ex, node_id, attempt, error, tb_text, started, texts, events)
                    continue
                except BaseException:
                    report()
                    _interrupted(ex, node_id, attempt, ready[ready.index(node_id) + 1 :])
                    raise
                outputs = node.outputs
                events = context.events
                if not record and outputs and not node.returns_tuple:
                    values[outputs[0]] = value  # the unrecorded common case, one step
                    if events:
                        context.events = []
                        ex.keep_events(events)
                elif (
                    record
                    and single[node_id]
                    and attempt == 1
                    and not events
                    and not capture.written
                ):
                    finished = clock()
                    try:
                        kind = type(value)
                        serialized = (
                            scalars.get((kind, value)) if kind in scalar_kinds else None
                        ) or serialize_one(value)
                    except Exception as exc:  # an output no serializer takes
                        report()
                        error = f"{type(exc).__name__}: {exc}"
                        _failed(ex, node_id, attempt, error, "", started, _NO_TEXT, [])
                        continue
                    values[outputs[0]] = value
                    add_id(node_id)
                    add_attempt(attempt)
                    add_started(started)
                    add_finished(finished)
                    add_output(serialized)
                else:
                    finished = clock() if record else 0.0
                    texts = capture.take() if capture.written else _NO_TEXT
                    if events:
                        context.events = []
                    try:
                        produced = outputs_of(node, value)
                        serialized_all = serialize(produced) if serialize is not None else ()
                    except Exception as exc:  # wrong arity, or an output no serializer takes
                        report()
                        error = f"{type(exc).__name__}: {exc}"
                        _failed(ex, node_id, attempt, error, "", started, texts, events)
                        continue
                    values.update(zip(outputs, produced, strict=True))
                    if recorder is not None:
                        recorder.task_done(
                            node_id,
                            attempt,
                            started,
                            finished,
                            texts,
                            outputs,
                            serialized_all,
                            events,
                        )
                    elif events:
                        ex.keep_events(events)
                finished_ids.append(node_id)
                states[node_id] = "succeeded"
                succeeded += 1
                if on_event is not None:
                    ex.done += succeeded  # progress reads it
                    succeeded = 0
                    running.pop(node_id, None)
                    ex.emit("task_finished", name, "succeeded")
                if record and monotonic() >= next_flush:
                    assert recorder is not None
                    report()
                    ex.done += succeeded
                    succeeded = 0
                    recorder.flush()
                    if not ex.cancelled and recorder.cancel_requested():
                        for other in ready[ready.index(node_id) + 1 :]:
                            states[other] = "cancelled"
                        ex.cancel()
                        return
                    next_flush = monotonic() + flush_seconds
    finally:
        ex.done += succeeded
