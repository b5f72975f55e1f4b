"""A node's timeout under every executor, with the node blocked in C (``time.sleep(30)``).

Each run must end about a second after it started: the sleeping node fails
"timed out", the run goes on with the nodes that do not depend on it.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections

from django_mlops import Pipeline
from django_mlops.executors import TaskSpec, get_executor
from django_mlops.executors.watchdog import alarm_available

# Runs happen on other threads too: rows must be committed to be seen there.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("tmp_mlops_home")]

STUCK = "could not be stopped"


def nap() -> str:
    time.sleep(30)
    return "woke up"


def spin() -> str:
    end = time.monotonic() + 30
    while time.monotonic() < end:
        pass
    return "done"


def after() -> int:
    return 7


def _pipeline(name: str, retries: int = 0) -> Pipeline:
    p = Pipeline(name)
    p.node(outputs="rested", timeout=1, retries=retries)(nap)
    p.node(outputs="other")(after)
    return p


def _timed_run(p: Pipeline, executor: str) -> tuple[Any, float]:
    start = time.monotonic()
    run = p.run(executor=executor)
    return run, time.monotonic() - start


def _check_timed_out(run: Any, elapsed: float) -> str:
    assert elapsed < 4, f"the run took {elapsed:.1f} s"
    task = run.tasks["nap"]
    assert task.state == "failed" and run.status == "failed"
    assert "node 'nap' timed out: it exceeded its timeout of 1 s" in task.error
    # The run went on: the independent node ran.
    assert run.tasks["after"].state == "succeeded" and run.output("other") == 7
    return str(task.error)


@pytest.fixture
def alarm_free() -> Iterator[None]:
    """The main thread's SIGALRM is free (as in a plain script); checked after the test too."""
    assert alarm_available()
    yield
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_inline_on_the_main_thread_interrupts_the_sleep(alarm_free: None) -> None:
    run, elapsed = _timed_run(_pipeline("timeout_inline_main"), "inline")
    error = _check_timed_out(run, elapsed)
    assert STUCK not in error  # the alarm stopped it: nothing left behind


def test_inline_on_the_main_thread_retries_a_timed_out_attempt(alarm_free: None) -> None:
    start = time.monotonic()
    run = _pipeline("timeout_inline_retry", retries=1).run(executor="inline")
    assert time.monotonic() - start < 5
    assert run.tasks["nap"].attempts == 2 and run.tasks["nap"].state == "failed"


def test_inline_off_the_main_thread_gives_up_after_the_timeout() -> None:
    found: dict[str, Any] = {}

    def in_thread() -> None:
        try:
            found["result"] = _timed_run(_pipeline("timeout_inline_thread"), "inline")
        finally:
            connections.close_all()  # this thread's own connection: the test database is dropped

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and "result" in found
    error = _check_timed_out(*found["result"])
    assert STUCK in error


def test_threads_give_up_after_the_timeout() -> None:
    run, elapsed = _timed_run(_pipeline("timeout_threads"), "threads")
    assert STUCK in _check_timed_out(run, elapsed)


def test_processes_terminate_the_worker() -> None:
    run, elapsed = _timed_run(_pipeline("timeout_processes"), "processes")
    assert STUCK not in _check_timed_out(run, elapsed)


def test_a_program_using_sigalrm_keeps_it() -> None:
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        assert not alarm_available()
        run, elapsed = _timed_run(_pipeline("timeout_own_alarm"), "inline")
        assert STUCK in _check_timed_out(run, elapsed)  # stopped waiting, on a helper thread
        assert signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL  # still the program's
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert fired == []


def _spec(func: Any, timeout: float) -> TaskSpec:
    return TaskSpec(run_id=None, node="n", attempt=1, func=func, args=(), timeout=timeout)


def test_pure_python_off_the_main_thread_is_stopped_not_left_behind() -> None:
    found: dict[str, Any] = {}

    def in_thread() -> None:
        with get_executor("inline") as executor:
            executor.submit(_spec(spin, 0.5))
            found["outcomes"] = executor.wait()

    worker = threading.Thread(target=in_thread)
    start = time.monotonic()
    worker.start()
    worker.join(10)
    assert time.monotonic() - start < 3
    [outcome] = found["outcomes"]
    assert outcome.timed_out and not outcome.ok
    assert STUCK not in outcome.error


def test_cancel_stops_waiting_for_a_helper_thread() -> None:
    found: dict[str, Any] = {}
    executor = get_executor("inline")

    def in_thread() -> None:
        executor.submit(_spec(nap, 20.0))
        found["outcomes"] = executor.wait()

    worker = threading.Thread(target=in_thread)
    worker.start()
    time.sleep(0.3)
    start = time.monotonic()
    executor.cancel()
    worker.join(5)
    assert not worker.is_alive() and time.monotonic() - start < 2
    assert found["outcomes"] == []
    executor.shutdown()
