"""Issue 8's faults, each proven against the real thing: processes, signals, databases.

In-process tests run on the suite's database (SQLite or, with
``MLOPS_TEST_DATABASE=postgres``, PostgreSQL). Tests marked with the ``workspace``
fixture start real ``mlops`` processes (``tests/fault_processes.py``) on a SQLite
file of their own, or on the test PostgreSQL database, and kill them with real
signals.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core import checks
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from django_mlops import Pipeline, log_artifact, log_metric, log_param
from django_mlops.models import LoggedArtifact, Metric, Param, Run, TaskRun
from tests.fault_plugins import CountingExecutor
from tests.fault_processes import Workspace

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


# Processes ------------------------------------------------------------------------------

# Short liveness settings so a killed runner is noticed in a test's time.
LIVENESS = {"HEARTBEAT_SECONDS": 0.2, "RUN_STALE_SECONDS": 2.0, "RECORD_FLUSH_SECONDS": 0.1}


#: For tests whose processes use the test database (PostgreSQL): they must see
#: committed rows, and the test database must exist before its name is read.
PROCESSES = pytest.mark.django_db(transaction=True)


@pytest.fixture
def process_db() -> str:
    """The database of the test's processes: a SQLite file of their own, or the test PostgreSQL."""
    if not POSTGRES:
        return "sqlite"
    name = str(connection.settings_dict["NAME"])
    assert name.startswith("test_"), f"not a test database: {name}"  # never a real one
    return name


@pytest.fixture
def workspace(tmp_path: Path, process_db: str) -> Iterator[Workspace]:
    """A workspace with the short liveness settings; its processes are killed at the end."""
    space = Workspace(tmp_path / "ws", process_db, LIVENESS)
    try:
        yield space
    finally:
        space.close()


KILLABLE = """
import os, signal, time
from pathlib import Path
from django_mlops import Pipeline

p = Pipeline("faults_killable", params={"how": "sleep"})

@p.node(outputs="first")
def first():
    time.sleep(0.3)  # past RECORD_FLUSH_SECONDS: flushed before "second" starts
    return 1

@p.node(inputs=["first", "params:how"], outputs="second")
def second(first, how):
    Path("second-started").touch()
    if how == "exit":
        os._exit(1)
    time.sleep(30)
    return 2

@p.node(inputs=["second"], outputs="third")
def third(second):
    return 3
"""


