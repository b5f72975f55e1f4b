"""A process forked while the live board is locked (by the heartbeat thread) can still use it.

The processes executor forks its workers while the runner's heartbeat thread may be
reading the board under its lock. The child has no such thread to release it: without
a fresh lock after the fork, the child's first ``begin`` would wait forever.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

from django_mlops.executors import live

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX only")


def _wait_for_exit(pid: int, seconds: float) -> int | None:
    """The child's exit code, or None when it has not exited within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    return None


def test_a_child_forked_while_another_thread_holds_the_board_uses_it() -> None:
    held, release = threading.Event(), threading.Event()
    parent_attempt = live.LiveAttempt("parent_node", 1, time.time())
    live.begin(7, 0, parent_attempt)

    def read_the_board_slowly() -> None:  # what the heartbeat thread does, stretched
        with live._lock:
            held.set()
            release.wait(10)

    reader = threading.Thread(target=read_the_board_slowly)
    reader.start()
    assert held.wait(5)
    pid = os.fork()
    if pid == 0:  # the child: one thread, the board's lock as the fork left it
        code = 1
        try:
            parent_runs = live.runs_here()
            live.begin(8, 3, live.LiveAttempt("child_node", 1, time.time()))
            code = 0 if parent_runs == [] and live.runs_here() == [8] else 3
        finally:
            os._exit(code)
    try:
        code = _wait_for_exit(pid, 10)
    finally:
        release.set()
        reader.join()
        live.end(7, 0, parent_attempt)
    if code is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung on the live board's lock")
    assert code == 0, "the child saw its parent's attempts, or not its own"
