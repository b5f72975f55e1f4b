"""Real ``mlops worker`` processes on the queue: draining, SIGKILL, SIGSTOP, SIGTERM, cancel.

Each test works in a :class:`~tests.fault_processes.Workspace` (a SQLite file of its
own or, with ``MLOPS_TEST_DATABASE=postgres``, the test PostgreSQL database); runs
are enqueued and read back by ``tests.queue_processes`` in a process of the
workspace. Nodes count their executions with marker files, so "executed once" is
checked on what ran, not only on what was recorded.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.fault_processes import Started, Workspace

pytestmark = [pytest.mark.usefixtures("tmp_mlops_home"), pytest.mark.django_db(transaction=True)]

POSTGRES = os.environ.get("MLOPS_TEST_DATABASE") == "postgres"

# Short leases so a stopped worker is taken over in a test's time.
QUEUE_SETTINGS = {
    "HEARTBEAT_SECONDS": 0.2,
    "RUN_STALE_SECONDS": 2.0,
    "RECORD_FLUSH_SECONDS": 0.1,
    "WORKER_POLL_SECONDS": 0.1,
}

PIPELINE = """
import os, time
from pathlib import Path
from django_mlops import Pipeline, log_metric

p = Pipeline("queue_tests", params={"n": 0, "gate": ""})
RAN = Path(__file__).parent / "ran"

def _mark(node, n):
    RAN.mkdir(exist_ok=True)
    (RAN / f"{node}-{n}-{os.getpid()}-{time.time_ns()}").touch()

@p.node(inputs=["params:n", "params:gate"], outputs="first")
def first(n, gate):
    _mark("first", n)
    log_metric("first_n", n)
    if gate:
        time.sleep(0.3)  # past RECORD_FLUSH_SECONDS: recorded before "second" starts
    return n

@p.node(inputs=["first", "params:gate"], outputs="second")
def second(first, gate):
    _mark("second", first)
    if gate:
        gate_path = Path(__file__).parent / gate
        Path(str(gate_path) + ".started").touch()
        while not Path(str(gate_path) + ".go").exists():
            time.sleep(0.02)
    return first + 1

@p.node(inputs=["second"], outputs="third")
def third(second):
    _mark("third", second - 1)
    return second + 1
"""


@pytest.fixture
def process_db() -> str:
    """The database of the test's processes: a SQLite file of their own, or the test PostgreSQL."""
    if not POSTGRES:
        return "sqlite"
    name = str(connection.settings_dict["NAME"])
    assert name.startswith("test_"), f"not a test database: {name}"
    return name


@pytest.fixture
def workspace(tmp_path: Path, process_db: str) -> Iterator[Workspace]:
    """A workspace with the queue pipeline and short leases; its processes are killed at the end."""
    space = Workspace(tmp_path / "ws", process_db, QUEUE_SETTINGS)
    space.write("queued.py", PIPELINE)
    try:
        yield space
    finally:
        space.close()


def _enqueue(space: Workspace, items: list[dict[str, Any]]) -> list[int]:
    done = space._python(
        "-m", "tests.queue_processes", "enqueue", "queued.py:queue_tests", json.dumps(items)
    )
    assert done.returncode == 0, done.stderr
    ids: list[int] = json.loads(done.stdout)
    return ids


def _runs(space: Workspace) -> dict[int, dict[str, Any]]:
    done = space._python("-m", "tests.queue_processes", "runs")
    assert done.returncode == 0, done.stderr
    return {run["id"]: run for run in json.loads(done.stdout)}


def _executions(space: Workspace) -> dict[tuple[str, int], int]:
    """(node, n) -> how many times the node function ran for run param n."""
    counts: dict[tuple[str, int], int] = {}
    ran = space.folder / "ran"
    for marker in ran.iterdir() if ran.exists() else ():
        node, n, *_ = marker.name.split("-")
        counts[(node, int(n))] = counts.get((node, int(n)), 0) + 1
    return counts


def _worker(space: Workspace, *args: str) -> Started:
    started = space.start("worker", *args)
    started.wait_for(r"^worker \S+ started")
    return started


