"""The inline executor's loop: node functions called here, outcomes handled as for any executor.

With the inline executor every attempt runs in the Runner's thread anyway, so
handing it over as a ``TaskSpec`` through a queue only costs time. This loop
takes every ready node from the scheduler at once and calls each function
directly, with the tracking context (and, on recorded runs, the output capture)
set around the call. How an attempt ended goes to ``Execution.succeeded`` /
``Execution.failed``, the same handling the executor path uses, with the same
``TaskOutcome`` (recorded runs) and the same error texts (``exception_texts``).
Nodes with a timeout go through the executor, whose watchdog can stop them.
Successes are told to the scheduler a batch at a time (``succeed_and_take``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .. import capture as capturing
from ..executors import live
from ..executors.base import TaskOutcome
from ..executors.task import HOST, current_pid, exception_texts, skip_frames_of
from ..tracking import TaskContext, reset_current, set_current

if TYPE_CHECKING:
    from .loop import Execution

__all__ = ["run_inline"]

# A node's traceback starts at the user's function, not at this loop's call.
skip_frames_of(__file__)

_NO_TEXT = ("", "", "")


def _run_with_executor(ex: Execution, node_id: int) -> None:
    """A node with a timeout: through the executor, whose watchdog can stop it."""
    ex.report_successes()
    ex.submit_one(node_id)
    for outcome in ex.executor.wait():
        ex.handle(outcome)


def run_inline(ex: Execution, flush_seconds: float) -> None:
    """Run every node of ``ex`` in this thread until all are final or the run is cancelled."""
    # One context for the run, its node and attempt changed per node. Without
    # ``on_event`` no other code runs in this thread between two nodes, so it is
    # made current once for the whole loop; with it, user callbacks run between
    # nodes and must not see a task. The output capture likewise.
    context = TaskContext(ex.run_id, "", 0, [])
    per_node = ex.on_event is not None
    run_token = None if per_node else set_current(context)
    capture = capturing.Capture(tee=True)  # prints also reach the terminal, as they happen
    record = ex.recorder is not None
    if record:
        capturing.install()
    capture_token = capturing.enter(capture) if record and not per_node else None
    # The node being called, for the live view (the heartbeat thread publishes it).
    slot = live.inline_slot(ex.run_id, capture) if record and ex.run_id is not None else None
    ex.unreported = []
    try:
        _run_batches(ex, flush_seconds, context, per_node, capture, slot)
    finally:
        if slot is not None:
            live.drop_inline(slot)
        if capture_token is not None:
            capturing.leave(capture_token)
        if run_token is not None:
            reset_current(run_token)
        ex.report_successes()  # an exception left successes unreported: the runner reads states
        ex.unreported = None


def _run_batches(
    ex: Execution,
    flush_seconds: float,
    context: TaskContext,
    per_node: bool,
    capture: capturing.Capture,
    slot: live.InlineSlot | None,
) -> None:
    """Take ready nodes a batch at a time and run them here.

    One function on purpose: at 10k no-op nodes each lookup hoisted out of the
    per-node body is measurable in an unrecorded run.
    """
    funcs, inputs, values, columns = ex.funcs, ex.inputs, ex.values, ex.plan.pipeline.columns
    node_names, timed, getters = columns.names, columns.timed, columns.getters
    single_input = columns.single_input
    any_timed = bool(timed)  # a bool: no truth test of the set per node
    attempts, recorder = ex.attempts, ex.recorder
    succeed_and_take = ex.scheduler.succeed_and_take
    unreported = ex.unreported
    assert unreported is not None
    succeeded, failed = ex.succeeded, ex.failed
    record = recorder is not None
    clock, monotonic = time.time, time.monotonic
    # Recorded runs and runs with progress events set things around each call.
    watch = (
        _Watch(context, capture, per_node, record and per_node, slot)
        if record or per_node
        else None
    )
    pid = current_pid()
    next_flush = monotonic() + flush_seconds
    while not ex.cancelled:
        ready = succeed_and_take(unreported)  # copied into the engine's own vector
        unreported.clear()
        if not ready:
            break  # nothing runs between batches here: no ready node means all are final
        for node_id in ready:
            if record and monotonic() >= next_flush:
                ex.flush_records()
                if ex.cancelled:
                    _not_started(ex, ready[ready.index(node_id) :])
                    return
                next_flush = monotonic() + flush_seconds
            if any_timed and node_id in timed:
                _run_with_executor(ex, node_id)
                continue
            names = inputs[node_id]
            # One input (most nodes) goes by a plain call: ``f(*args)`` would build
            # a tuple per node and, in CPython 3.11, leave the interpreter's inlined
            # call path. Several come as one tuple from the node's itemgetter.
            one = single_input[node_id]
            args: Sequence[Any] = ()
            stored = False
            try:
                if one:
                    arg = values[names[0]]
                elif names:
                    args = getters[node_id](values)  # type: ignore[misc]  # set for 2+ inputs
            except KeyError:  # an input of a reused node: loaded below, with its errors
                one, stored = False, True
            if record or per_node:
                attempt = ex.start_attempt(node_id)
            else:
                attempt = attempts[node_id] = attempts[node_id] + 1
            if stored:
                try:
                    args = ex.arguments(node_id)
                except Exception as exc:  # a stored input that cannot be loaded
                    failed(node_id, ex.no_outcome(node_id, f"cannot load an input: {exc}"))
                    continue
            name = node_names[node_id]
            # A node that logs nothing leaves the context's events list empty: the
            # next one reuses it (no allocation per node).
            context.node, context.attempt = name, attempt
            started = clock() if record else 0.0  # unrecorded runs keep no timings
            try:
                if watch is None:  # nothing to set around the call
                    value: Any = funcs[node_id](arg) if one else funcs[node_id](*args)
                else:
                    value = watch.call(
                        funcs[node_id], (arg,) if one else args, node_id, name, attempt, started
                    )
            except (SystemExit, Exception) as exc:
                error, tb_text = exception_texts(exc, name)
                failed(
                    node_id,
                    _outcome(
                        ex,
                        node_id,
                        attempt,
                        False,
                        None,
                        error,
                        tb_text,
                        started,
                        context,
                        capture,
                        pid,
                    ),
                )
                continue
            except BaseException:
                _interrupted(ex, node_id, attempt, ready[ready.index(node_id) + 1 :])
                raise
            if record:
                outcome = _outcome(
                    ex, node_id, attempt, True, value, "", "", started, context, capture, pid
                )
                succeeded(node_id, value, outcome)
            else:
                events = context.events
                succeeded(node_id, value, None)
                if events:
                    context.events = []
                    ex.keep_events(events)


class _Watch:
    """What a recorded run, or one with progress events, sets around a node's call.

    Kept out of the loop's body so an unrecorded run pays for none of it.
    """

    __slots__ = ("capture", "capture_each", "context", "per_node", "slot")

    def __init__(
        self,
        context: TaskContext,
        capture: capturing.Capture,
        per_node: bool,
        capture_each: bool,
        slot: live.InlineSlot | None,
    ) -> None:
        self.context, self.capture, self.per_node = context, capture, per_node
        self.capture_each, self.slot = capture_each, slot

    def call(
        self,
        func: Callable[..., Any],
        args: Sequence[Any],
        node_id: int,
        name: str,
        attempt: int,
        started: float,
    ) -> Any:
        """``func(*args)`` as the current task (``per_node``), its output captured, on view."""
        token = set_current(self.context) if self.per_node else None
        capture_token = capturing.enter(self.capture) if self.capture_each else None
        slot = self.slot
        if slot is not None:  # the node being called, for the live view
            slot.current = (node_id, name, attempt, started)
        try:
            return func(*args)
        finally:
            if slot is not None:
                slot.current = None
            if capture_token is not None:
                capturing.leave(capture_token)
            if token is not None:
                reset_current(token)


def _outcome(
    ex: Execution,
    node_id: int,
    attempt: int,
    ok: bool,
    value: Any,
    error: str,
    tb_text: str,
    started: float,
    context: TaskContext,
    capture: capturing.Capture,
    pid: int,
) -> TaskOutcome:
    """The outcome of an attempt run here, as an executor would have described it."""
    texts = capture.take() if capture.written else _NO_TEXT
    events = context.events
    if events:
        context.events = []  # the outcome keeps the list
    return TaskOutcome(
        ex.nodes[node_id].name,
        attempt,
        ok,
        value,
        error,
        tb_text,
        *texts,
        started,
        time.time(),
        HOST,
        pid,
        events,
        False,
        False,
        node_id,
    )


def _interrupted(ex: Execution, node_id: int, attempt: int, rest: list[int]) -> None:
    """Ctrl-C (or another BaseException) in a node: leave it running for ``cancel`` to mark.

    Nodes taken from the scheduler with it but not started yet were never handed
    out; they end ``cancelled`` like the ready nodes ``Scheduler.cancel`` settles.
    """
    ex.running[node_id] = ex.nodes[node_id].name
    ex.states[node_id] = "running"
    ex.attempts[node_id] = attempt
    for other in rest:
        ex.states[other] = "cancelled"


def _not_started(ex: Execution, rest: Sequence[int]) -> None:
    """Nodes taken in a batch that a cancel (asked for, or a storage failure) stopped."""
    for other in rest:
        ex.states[other] = "cancelled"
