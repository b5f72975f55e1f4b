"""Running a pipeline: plan, start the records, drive the execution loop, finish.

``run_pipeline`` is the one entry point (``Pipeline.run``, the CLI, workers and
``reproduce`` call it). ``run_pipeline(record=False)`` runs the same loop with no
database and returns an ``InMemoryRun``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Union

from ..pipeline import Pipeline
from ..records.results import InMemoryRun, InMemoryTask, InMemoryTasks, remember_outputs
from .events import RunEvent
from .interrupts import stop_signals_as_interrupts
from .loop import Execution
from .planning import RunPlan, make_plan

if TYPE_CHECKING:
    from ..executors import Executor
    from ..models import Run
    from ..queue.lease import Lease
    from ..records.writer import RecordWriter

__all__ = ["AnyRun", "RunEvent", "run_pipeline"]

AnyRun = Union["Run", InMemoryRun]


def _setting(name: str, fallback: Any) -> Any:
    """A MLOPS setting, or ``fallback`` when Django is not configured (notebooks, record=False)."""
    from django.conf import settings

    if not settings.configured:
        return fallback
    from ..conf import mlops_settings

    return getattr(mlops_settings(), name)


def _resolve_executor(
    executor: str | Executor | None, max_workers: int | None
) -> tuple[Executor, str, bool]:
    """The executor to use, its name, and whether this run owns (and shuts down) it."""
    from ..executors import get_executor

    if executor is None or isinstance(executor, str):
        name = executor or _setting("DEFAULT_EXECUTOR", "inline")
        workers = max_workers or _setting("MAX_WORKERS", None)
        return get_executor(name, workers, _setting("EXECUTORS", None)), name, True
    return executor, getattr(executor, "name", type(executor).__name__), False


def run_pipeline(
    pipeline: Pipeline,
    *,
    params: Mapping[str, Any] | None = None,
    executor: str | Executor | None = None,
    max_workers: int | None = None,
    only: Sequence[str] = (),
    from_nodes: Sequence[str] = (),
    to_nodes: Sequence[str] = (),
    tags: Sequence[str] = (),
    no_cache: bool = False,
    record: bool = True,
    on_event: Callable[[RunEvent], None] | None = None,
    run: Run | None = None,
    reproduces: Run | None = None,
    retry_of: Run | None = None,
    lease: Lease | None = None,
) -> AnyRun:
    """Run ``pipeline`` once and return its record.

    With ``record=True`` (the default) the run, every task, output, param and
    metric are written to the database and outputs to the artifact store; a node
    whose outputs are stored under the same key is reused (``cached``) unless
    ``no_cache``. ``run`` executes an existing queued Run row instead of creating
    one. With ``record=False`` nothing is stored and an ``InMemoryRun`` is returned.
    Ctrl-C cancels the run (recorded as cancelled, finished work kept) and re-raises.

    ``lease`` is a queue worker's claim on ``run`` (``django_mlops.queue``): every
    write is fenced by it (``LeaseLost`` when another worker took the run over:
    the run is abandoned, nothing more written), a run claimed before resumes
    (finished nodes kept), and setting ``lease.hand_back`` lets the running nodes
    finish and puts the run back in the queue (its status ``queued`` again).
    """
    recorder: RecordWriter | None = None
    if record:
        from ..records.writer import RecordWriter

        recorder = RecordWriter(pipeline, lease=lease)
    try:
        plan = make_plan(
            pipeline,
            params=params,
            only=only,
            from_nodes=from_nodes,
            to_nodes=to_nodes,
            tags=tags,
            no_cache=no_cache,
            fingerprints=record,
            stored_keys=recorder.history.stored_keys if recorder else None,
            previous_tasks=recorder.history.previous_tasks if recorder else None,
        )
        executor_obj, executor_name, owned = _resolve_executor(executor, max_workers)
    except Exception as exc:
        if run is not None:  # a queued run that cannot start says why
            from django.utils import timezone

            held = type(run).objects.filter(pk=run.pk)
            if lease is not None:
                held = held.filter(claims=lease.claim, status="running")
            held.update(status="failed", error=str(exc), finished_at=timezone.now())
        raise
    if recorder is None:
        return _run_unrecorded(plan, executor_obj, owned, on_event)
    recorder.history.note_plan(plan)
    try:
        run_id = recorder.start(
            plan,
            selection={
                "only": list(only),
                "from": list(from_nodes),
                "to": list(to_nodes),
                "tags": list(tags),
            },
            executor=executor_name,
            no_cache=no_cache,
            run=run,
            reproduces=reproduces,
            retry_of=retry_of,
        )
    except BaseException:
        if owned:
            executor_obj.shutdown()
        raise
    from ..records.liveness import Heartbeat

    interval = float(_setting("HEARTBEAT_SECONDS", 5.0))
    live_seconds = float(_setting("LIVE_SECONDS", 1.0))
    with Heartbeat(run_id, interval, recorder.using, lease, live_seconds):
        execution = Execution(plan, executor_obj, recorder, on_event, run_id, lease)
        for node_id, attempts in enumerate(recorder.previous_attempts):
            execution.attempts[node_id] = attempts  # a resumed run's attempts count on
        _drive(execution, owned, recorder)
    return recorder.run


def _drive(execution: Execution, owned: bool, recorder: RecordWriter | None) -> None:
    """The loop of a run and its ending, whatever stops it; records the outcome."""
    flush_seconds = float(_setting("RECORD_FLUSH_SECONDS", 1.0))
    execution.emit("run_started", None, None)
    ending: str | None = None  # set when the loop is left by an exception
    error = ""
    try:
        with stop_signals_as_interrupts():
            execution.loop(flush_seconds)
    except KeyboardInterrupt as exc:
        ending, error = "cancelled", str(exc)
        execution.cancel()
        raise
    except BaseException as exc:
        # A bug or a failing store must not leave the run "running" forever.
        ending, error = "failed", f"{type(exc).__name__}: {exc}"
        execution.cancel()
        raise
    finally:
        if owned:
            execution.executor.shutdown()
        states = execution.final_states()
        status = ending or execution.status(states)
        error = error or execution.abort_error
        if execution.handed_back and ending is None:
            pending = execution.handed_back_states(states)
            if "pending" in pending:  # else it finished anyway: its real status
                states, status = pending, "queued"
        execution.final = (states, status)
        if recorder is not None and recorder.lease is not None and recorder.lease.lost.is_set():
            pass  # another worker holds the run now: write nothing more
        elif recorder is not None:
            recorder.finish(states, status, error)
            remember_outputs(recorder.run, execution.values)
        if ending is None:
            execution.emit("run_finished", None, recorder.run.status if recorder else status)


def _run_unrecorded(
    plan: RunPlan, executor: Executor, owned: bool, on_event: Callable[[RunEvent], None] | None
) -> InMemoryRun:
    execution = Execution(plan, executor, None, on_event, None)
    _drive(execution, owned, None)
    states, status = execution.final
    return _in_memory_result(plan, execution, states, status)


def _in_memory_result(
    plan: RunPlan, execution: Execution, states: Sequence[str], status: str
) -> InMemoryRun:
    nodes = execution.nodes
    attempts = execution.attempts
    failures = execution.failures

    def build_tasks() -> InMemoryTasks:
        tasks = InMemoryTasks()
        for node_id in plan.order:
            error, traceback = failures.get(node_id, ("", ""))
            tasks[nodes[node_id].name] = InMemoryTask(
                node=nodes[node_id].name,
                state=states[node_id],
                reason=plan.reasons[node_id],
                reason_detail=plan.details[node_id],
                code_hash=plan.code_hashes[node_id],
                key=plan.keys[node_id],
                attempts=attempts[node_id],
                error=error,
                traceback=traceback,
            )
        return tasks

    return InMemoryRun(
        plan.pipeline.name,
        plan.params,
        status,
        duration=time.monotonic() - execution.started,
        values=execution.values,
        metrics=execution.metrics,
        logged_params=execution.logged_params,
        task_builder=build_tasks,
    )