def _wait_for_file(path: Path, started: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert started.process.poll() is None, started.output()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def _start_killable(workspace: Workspace, how: str, executor: str = "inline") -> tuple[Any, int]:
    workspace.write("killable.py", KILLABLE)
    started = workspace.start(
        "run", "killable.py:faults_killable", "-p", f"how={how}", "-e", executor, "--no-cache"
    )
    number = int(started.wait_for(r"^run (\d+) started").group(1))
    _wait_for_file(workspace.folder / "second-started", started) if how != "exit" else None
    return started, number


def _stopped_line(error: str) -> None:
    assert re.fullmatch(r"its runner stopped answering at \d\d:\d\d:\d\d", error), error


@PROCESSES
@pytest.mark.parametrize("how", ["sigkill", "exit"])
def test_a_killed_run_is_shown_failed_by_runs_and_status(workspace: Workspace, how: str) -> None:
    started, number = _start_killable(workspace, "exit" if how == "exit" else "sleep")
    if how == "sigkill":
        started.process.send_signal(signal.SIGKILL)
    code = started.finish()
    assert code == (-signal.SIGKILL if how == "sigkill" else 1), started.output()
    listing = workspace.mlops("runs")
    assert listing.returncode == 0, listing.stderr
    assert re.search(rf"^{number}\s+faults_killable\s+failed\s", listing.stdout, re.M), (
        listing.stdout
    )
    status = workspace.mlops("status", str(number))
    assert f"Run {number} of faults_killable: failed" in status.stdout
    found = re.search(r"error: (.*)$", status.stdout, re.M)
    assert found, status.stdout
    _stopped_line(found.group(1))
    record = workspace.record(number)
    assert record["status"] == "failed"
    assert not {t["state"] for t in record["tasks"].values()} & {"running", "pending", "ready"}
    tasks = record["tasks"]
    assert tasks["first"]["state"] == "succeeded" and tasks["first"]["outputs"].keys() == {"first"}
    # The inline loop flushes between nodes, before "second" is marked running: the
    # records last saw it ready, so it ends not started (the reason says why).
    second = tasks["second"]
    assert second["state"] in {"failed", "not_started"}
    _stopped_line(second["error"] or second["reason_detail"])
    assert tasks["third"]["state"] == "not_started"


@PROCESSES
def test_cancel_of_a_killed_run_takes_effect_at_once(workspace: Workspace) -> None:
    started, number = _start_killable(workspace, "sleep")
    started.process.send_signal(signal.SIGKILL)
    started.finish()
    cancel = workspace.mlops("cancel", str(number))
    assert cancel.returncode == 0, cancel.stderr
    assert re.fullmatch(
        rf"Run {number} cancelled \(its runner stopped answering at \d\d:\d\d:\d\d\)\.\n",
        cancel.stdout,
    ), cancel.stdout
    assert workspace.record(number)["status"] == "cancelled"


@PROCESSES
@pytest.mark.parametrize("executor", ["inline", "threads"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_cancel_the_run_and_keep_finished_work(
    workspace: Workspace, signum: int, executor: str
) -> None:
    started, number = _start_killable(workspace, "sleep", executor)
    started.process.send_signal(signum)
    code = started.finish()
    assert code == 130, started.output()
    assert "Traceback" not in started.output()
    record = workspace.record(number)
    assert record["status"] == "cancelled", record
    assert record["error"] == f"stopped by {signal.Signals(signum).name}"
    tasks = record["tasks"]
    first = tasks["first"]
    assert first["state"] == "succeeded" and first["attempts"] == 1
    assert first["outputs"].keys() == {"first"} and first["duration"] is not None
    assert tasks["second"]["state"] == "cancelled"
    assert tasks["third"]["state"] in {"cancelled", "not_started"}


@PROCESSES
def test_the_heartbeat_is_renewed_while_a_long_node_runs(workspace: Workspace) -> None:
    started, number = _start_killable(workspace, "sleep")
    before = workspace.record(number)
    time.sleep(1.5)  # well past RUN_STALE_SECONDS - the record call's own time
    listing = workspace.mlops("runs")  # would settle the run if its heartbeat were old
    after = workspace.record(number)
    assert re.search(rf"^{number}\s+faults_killable\s+running\s", listing.stdout, re.M)
    assert after["status"] == "running" and before["status"] == "running"
    beat_before = dt.datetime.fromisoformat(before["heartbeat_at"])
    beat_after = dt.datetime.fromisoformat(after["heartbeat_at"])
    assert beat_after - beat_before >= dt.timedelta(seconds=1)
    assert timezone.now() - beat_after < dt.timedelta(seconds=LIVENESS["RUN_STALE_SECONDS"])
    started.kill()


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


# 3. "database is locked": rows stay buffered and are written once the lock is gone -----

LOCKED = """
import time
from pathlib import Path
from django_mlops import Pipeline

p = Pipeline("faults_locked")

@p.node(outputs="x0")
def wait_for_lock():
    Path("ready").touch()
    while not Path("locked").exists():
        time.sleep(0.01)
    return 0
"""
LOCKED_STEP = """
@p.node(inputs=["x{i}"], outputs="x{j}", name="step{j}")
def step{j}(x):
    time.sleep(0.2)  # several flushes fail while the lock is held
    return x + 1
"""


@PROCESSES
@pytest.mark.parametrize("executor", ["inline", "threads"])
def test_rows_survive_a_locked_database(tmp_path: Path, process_db: str, executor: str) -> None:
    # A busy timeout far shorter than the lock is held: writes fail ("database is locked"
    # on SQLite, "canceling statement due to lock timeout" on PostgreSQL).
    space = Workspace(tmp_path / "ws", process_db, LIVENESS, busy_timeout=0.2)
    try:
        steps = "".join(LOCKED_STEP.format(i=i, j=i + 1) for i in range(4))
        space.write("locked.py", LOCKED + steps)
        run = space.start("run", "locked.py:faults_locked", "-e", executor, "--no-cache")
        _wait_for_file(space.folder / "ready", run)
        lock = space.start_lock(2.5)
        lock.wait_for("^locked")
        (space.folder / "locked").touch()
        assert run.finish() == 0, run.output()
        assert "released" in "".join(lock.lines)  # the run ended only after the lock was gone
        assert "records not written yet" in run.output()  # the writes did fail meanwhile
        number = int(run.wait_for(r"^run (\d+) started").group(1))
        record = space.record(number)
    finally:
        space.close()
    assert record["status"] == "succeeded", record
    for node in ["wait_for_lock", "step1", "step2", "step3", "step4"]:
        task = record["tasks"][node]
        assert task["state"] == "succeeded" and task["attempts"] == 1, (node, task)
        assert task["started_at"] and task["finished_at"] and task["duration"] is not None
        assert len(task["outputs"]) == 1, (node, task)


# 7. retry and reproduce load the pipeline from where the run came from ------------------

SAME_NAME = """
from pathlib import Path
from django_mlops import Pipeline

p = Pipeline("faults_same_name")

@p.node(outputs="out", name="{node}")
def make():
    with open(Path(__file__).parent.parent / "ran.txt", "a") as handle:
        handle.write("{node}\\n")
    return "{node}"
"""


def _nodes_of(status: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^  (only_[ab])\s", status, re.M)}


@PROCESSES
def test_retry_and_reproduce_run_the_pipeline_of_the_runs_own_file(workspace: Workspace) -> None:
    a = workspace.write("a/p.py", SAME_NAME.format(node="only_a"))
    workspace.write("b/p.py", SAME_NAME.format(node="only_b"))
    first = workspace.mlops("run", "p.py:faults_same_name", cwd=a.parent)
    assert first.returncode == 0, first.stderr
    number = int(re.search(r"^Run (\d+) of", first.stdout, re.M).group(1))  # type: ignore[union-attr]
    other = workspace.mlops("run", "p.py:faults_same_name", cwd=workspace.folder / "b")
    assert other.returncode == 0, other.stderr
    ran = workspace.folder / "ran.txt"
    assert ran.read_text().split() == ["only_a", "only_b"]

    retry = workspace.mlops("retry", str(number), cwd=workspace.folder / "b")
    assert retry.returncode == 0, retry.stderr
    retried = int(re.search(r"^Run (\d+) of", retry.stdout, re.M).group(1))  # type: ignore[union-attr]
    assert _nodes_of(workspace.mlops("status", str(retried)).stdout) == {"only_a"}
    reproduce = workspace.mlops("reproduce", str(number), cwd=workspace.folder / "b")
    assert reproduce.returncode == 0, reproduce.stdout + reproduce.stderr
    assert "all 1 identical" in reproduce.stdout
    assert ran.read_text().split() == ["only_a", "only_b", "only_a"]  # executed a/p.py again

    a.unlink()
    for command in ("retry", "reproduce"):
        gone = workspace.mlops(command, str(number), cwd=workspace.folder / "b")
        assert gone.returncode != 0
        lines = gone.stderr.strip().splitlines()
        assert len(lines) == 1, gone.stderr
        source = f"{a.resolve()}:faults_same_name"
        assert f"run {number}'s pipeline came from {source}, which cannot be loaded now" in lines[0]
    assert ran.read_text().split() == ["only_a", "only_b", "only_a"]


METRICS = """
from django_mlops import Pipeline, log_metric

p = Pipeline("faults_status_metrics")

@p.node(outputs="score")
def score():
    log_metric("accuracy", 0.875)
    return 1
"""


@PROCESSES
def test_status_of_a_cached_run_shows_its_metrics(workspace: Workspace) -> None:
    workspace.write("m.py", METRICS)
    for _ in range(2):
        done = workspace.mlops("run", "m.py:faults_status_metrics")
        assert done.returncode == 0, done.stderr
    number = int(re.search(r"^Run (\d+) of", done.stdout, re.M).group(1))  # type: ignore[union-attr]
    status = workspace.mlops("status", str(number)).stdout
    assert re.search(r"^  score\s+cached\s", status, re.M), status
    assert re.search(r"^Metrics:\n  KEY\s+VALUE\n  accuracy\s+0\.875$", status, re.M), status


@PROCESSES
def test_the_cli_runs_an_executor_named_in_settings(tmp_path: Path, process_db: str) -> None:
    space = Workspace(tmp_path / "ws", process_db, {**MINE, "DEFAULT_EXECUTOR": "mine"})
    try:
        space.write("m.py", METRICS)
        submitted = tmp_path / "submitted.txt"
        log = {"MLOPS_TEST_SUBMIT_LOG": str(submitted)}
        check = space._python("-m", "django", "check")
        assert check.returncode == 0 and "no issues" in check.stdout, check.stderr
        for args in (["-e", "mine"], []):
            run = space.start("run", "m.py:faults_status_metrics", "--no-cache", *args, env=log)
            assert run.finish() == 0, run.output()
            number = int(run.wait_for(r"^run (\d+) started").group(1))
            assert space.record(number)["executor"] == "mine"
        assert submitted.read_text().split() == ["score", "score"]
    finally:
        space.close()
