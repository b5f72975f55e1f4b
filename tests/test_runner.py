"""Running pipelines: executors, outputs, retries, timeouts, failure spread, concepts, cancel."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError

from django_mlops import Pipeline
from django_mlops.errors import UnknownParamError
from django_mlops.models import Run
from django_mlops.run.runner import RunEvent, run_pipeline
from tests import pipelines_for_tests as fixtures

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("tmp_mlops_home")]


@pytest.mark.parametrize("executor", ["inline", "threads", "processes"])
def test_run_on_each_executor(executor: str) -> None:
    p = fixtures.diamond()
    run = p.run(params={"a": 10}, executor=executor)
    assert isinstance(run, Run)
    assert run.status == "succeeded", run.error
    assert run.output("result") == {"total": (10 + 20 + 30) + (4 + 5 + 6)}
    assert run.output("summary") == "3 values"
    assert set(run.tasks.by_node()) == {"load", "scale", "shift", "combine", "describe"}
    assert {t.state for t in run.tasks.by_node().values()} == {"succeeded"}
    assert run.metrics["total"] == 75.0
    assert run.params == {"a": 10, "b": 3}
    assert run.executor == executor


def test_tasks_are_in_topological_order() -> None:
    p = fixtures.diamond()
    run = p.run(executor="inline")
    names = list(run.tasks.by_node())
    assert names.index("load") < names.index("scale") < names.index("combine")
    assert names.index("shift") < names.index("combine")


def test_in_memory_run_has_the_same_surface() -> None:
    p = fixtures.diamond()
    before = Run.objects.count()
    run = p.run(params={"b": 0}, executor="inline", record=False)
    assert Run.objects.count() == before
    assert run.status == "succeeded"
    assert run.output("result") == {"total": 12 + 6}
    assert run.tasks["combine"].state == "succeeded"
    assert run.metrics == {"partial": 36.0, "total": 18.0}
    assert run.params == {"a": 2, "b": 0}


def test_unknown_run_param_is_refused() -> None:
    with pytest.raises(UnknownParamError, match="pipeline 'diamond' has no param 'c'"):
        fixtures.diamond().run(params={"c": 1}, record=False)


def test_wrong_number_of_outputs_fails_the_node() -> None:
    p = Pipeline("arity")
    p.node(outputs=["a", "b"], name="pair")(fixtures.source)
    run = p.run(executor="inline")
    task = run.tasks["pair"]
    assert task.state == "failed" and run.status == "failed"
    assert "node 'pair' declares 2 outputs ['a', 'b']" in task.error
    assert "it returned int" in task.error


def test_retries_until_success(tmp_path: Path) -> None:
    p = fixtures.flaky_pipeline(str(tmp_path / "marker"), fail_times=2, retries=2)
    run = p.run(executor="threads")
    task = run.tasks["flaky"]
    assert run.status == "succeeded" and task.state == "succeeded"
    assert task.attempts == 3
    assert run.output("out") == "ok"


def test_retries_exhausted(tmp_path: Path) -> None:
    p = fixtures.flaky_pipeline(str(tmp_path / "marker"), fail_times=5, retries=1)
    run = p.run(executor="inline")
    task = run.tasks["flaky"]
    assert task.state == "failed" and task.attempts == 2
    assert "attempt 2 fails" in task.error and "RuntimeError" in task.traceback


@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_timeout_fails_the_node(executor: str) -> None:
    p = fixtures.slow_pipeline(5.0, timeout=0.3)
    start = time.monotonic()
    run = p.run(executor=executor)
    assert time.monotonic() - start < 4.0
    task = run.tasks["sleepy"]
    assert task.state == "failed" and run.status == "failed"
    assert "timed out" in task.error.lower()


def test_crash_fails_only_that_node() -> None:
    run = fixtures.crashing_pipeline().run(executor="processes")
    assert run.tasks["crash"].state == "failed"
    assert run.tasks["other"].state == "succeeded"
    assert run.status == "failed"


@pytest.mark.parametrize("executor", ["inline", "threads"])
def test_failure_spreads_and_independent_branch_finishes(executor: str) -> None:
    run = fixtures.failing().run(executor=executor)
    states = {name: t.state for name, t in run.tasks.by_node().items()}
    assert states == {
        "source": "succeeded",
        "boom": "failed",
        "after": "upstream_failed",
        "fine": "succeeded",
    }
    assert run.status == "failed"
    assert "boom on 1" in run.tasks["boom"].error
    assert "Traceback" in run.tasks["boom"].traceback
    assert run.output("f") == 2


def test_concept_step_stops_cleanly() -> None:
    p = fixtures.diamond("with_concept_run")
    p.concept("explain", inputs=["result"], outputs="report")
    p.node(inputs=["report"], outputs="deck", name="present")(fixtures.describe)
    run = p.run(executor="inline")
    assert run.status == "succeeded"
    assert run.tasks["explain"].state == "not_started"
    assert run.tasks["present"].state == "not_started"
    assert run.tasks["combine"].state == "succeeded"


def test_selection_runs_only_selected_nodes() -> None:
    p = fixtures.diamond()
    p.run(executor="inline")
    fixtures.CALLS.clear()
    run = p.run(executor="inline", only=["combine"], no_cache=True)
    assert fixtures.calls() == ["combine"]
    assert run.tasks["combine"].state == "succeeded"
    assert run.tasks["describe"].state == "excluded"
    assert run.selection["only"] == ["combine"]


def test_events_report_progress() -> None:
    events: list[RunEvent] = []
    fixtures.diamond().run(executor="inline", on_event=events.append)
    kinds = [e.kind for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert kinds.count("task_started") == 5 and kinds.count("task_finished") == 5
    finished = [e for e in events if e.kind == "task_finished"]
    assert [e.done for e in finished] == [1, 2, 3, 4, 5] and {e.total for e in events} == {5}
    assert events[-1].state == "succeeded" and events[1].running == ("load",)


def test_cancel_requested_from_another_thread(settings: Any) -> None:
    settings.MLOPS = {**getattr(settings, "MLOPS", {}), "RECORD_FLUSH_SECONDS": 0.1}
    p = fixtures.chain_of_sleeps(20, 0.1)

    def request_cancel() -> None:
        # The test database is SQLite's shared in-memory one, where a write that meets
        # the runner's open transaction fails at once ("table is locked"): retry.
        for _ in range(200):
            try:
                run = Run.objects.filter(pipeline="sleeps", status="running").first()
                if run is not None:
                    time.sleep(0.3)
                    Run.objects.filter(pk=run.pk).update(cancel_requested=True)
                    return
            except OperationalError:
                pass
            time.sleep(0.02)

    thread = threading.Thread(target=request_cancel)
    thread.start()
    start = time.monotonic()
    run = p.run(executor="threads")
    thread.join()
    assert run.status == "cancelled"
    assert time.monotonic() - start < 1.8  # 20 x 0.1 s would be 2 s
    states = [t.state for t in run.tasks.by_node().values()]
    assert states[0] == "succeeded" and states[-1] == "cancelled"
    assert set(states) <= {"succeeded", "cancelled"}


def test_keyboard_interrupt_records_cancelled_and_reraises() -> None:
    p = fixtures.chain_of_sleeps(5, 0.01, name="interrupted")

    def interrupt(event: RunEvent) -> None:
        if event.kind == "task_finished" and event.node == "n1":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        p.run(executor="inline", on_event=interrupt)
    run = Run.objects.filter(pipeline="interrupted").latest("id")
    assert run.status == "cancelled" and run.finished_at is not None
    states = {t.node: t.state for t in run.task_runs.all()}
    assert states["n0"] == "succeeded" and states["n1"] == "succeeded"
    assert states["n4"] == "cancelled"


def test_run_executes_a_queued_row() -> None:
    p = fixtures.diamond()
    queued = Run.objects.create(pipeline="diamond", status="queued", params={"a": 1})
    run = run_pipeline(p, params=queued.params, run=queued, executor="inline")
    assert run.pk == queued.pk
    queued.refresh_from_db()
    assert queued.status == "succeeded" and queued.task_runs.count() == 5


def test_ctrl_c_inside_a_node_cancels_the_run() -> None:
    p = Pipeline("ctrl_c")
    p.node(outputs="s")(fixtures.source)
    p.node(inputs=["s"], outputs="i")(fixtures.interrupt)
    p.node(inputs=["i"], outputs="a")(fixtures.after)
    with pytest.raises(KeyboardInterrupt):
        p.run(executor="inline")
    run = Run.objects.filter(pipeline="ctrl_c").latest("id")
    states = {t.node: t.state for t in run.task_runs.all()}
    assert run.status == "cancelled"
    assert states == {"source": "succeeded", "interrupt": "cancelled", "after": "cancelled"}
    assert run.output("s") == 1  # finished work is kept
