"""Executors: success, errors, capture, events, timeouts, crashes, cancel, registry.

No Django and no database: runs with ``-p no:django`` as well as under pytest-django.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from django_mlops.executors import (
    BUILTIN_EXECUTORS,
    Executor,
    TaskOutcome,
    TaskSpec,
    executor_class,
    get_executor,
)
from django_mlops.executors.inline import InlineExecutor
from django_mlops.tracking import log_metric, log_param

ALL = ["inline", "threads", "processes"]
POOLS = ["threads", "processes"]

logger = logging.getLogger("tests.executors")


# Node functions live at module level so the processes executor can pickle them.
def add(a: int, b: int) -> int:
    return a + b


def fails(message: str) -> None:
    def inner() -> None:
        raise ValueError(message)

    inner()


def chatty(tag: str, rounds: int) -> str:
    for i in range(rounds):
        print(f"{tag} out {i}")
        print(f"{tag} err {i}", file=__import__("sys").stderr)
        logger.warning("%s log %d", tag, i)
        time.sleep(0.002)  # let the other task interleave
    return tag


def logs_events(x: float) -> float:
    log_param("alpha", x)
    log_metric("loss", x / 2, step=1)
    return x


def busy(seconds: float) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "finished"


def swallow_everything(seconds: float) -> str:
    try:
        busy(seconds)
    except Exception:  # TaskTimeout is a BaseException: this does not catch it
        return "swallowed"
    return "finished"


def exit_hard(code: int) -> None:
    os._exit(code)


def segfault() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def sigkill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def unpicklable_result() -> Any:
    return threading.Lock()


def calls_sys_exit() -> None:
    raise SystemExit(4)


def task(func: Any, *args: Any, node: str = "n", timeout: float | None = None) -> TaskSpec:
    return TaskSpec(run_id=7, node=node, attempt=1, func=func, args=args, timeout=timeout)


def run_one(executor: Executor, spec: TaskSpec, wait: float = 10.0) -> TaskOutcome:
    executor.submit(spec)
    outcomes = executor.wait(wait)
    assert len(outcomes) == 1, outcomes
    return outcomes[0]


@pytest.fixture(params=ALL)
def executor(request: pytest.FixtureRequest) -> Iterator[Executor]:
    with get_executor(request.param, max_workers=2) as ex:
        yield ex


@pytest.fixture(params=POOLS)
def pool(request: pytest.FixtureRequest) -> Iterator[Executor]:
    with get_executor(request.param, max_workers=2) as ex:
        yield ex


def test_success_returns_value_and_metadata(executor: Executor) -> None:
    before = time.time()
    spec = TaskSpec(run_id=3, node="add", attempt=2, func=add, args=(2, 3), timeout=None, node_id=5)
    outcome = run_one(executor, spec)
    assert outcome.ok and outcome.value == 5 and outcome.error == ""
    assert (outcome.node, outcome.attempt, outcome.node_id) == ("add", 2, 5)
    assert before <= outcome.started_at <= outcome.finished_at <= time.time()
    assert outcome.host and outcome.pid > 0
    assert not outcome.timed_out and not outcome.crashed
    if executor.name == "processes":
        assert outcome.pid != os.getpid()
    else:
        assert outcome.pid == os.getpid()


def test_exception_gives_error_line_and_traceback(executor: Executor) -> None:
    outcome = run_one(executor, task(fails, "bad input\nsecond line", node="fit"))
    assert not outcome.ok and outcome.value is None
    assert outcome.error == "ValueError: bad input"
    assert "Traceback" in outcome.traceback
    assert "in inner" in outcome.traceback and "second line" in outcome.traceback
    assert "run_task" not in outcome.traceback  # the executor's frame is left out


def test_sys_exit_fails_only_the_node(executor: Executor) -> None:
    outcome = run_one(executor, task(calls_sys_exit, node="quit"))
    assert not outcome.ok and "sys.exit(4)" in outcome.error and not outcome.crashed
    assert run_one(executor, task(add, 1, 1)).value == 2


def test_events_come_back_with_the_outcome(executor: Executor) -> None:
    outcome = run_one(executor, task(logs_events, 4.0))
    kinds = [(e.kind, e.key, e.value, e.step) for e in outcome.events]
    assert kinds == [("param", "alpha", 4.0, None), ("metric", "loss", 2.0, 1)]
    assert all(outcome.started_at <= e.timestamp <= outcome.finished_at for e in outcome.events)


def test_capture_keeps_concurrent_tasks_apart(executor: Executor) -> None:
    executor.submit(task(chatty, "A", 20, node="a"))
    executor.submit(task(chatty, "B", 20, node="b"))
    outcomes: list[TaskOutcome] = []
    deadline = time.monotonic() + 10
    while len(outcomes) < 2 and time.monotonic() < deadline:
        outcomes += executor.wait(5)
    by_node = {o.node: o for o in outcomes}
    for mine, other in (("A", "B"), ("B", "A")):
        got = by_node[mine.lower()]
        assert got.stdout.count(f"{mine} out") == 20 and f"{other} out" not in got.stdout
        assert got.stderr.count(f"{mine} err") == 20 and f"{other} err" not in got.stderr
        assert got.log.count(f"{mine} log") == 20 and f"{other} log" not in got.log
        assert "WARNING tests.executors" in got.log


def test_capture_can_be_turned_off(capsys: pytest.CaptureFixture[str]) -> None:
    with InlineExecutor() as ex:
        spec = TaskSpec(None, "n", 1, chatty, ("C", 1), None, capture=False)
        outcome = run_one(ex, spec)
    assert outcome.stdout == "" and outcome.ok
    assert "C out 0" in capsys.readouterr().out


def test_timeout_stops_pure_python_code(executor: Executor) -> None:
    start = time.monotonic()
    outcome = run_one(executor, task(swallow_everything, 20.0, node="fit", timeout=0.3))
    assert time.monotonic() - start < 5
    assert outcome.timed_out and not outcome.ok and outcome.value is None
    assert "node 'fit' timed out" in outcome.error and "0.3 s" in outcome.error
    # The executor is still usable, and no late exception leaks into the next task.
    assert run_one(executor, task(add, 1, 2)).value == 3


def test_threads_report_timeout_while_a_c_call_blocks() -> None:
    with get_executor("threads", max_workers=1) as ex:
        start = time.monotonic()
        outcome = run_one(ex, task(time.sleep, 3.0, node="nap", timeout=0.2))
        assert outcome.timed_out and time.monotonic() - start < 2.0
        # The stuck thread's slot went to a new thread.
        assert run_one(ex, task(add, 2, 2)).value == 4
        assert time.monotonic() - start < 2.5


def test_tasks_within_their_timeout_succeed(executor: Executor) -> None:
    for _ in range(20):
        assert run_one(executor, task(add, 1, 1, timeout=5.0)).ok


@pytest.mark.parametrize(
    ("func", "args", "expected"),
    [
        (exit_hard, (3,), "exited with code 3"),
        (segfault, (), "died with signal SIGSEGV"),
        (sigkill, (), "died with signal SIGKILL"),
    ],
)
def test_process_crash_fails_only_its_task(func: Any, args: tuple[Any, ...], expected: str) -> None:
    with get_executor("processes", max_workers=2) as ex:
        outcome = run_one(ex, task(func, *args, node="fit"))
        assert outcome.crashed and not outcome.ok
        assert expected in outcome.error and "while running node 'fit'" in outcome.error
        assert f"process {outcome.pid} " in outcome.error and outcome.pid != os.getpid()
        # The pool recovers: later tasks succeed, two at once.
        ex.submit(task(add, 1, 2, node="x"))
        ex.submit(task(add, 3, 4, node="y"))
        results: list[TaskOutcome] = []
        while len(results) < 2:
            results += ex.wait(10)
        assert sorted(o.value for o in results) == [3, 7]


def test_crash_while_another_task_runs() -> None:
    with get_executor("processes", max_workers=2) as ex:
        ex.submit(task(busy, 0.3, node="slow"))
        ex.submit(task(segfault, node="crash"))
        results: list[TaskOutcome] = []
        while len(results) < 2:
            results += ex.wait(10)
        by_node = {o.node: o for o in results}
        assert by_node["crash"].crashed and by_node["slow"].value == "finished"


def test_unpicklable_result_fails_the_node() -> None:
    with get_executor("processes", max_workers=1) as ex:
        outcome = run_one(ex, task(unpicklable_result, node="make_lock"))
        assert not outcome.ok and not outcome.crashed
        assert "node 'make_lock' returned a lock that cannot be pickled" in outcome.error
        assert run_one(ex, task(add, 1, 1)).value == 2


def test_unpicklable_function_fails_at_submit() -> None:
    with get_executor("processes", max_workers=1) as ex:
        outcome = run_one(ex, task(lambda: 1, node="anon"))
        assert not outcome.ok and "cannot send node 'anon' to a worker process" in outcome.error


def test_pool_queues_beyond_capacity(pool: Executor) -> None:
    for i in range(6):
        pool.submit(task(add, i, 0, node=f"n{i}"))
    results: list[TaskOutcome] = []
    while len(results) < 6:
        results += pool.wait(10)
    assert sorted(o.value for o in results) == list(range(6))
    assert pool.wait(0.01) == []


def test_wait_times_out_with_empty_list(pool: Executor) -> None:
    pool.submit(task(busy, 0.5))
    start = time.monotonic()
    assert pool.wait(0.05) == []
    assert time.monotonic() - start < 0.4
    assert pool.wait(5)[0].value == "finished"


def test_cancel_stops_running_tasks_and_drops_their_outcomes(pool: Executor) -> None:
    pool.submit(task(busy, 20.0, node="a"))
    pool.submit(task(busy, 20.0, node="b"))
    pool.submit(task(busy, 20.0, node="queued"))
    time.sleep(0.2)
    start = time.monotonic()
    pool.cancel()
    assert time.monotonic() - start < 3
    assert pool.wait(0.3) == []
    # Usable afterwards.
    assert run_one(pool, task(add, 5, 5)).value == 10


def test_inline_cancel_from_another_thread_stops_a_guarded_task() -> None:
    with InlineExecutor() as ex:
        ex.submit(task(busy, 20.0, timeout=60.0))
        threading.Timer(0.2, ex.cancel).start()
        start = time.monotonic()
        [outcome] = ex.wait()
        assert time.monotonic() - start < 5
        assert not outcome.ok and not outcome.timed_out and "cancelled" in outcome.error


def test_inline_runs_in_wait_in_order() -> None:
    seen: list[int] = []
    with InlineExecutor(max_workers=8) as ex:
        assert ex.capacity == 1
        ex.submit(task(seen.append, 1))
        ex.submit(task(seen.append, 2))
        assert seen == []
        assert [o.ok for o in ex.wait()] == [True, True] and seen == [1, 2]
        assert ex.wait() == []


def test_registry_names_and_errors() -> None:
    assert set(BUILTIN_EXECUTORS) >= {"inline", "threads", "processes", "celery"}
    assert get_executor("threads", 3).capacity == 3
    with pytest.raises(ImportError, match="comes with the celery extra"):
        get_executor("celery")
    with pytest.raises(ValueError, match="unknown executor 'gpu'; known executors: celery"):
        get_executor("gpu")
    custom = {"mine": "django_mlops.executors.inline.InlineExecutor", "cls": InlineExecutor}
    assert executor_class("mine", custom) is InlineExecutor
    assert executor_class("cls", custom) is InlineExecutor
    with pytest.raises(ImportError, match="cannot import 'nowhere'"):
        get_executor("bad", executors={"bad": "nowhere.Executor"})
    with pytest.raises(TypeError, match="not an Executor subclass"):
        get_executor("bad", executors={"bad": "collections.OrderedDict"})
    with pytest.raises(ValueError, match="max_workers must be at least 1"):
        get_executor("threads", 0)
