"""Issue 8's faults, each proven against the real thing: processes, signals, databases.

These run in this process on the suite's database (SQLite or, with
``MLOPS_TEST_DATABASE=postgres``, PostgreSQL); the faults that need processes of
their own are in ``test_record_faults_processes.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from typing import Any

import pytest
from django.core import checks
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from django_mlops import Pipeline, log_artifact, log_metric, log_param
from django_mlops.models import LoggedArtifact, Metric, Param, Run, TaskRun
from tests.fault_plugins import CountingExecutor

pytestmark = pytest.mark.usefixtures("tmp_mlops_home")

POSTGRES = os.environ.get("MLOPS_TEST_DATABASE") == "postgres"


def _mlops(**extra: Any) -> dict[str, Any]:
    from django.conf import settings

    return {**settings.MLOPS, **extra}


def _tasks(run: Run) -> dict[str, TaskRun]:
    return {t.node: t for t in TaskRun.objects.filter(run=run).order_by("id")}


def _assert_recorded_success(task: TaskRun, outputs: set[str]) -> None:
    assert task.state == "succeeded", (task.node, task.state, task.error)
    assert task.attempts == 1, task.node
    assert task.started_at is not None and task.finished_at is not None, task.node
    assert task.finished_at >= task.started_at and task.duration is not None
    assert set(task.output_ids()) == outputs, task.node


# 1. The last value of a param logged twice wins -----------------------------------------


def logs_twice() -> int:
    log_param("k", 1)
    log_param("k", 2)
    log_param("seed", 7)  # also a pipeline param: the logged value replaces it
    return 1


@pytest.mark.django_db
@pytest.mark.parametrize("executor", ["inline", "threads"])
def test_a_param_logged_twice_keeps_the_last_value(executor: str) -> None:
    p = Pipeline("faults_param_twice", params={"seed": 0})
    p.node(outputs="one")(logs_twice)
    run = p.run(executor=executor)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert dict(Param.objects.filter(run=run).values_list("key", "value")) == {"k": 2, "seed": 7}
    _assert_recorded_success(_tasks(run)["logs_twice"], {"one"})


# 2. A storage that raises ends the run failed, with what finished recorded --------------


def small() -> int:
    return 1


def big(v: int) -> bytes:
    return os.urandom(20_000)  # not inline (INLINE_ARTIFACT_MAX_BYTES below): to the storage


def after_big(b: bytes) -> int:
    return len(b)


def _pause_then_small(v: int, pause: float) -> int:
    time.sleep(pause)
    return v


def disk_pipeline() -> Pipeline:
    p = Pipeline("faults_full_disk", params={"pause": 0.0})
    p.node(outputs="a")(small)
    p.node(inputs=["a", "params:pause"], outputs="a2", name="slow_small")(_pause_then_small)
    p.node(inputs=["a2"], outputs="b")(big)
    p.node(inputs=["b"], outputs="c")(after_big)
    return p


@pytest.mark.django_db
@pytest.mark.parametrize("executor", ["inline", "threads"])
@pytest.mark.parametrize("pause", [0.0, 0.5], ids=["at-the-end", "during-the-run"])
def test_a_storage_failure_fails_the_run_and_keeps_what_finished(
    executor: str, pause: float
) -> None:
    storage = {"ARTIFACT_STORAGE": "tests.fault_plugins.FullDiskStorage"}
    with override_settings(MLOPS=_mlops(INLINE_ARTIFACT_MAX_BYTES=100, **storage)):
        run = disk_pipeline().run(executor=executor, params={"pause": pause}, no_cache=True)
    run.refresh_from_db()
    assert run.status == "failed"
    assert (
        run.error
        == "could not store the outputs of 'big': OSError: [Errno 28] No space left on device"
    )
    tasks = _tasks(run)
    _assert_recorded_success(tasks["small"], {"a"})
    _assert_recorded_success(tasks["slow_small"], {"a2"})
    assert tasks["big"].state == "failed" and "No space left on device" in tasks["big"].error
    assert tasks["big"].output_ids() == {}
    assert not {t.state for t in tasks.values()} & {"running", "pending", "ready", "retrying"}
    assert run.finished_at is not None


# 5. A cached run brings the metrics and artifacts its nodes logged ----------------------


def scores(a: int) -> dict[str, float]:
    log_metric("accuracy", 0.9)
    log_metric("loss", 0.5, step=1)
    log_metric("loss", 0.25, step=2)
    log_artifact("report", {"rows": 3})
    return {"accuracy": 0.9}


def metric_pipeline() -> Pipeline:
    p = Pipeline("faults_cached_metrics")
    p.node(outputs="a")(small)
    p.node(inputs=["a"], outputs="scores")(scores)
    return p


@pytest.mark.django_db
def test_a_cached_run_has_the_metrics_and_artifacts_of_its_reused_nodes() -> None:
    first = metric_pipeline().run(executor="inline")
    second = metric_pipeline().run(executor="inline")
    assert {t.state for t in _tasks(second).values()} == {"cached"}
    assert second.metrics == first.metrics == {"accuracy": 0.9, "loss": 0.25}
    assert Metric.objects.filter(run=first, reused=True).count() == 0
    reused = Metric.objects.filter(run=second)
    assert reused.count() == 3 and all(m.reused for m in reused)
    assert {m.task.node for m in reused} == {"scores"}
    logged = list(LoggedArtifact.objects.filter(run=second))
    original = LoggedArtifact.objects.get(run=first)
    assert [(a.name, a.artifact_id, a.reused) for a in logged] == [
        ("report", original.artifact_id, True)
    ]


# 6. Tasks longer than the flush interval under threads and processes --------------------


def long_step(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def long_after(x: float) -> float:
    time.sleep(x)
    return x * 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_tasks_longer_than_the_flush_interval_keep_attempts_timings_outputs(
    executor: str,
) -> None:
    p = Pipeline("faults_long_tasks", params={"seconds": 0.7})
    p.node(inputs=["params:seconds"], outputs="x")(long_step)
    p.node(inputs=["x"], outputs="y")(long_after)
    with override_settings(MLOPS=_mlops(RECORD_FLUSH_SECONDS=0.1)):
        run = p.run(executor=executor, no_cache=True)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    tasks = _tasks(run)
    _assert_recorded_success(tasks["long_step"], {"x"})
    _assert_recorded_success(tasks["long_after"], {"y"})
    assert tasks["long_step"].duration >= 0.7 and tasks["long_after"].duration >= 0.7


# 8. An upstream_failed task says it did not run, and why --------------------------------


def fit(c: float) -> float:
    if c < 0:
        raise ValueError("C must be positive")
    return c


def evaluate(model: float) -> float:
    return model * 2


@pytest.mark.django_db
def test_an_upstream_failed_task_says_which_node_failed() -> None:
    p = Pipeline("faults_upstream", params={"c": 1.0})
    p.node(inputs=["params:c"], outputs="model")(fit)
    p.node(inputs=["model"], outputs="score")(evaluate)
    assert p.run(executor="inline").status == "succeeded"
    # The second run changes fit's input: evaluate's plan says "input 'model' changed".
    run = p.run(executor="inline", params={"c": -1.0})
    task = _tasks(run)["evaluate"]
    assert task.state == "upstream_failed"
    assert task.reason == "upstream_failed"
    assert task.reason_detail == "not run: 'fit' failed"


# 9. An executor from MLOPS["EXECUTORS"], and an InlineExecutor subclass that is called --


MINE = {"EXECUTORS": {"mine": "tests.fault_plugins.CountingExecutor"}}


def chain_pipeline(name: str = "faults_mine") -> Pipeline:
    p = Pipeline(name)
    p.node(outputs="a")(small)
    p.node(inputs=["a"], outputs="score")(evaluate)
    return p


@pytest.mark.django_db
def test_an_executor_named_in_settings_runs_the_run() -> None:
    CountingExecutor.submitted.clear()
    with override_settings(MLOPS=_mlops(**MINE)):
        errors = [m for m in checks.run_checks() if m.id and m.id.startswith("django_mlops")]
        assert errors == []
        run = chain_pipeline().run(executor="mine")
    assert run.status == "succeeded", run.error
    assert run.executor == "mine"
    assert CountingExecutor.submitted == ["small", "evaluate"]


@pytest.mark.django_db
def test_the_default_executor_may_be_one_named_in_settings() -> None:
    CountingExecutor.submitted.clear()
    with override_settings(MLOPS=_mlops(DEFAULT_EXECUTOR="mine", **MINE)):
        errors = [m for m in checks.run_checks() if m.id and m.id.startswith("django_mlops")]
        assert errors == []
        run = chain_pipeline().run()
    assert run.status == "succeeded", run.error
    assert run.executor == "mine"
    assert CountingExecutor.submitted == ["small", "evaluate"]


# 4. A run on another host whose heartbeat is old ----------------------------------------


@pytest.mark.django_db
def test_a_run_of_another_host_with_an_old_heartbeat_is_settled_failed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = timezone.now()
    old = now - dt.timedelta(seconds=120)

    def remote_run(heartbeat: dt.datetime) -> Run:
        # Another machine: its pid means nothing here, only the heartbeat's age counts.
        run = Run.objects.create(
            pipeline="faults_remote",
            status="running",
            host="elsewhere",
            pid=os.getpid(),
            started_at=heartbeat,
            heartbeat_at=heartbeat,
        )
        TaskRun.objects.create(run=run, node="train", state="running", attempts=1)
        TaskRun.objects.create(run=run, node="score", state="pending")
        return run

    stale, fresh = remote_run(old), remote_run(now)
    with override_settings(MLOPS=_mlops(RUN_STALE_SECONDS=300)):
        call_command("mlops", "runs")
    assert set(Run.objects.values_list("status", flat=True)) == {"running"}
    with override_settings(MLOPS=_mlops(RUN_STALE_SECONDS=60)):
        capsys.readouterr()
        call_command("mlops", "runs")
        listing = capsys.readouterr().out
        call_command("mlops", "status", str(stale.pk))
        status = capsys.readouterr().out
    assert re.search(rf"^{stale.pk}\s+faults_remote\s+failed\s", listing, re.M), listing
    assert re.search(rf"^{fresh.pk}\s+faults_remote\s+running\s", listing, re.M), listing
    expected = f"its runner stopped answering at {timezone.localtime(old):%H:%M:%S}"
    assert f"error: {expected}" in status
    stale.refresh_from_db()
    assert stale.status == "failed" and stale.error == expected
    tasks = _tasks(stale)
    assert (tasks["train"].state, tasks["train"].error) == ("failed", expected)
    assert (tasks["score"].state, tasks["score"].reason_detail) == ("not_started", expected)
