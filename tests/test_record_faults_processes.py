"""Issue 8's faults with real processes: runs killed by signals, a locked database, the CLI.

Each test works in a :class:`~tests.fault_processes.Workspace`: ``mlops`` processes on a
SQLite file of their own or, with ``MLOPS_TEST_DATABASE=postgres``, on the test
PostgreSQL database, killed with real signals and always reaped.
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
from django.db import connection
from django.utils import timezone

from tests.fault_processes import Workspace

pytestmark = pytest.mark.usefixtures("tmp_mlops_home")

POSTGRES = os.environ.get("MLOPS_TEST_DATABASE") == "postgres"

MINE = {"EXECUTORS": {"mine": "tests.fault_plugins.CountingExecutor"}}


# 4. Runs whose process is killed ---------------------------------------------------------

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