def _wait_until(check: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _wait_for_file(path: Path, process: Started, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.process.poll() is None, process.output()
        assert time.monotonic() < deadline, f"{path} never appeared:\n{process.output()}"
        time.sleep(0.02)


def _ended(space: Workspace, ids: list[int]) -> dict[int, dict[str, Any]] | None:
    runs = _runs(space)
    done = all(runs[i]["status"] in ("succeeded", "failed", "cancelled") for i in ids)
    return runs if done else None


def test_three_workers_drain_sixty_runs_none_executed_twice(workspace: Workspace) -> None:
    ids = _enqueue(workspace, [{"params": {"n": n}} for n in range(60)])
    workers = [_worker(workspace, "--burst", "--name", f"w{i}") for i in range(3)]
    codes = [w.finish(180) for w in workers]
    assert codes == [0, 0, 0], [w.output() for w in workers]
    runs = _runs(workspace)
    assert {runs[i]["status"] for i in ids} == {"succeeded"}, [runs[i]["error"] for i in ids]
    for i in ids:
        run = runs[i]
        assert run["claims"] == 1 and run["resumed_from"] == ""
        assert run["worker"] in {"w0", "w1", "w2"}
        assert [t["attempts"] for t in run["tasks"].values()] == [1, 1, 1]
        assert all(not t["failed_attempts"] for t in run["tasks"].values())
        assert run["metrics"] == 1
    counts = _executions(workspace)
    assert counts == {(node, n): 1 for node in ("first", "second", "third") for n in range(60)}
    claimed = [sum(f"run {i} claimed" in w.output() for w in workers) for i in ids]
    assert claimed == [1] * 60
    # The three shared the work (each took some): they really ran side by side.
    assert all(any(runs[i]["worker"] == f"w{k}" for i in ids) for k in range(3))


def _start_gated(space: Workspace, name: str, gate: str = "gate") -> tuple[Started, int]:
    (number,) = _enqueue(space, [{"params": {"n": 7, "gate": gate}}])
    worker = _worker(space, "--name", name)
    _wait_for_file(space.folder / f"{gate}.started", worker)
    # Within a heartbeat the attempt is on record as running (a worker killed
    # sooner leaves no sign of it: that attempt would count as not made).
    _wait_until(
        lambda: _runs(space)[number]["tasks"].get("second", {}).get("state") == "running",
        "the attempt on record",
    )
    return worker, number


def test_a_worker_killed_mid_node_is_taken_over_and_the_run_completes(
    workspace: Workspace,
) -> None:
    first, number = _start_gated(workspace, "wA")
    other = _worker(workspace, "--name", "wB")
    first.process.send_signal(signal.SIGKILL)
    assert first.finish() == -signal.SIGKILL
    (workspace.folder / "gate.go").touch()
    runs = _wait_until(lambda: _ended(workspace, [number]), "the run to end")
    run = runs[number]
    assert run["status"] == "succeeded", run
    assert run["worker"] == "wB" and run["resumed_from"] == "wA" and run["claims"] == 2
    tasks = run["tasks"]
    assert list(tasks) == ["first", "second", "third"]  # one row per node
    assert tasks["first"]["state"] == "succeeded" and tasks["first"]["attempts"] == 1
    assert tasks["second"]["state"] == "succeeded" and tasks["second"]["attempts"] == 2
    (earlier,) = tasks["second"]["failed_attempts"]
    assert earlier["number"] == 1
    assert earlier["error"].startswith("interrupted: worker wA stopped")
    assert tasks["third"]["attempts"] == 1
    assert run["metrics"] == 1  # the finished node's metric is not recorded twice
    counts = _executions(workspace)
    assert counts == {("first", 7): 1, ("second", 7): 2, ("third", 7): 1}
    assert f"run {number} claimed (queue_tests, claim 2, resumed from wA)" in other.output()
    shown = workspace.mlops("status", str(number))
    assert "from the queue: worker wB, claim 2, resumed from wA" in shown.stdout, shown


def test_a_paused_worker_past_its_lease_is_fenced_off(workspace: Workspace) -> None:
    paused, number = _start_gated(workspace, "wA")
    paused.process.send_signal(signal.SIGSTOP)
    try:
        other = _worker(workspace, "--name", "wB")
        other.wait_for(rf"^run {number} claimed \(queue_tests, claim 2, resumed from wA\)")
        _wait_until(lambda: _executions(workspace).get(("second", 7)) == 2, "the new attempt")
        # The new attempt is on record while it runs (the heartbeat writes it).
        _wait_until(
            lambda: _runs(workspace)[number]["tasks"]["second"]["attempts"] == 2,
            "the new attempt on record",
        )
    finally:
        paused.process.send_signal(signal.SIGCONT)
    (workspace.folder / "gate.go").touch()
    runs = _wait_until(lambda: _ended(workspace, [number]), "the run to end")
    paused.wait_for(rf"^run {number} abandoned")
    time.sleep(1.0)  # anything the old worker still wrote would be in by now
    run = _runs(workspace)[number]
    assert run["status"] == "succeeded" and run["worker"] == "wB", runs[number]
    second = run["tasks"]["second"]
    assert second["attempts"] == 2 and second["pid"] == other.pid
    assert [a["number"] for a in second["failed_attempts"]] == [1]
    assert run["metrics"] == 1
    assert paused.process.poll() is None  # it goes on working for other runs


def test_sigterm_lets_the_node_finish_hands_back_and_exits_0(workspace: Workspace) -> None:
    worker, number = _start_gated(workspace, "wA")
    worker.process.send_signal(signal.SIGTERM)
    worker.wait_for(r"^SIGTERM: handing 1 run\(s\) back")
    time.sleep(0.5)
    assert worker.process.poll() is None  # waits for the running node
    (workspace.folder / "gate.go").touch()
    assert worker.finish() == 0, worker.output()
    assert f"run {number} handed back to the queue" in worker.output()
    run = _runs(workspace)[number]
    assert run["status"] == "queued", run
    assert {n: t["state"] for n, t in run["tasks"].items()} == {
        "first": "succeeded",
        "second": "succeeded",
        "third": "pending",
    }
    resumer = _worker(workspace, "--burst", "--name", "wB")
    assert resumer.finish() == 0, resumer.output()
    run = _runs(workspace)[number]
    assert run["status"] == "succeeded" and run["resumed_from"] == "wA" and run["claims"] == 2
    assert [t["attempts"] for t in run["tasks"].values()] == [1, 1, 1]
    assert _executions(workspace) == {("first", 7): 1, ("second", 7): 1, ("third", 7): 1}


def test_a_second_sigterm_hands_back_at_once_and_exits_1(workspace: Workspace) -> None:
    worker, number = _start_gated(workspace, "wA")
    worker.process.send_signal(signal.SIGTERM)
    worker.wait_for(r"^SIGTERM: handing")
    worker.process.send_signal(signal.SIGTERM)
    assert worker.finish() == 1, worker.output()
    assert _runs(workspace)[number]["status"] == "queued"
    (workspace.folder / "gate.go").touch()
    resumer = _worker(workspace, "--burst", "--name", "wB")
    assert resumer.finish() == 0, resumer.output()
    run = _runs(workspace)[number]
    assert run["status"] == "succeeded" and run["resumed_from"] == "wA"
    assert run["tasks"]["second"]["attempts"] == 2


def test_a_cancel_before_the_claim_wins(workspace: Workspace) -> None:
    kept, cancelled = _enqueue(workspace, [{"params": {"n": 1}}, {"params": {"n": 2}}])
    done = workspace.mlops("cancel", str(cancelled))
    assert done.returncode == 0, done.stderr
    worker = _worker(workspace, "--burst")
    assert worker.finish() == 0, worker.output()
    runs = _runs(workspace)
    assert runs[kept]["status"] == "succeeded"
    assert runs[cancelled]["status"] == "cancelled"
    assert runs[cancelled]["claims"] == 0 and runs[cancelled]["started_at"] is None
    assert runs[cancelled]["tasks"] == {}
    assert ("first", 2) not in _executions(workspace)


def test_higher_priority_first_then_oldest(workspace: Workspace) -> None:
    items = [{"params": {"n": n}, "priority": p} for n, p in enumerate([0, 5, 1, 5, 0])]
    ids = _enqueue(workspace, items)
    worker = _worker(workspace, "--burst")
    assert worker.finish() == 0, worker.output()
    runs = _runs(workspace)
    order = sorted(ids, key=lambda i: runs[i]["claimed_at"])
    assert order == [ids[1], ids[3], ids[2], ids[0], ids[4]]


def test_concurrency_caps_the_runs_executed_at_once(workspace: Workspace) -> None:
    ids = _enqueue(workspace, [{"params": {"n": n, "gate": f"g{n}"}} for n in range(3)])
    worker = _worker(workspace, "--concurrency", "2", "--burst")
    started = workspace.folder

    def running() -> list[int]:
        return [n for n in range(3) if (started / f"g{n}.started").exists()]

    assert _wait_until(lambda: len(running()) == 2, "two runs at once")
    time.sleep(1.0)
    assert len(running()) == 2  # not three
    assert sum(r["status"] == "running" for r in _runs(workspace).values()) == 2
    for n in running():
        (started / f"g{n}.go").touch()
    _wait_until(lambda: len(running()) == 3, "the third run")
    for n in range(3):
        (started / f"g{n}.go").touch()
    assert worker.finish() == 0, worker.output()
    assert {r["status"] for r in _runs(workspace).values()} == {"succeeded"}
    assert len(ids) == 3


def test_each_run_executes_with_its_own_executor(workspace: Workspace) -> None:
    items = [{"params": {"n": 1}, "executor": "processes"}, {"params": {"n": 2}}]
    with_processes, default = _enqueue(workspace, items)
    worker = _worker(workspace, "--burst")
    assert worker.finish() == 0, worker.output()
    runs = _runs(workspace)
    assert runs[with_processes]["executor"] == "processes"
    assert runs[default]["executor"] == "inline"  # MLOPS["DEFAULT_EXECUTOR"]
    assert {t["pid"] for t in runs[default]["tasks"].values()} == {worker.pid}
    assert worker.pid not in {t["pid"] for t in runs[with_processes]["tasks"].values()}
    assert {runs[i]["status"] for i in (with_processes, default)} == {"succeeded"}


def test_a_run_whose_pipeline_cannot_be_loaded_fails_and_says_why(workspace: Workspace) -> None:
    (number,) = _enqueue(workspace, [{"params": {"n": 1}}])
    (workspace.folder / "queued.py").unlink()
    worker = _worker(workspace, "--burst")
    assert worker.finish() == 0, worker.output()
    run = _runs(workspace)[number]
    assert run["status"] == "failed" and "cannot be loaded" in run["error"], run
