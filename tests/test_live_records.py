"""Live state of running tasks, read by another process while the runner runs them.

A node prints a line and waits, prints another and waits: another process sees
it running, with the first line only, before it ends, under every executor and
for a run taken by ``mlops worker``; once it ends, its task row is as it always
was and nothing of it is left live. A runner killed mid-node never leaves its
task shown running. Real ``mlops`` processes (``tests.fault_processes``) on SQLite
or, with ``MLOPS_TEST_DATABASE=postgres``, on PostgreSQL.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fault_processes import Started, Workspace
from tests.test_record_faults_processes import PROCESSES, process_db

pytestmark = pytest.mark.usefixtures("tmp_mlops_home")

__all__ = ["process_db"]  # the fixture, used by the workspace below

LIVE = {
    "HEARTBEAT_SECONDS": 0.2,
    "RUN_STALE_SECONDS": 3.0,
    "RECORD_FLUSH_SECONDS": 0.1,
    "LIVE_SECONDS": 0.1,
}

PRINTING = """
import sys, time
from pathlib import Path
from django_mlops import Pipeline

p = Pipeline("live_printing")

def _wait_for(name):
    while not Path(name).exists():
        time.sleep(0.02)

@p.node(outputs="first")
def first():
    return 1

@p.node(inputs=["first"], outputs="second")
def second(first):
    print("line one")
    print("warned", file=sys.stderr)
    Path("printed").touch()
    _wait_for("go")
    print("line two")
    Path("printed-again").touch()
    _wait_for("go-again")
    return 2
"""


@pytest.fixture
def workspace(tmp_path: Path, process_db: str) -> Iterator[Workspace]:
    """A workspace with short liveness and live settings; its processes are killed at the end."""
    space = Workspace(tmp_path / "ws", process_db, LIVE)
    space.write("printing.py", PRINTING)
    try:
        yield space
    finally:
        space.close()


def _snapshot(space: Workspace, run_id: int, node: str = "second") -> dict[str, Any]:
    done = space._python("-m", "tests.live_processes", "snapshot", str(run_id), node)
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def _until(
    space: Workspace, run_id: int, test: Callable[[dict[str, Any]], bool], what: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        found = _snapshot(space, run_id)
        if test(found):
            return found
        assert time.monotonic() < deadline, f"never {what}: {found}"
        time.sleep(0.1)


def _wait_for_file(path: Path, started: Started) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert started.process.poll() is None, started.output()
        assert time.monotonic() < deadline, f"{path} never appeared: {started.output()}"
        time.sleep(0.02)


def _stdout(found: dict[str, Any]) -> str:
    task = found["task"] or {}
    return str((task.get("stdout") or {}).get("text", ""))


def _follow(space: Workspace, started: Started, run_id: int) -> None:
    """The node's life as another process sees it: running with line one, then line two, done."""
    folder = space.folder
    _wait_for_file(folder / "printed", started)
    seen = _until(
        space,
        run_id,
        lambda f: f["running"].get("second") == 1 and "line one" in _stdout(f),
        "running with its first line",
    )
    task = seen["task"]
    assert task["state"] == "running" and task["running"] is True
    assert task["attempts"] == 1 and task["elapsed"] >= 0
    assert _stdout(seen) == "line one\n"  # not the second line: it is not printed yet
    assert task["stderr"]["text"] == "warned\n"
    assert seen["status"] == "running" and "first" not in seen["running"]
    shown = space.mlops("logs", str(run_id), "second")  # the CLI reads the same
    assert shown.returncode == 0 and shown.stdout.startswith("line one\n"), shown
    # Read from where the last read ended: only the new text comes.
    (folder / "go").touch()
    _wait_for_file(folder / "printed-again", started)
    later = _until(space, run_id, lambda f: "line two" in _stdout(f), "showing line two")
    assert later["task"]["stdout"]["size"] == len("line one\nline two\n")
    (folder / "go-again").touch()


def _finished(space: Workspace, run_id: int) -> None:
    """After the run: the task row as it always was, nothing live left."""
    done = _until(space, run_id, lambda f: f["status"] != "running", "finished")
    assert done["status"] == "succeeded", done
    assert done["running"] == {} and done["live_rows"] == 0
    task = done["task"]
    assert task["state"] == "succeeded" and task["running"] is False
    assert task["stdout"]["text"] == "line one\nline two\n"
    assert task["stderr"]["text"] == "warned\n"
    record = space.record(run_id)
    assert record["tasks"]["second"]["state"] == "succeeded"
    assert record["tasks"]["second"]["attempts"] == 1


@PROCESSES
@pytest.mark.parametrize("executor", ["inline", "threads", "processes"])
def test_a_running_node_and_its_output_are_seen_live(workspace: Workspace, executor: str) -> None:
    started = workspace.start("run", "printing.py:live_printing", "-e", executor, "--no-cache")
    run_id = int(started.wait_for(r"^run (\d+) started").group(1))
    _follow(workspace, started, run_id)
    assert started.finish() == 0, started.output()
    _finished(workspace, run_id)


@PROCESSES
def test_a_run_taken_by_a_worker_is_seen_live(workspace: Workspace) -> None:
    queued = workspace._python(
        "-m", "tests.queue_processes", "enqueue", "printing.py:live_printing", "[{}]"
    )
    assert queued.returncode == 0, queued.stderr
    (run_id,) = json.loads(queued.stdout)
    worker = workspace.start("worker", "--burst", "--name", "live")
    _follow(workspace, worker, run_id)
    assert worker.finish() == 0, worker.output()
    _finished(workspace, run_id)


@PROCESSES
@pytest.mark.parametrize("executor", ["inline", "processes"])
def test_a_killed_runner_never_leaves_its_task_shown_running(
    workspace: Workspace, executor: str
) -> None:
    started = workspace.start("run", "printing.py:live_printing", "-e", executor, "--no-cache")
    run_id = int(started.wait_for(r"^run (\d+) started").group(1))
    _wait_for_file(workspace.folder / "printed", started)
    _until(workspace, run_id, lambda f: "second" in f["running"], "running")
    started.process.send_signal(signal.SIGKILL)
    assert started.finish() == -signal.SIGKILL
    # The runner is gone (same host: known at once): the run is settled, nothing is running.
    after = _snapshot(workspace, run_id)
    assert after["status"] == "failed", after
    assert after["running"] == {} and after["live_rows"] == 0
    assert after["task"] is None or after["task"]["running"] is False
    assert after["task"] is None or after["task"]["state"] != "running"
