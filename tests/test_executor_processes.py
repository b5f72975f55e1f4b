"""The processes and threads executors with real process trees, start methods and the ORM.

Workers die with their parent (SIGKILL of the parent, Linux death signal and the
portable poll); every start method runs real pipelines, files loaded by path
included; nodes use the ORM on SQLite files and PostgreSQL without touching the
parent's connection; a crashing worker's dump is recorded, not printed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.checks import Error
from django.db import connection
from django.test import override_settings

from django_mlops import Pipeline
from django_mlops.checks import check_settings
from django_mlops.conf import mlops_settings
from django_mlops.executors import TaskSpec
from django_mlops.executors.processes import ProcessExecutor, available_start_methods
from django_mlops.executors.threads import ThreadExecutor
from django_mlops.models import Run
from tests.test_executors import add, logs_events, segfault

METHODS = available_start_methods()
REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


# --- nodes that use the ORM (module level: spawned workers import them) ---------

orm = Pipeline("executor-orm", description="Nodes that query and write through the ORM")
_SEEN: list[tuple[threading.Thread, Any]] = []  # (pool thread, its connection wrapper)


def _make_user(tag: str) -> str:
    from django.db import connections

    this_threads = connections["default"]  # the wrapper itself (django.db.connection is a proxy)

    name = f"orm-{tag}-{os.getpid()}-{threading.get_ident()}"
    for _ in range(30):  # many round trips, while sibling nodes make theirs
        User.objects.filter(username__startswith="orm-").count()
    User.objects.create(username=name)
    _SEEN.append((threading.current_thread(), this_threads))
    return User.objects.get(username=name).username


@orm.node(outputs="counted")
def count_runs() -> int:
    return Run.objects.count()


@orm.node(outputs="user_a")
def make_user_a() -> str:
    return _make_user("a")


@orm.node(outputs="user_b")
def make_user_b() -> str:
    return _make_user("b")


def _in_memory_sqlite() -> bool:
    return connection.vendor == "sqlite" and connection.is_in_memory_db()


def _run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float = 120) -> Any:
    return subprocess.run(
        cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return {**env, **extra}


# --- workers die with their parent ------------------------------------------------

ORPHAN_SCRIPT = """
import os, sys, time
from pathlib import Path
from django_mlops import Pipeline
from django_mlops.executors.processes import ProcessExecutor

out = Path(sys.argv[1])
p = Pipeline("orphans")

def _hold():
    (out / f"{os.getpid()}.pid").write_text("")
    time.sleep(120)

@p.node(outputs="a")
def first():
    _hold()

@p.node(outputs="b")
def second():
    _hold()

if __name__ == "__main__":
    ProcessExecutor.parent_death_signal = sys.argv[3] == "signal"
    p.run(executor=ProcessExecutor(2, start_method=sys.argv[2]), record=False)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in {"Z", "X"}  # a zombie waits for a reaper that may never come


def _threads(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("\nThreads:", 1)[1].split()[0])


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process states from /proc")
@pytest.mark.parametrize(
    ("method", "death"),
    [(m, "signal") for m in METHODS] + [("fork", "poll"), ("spawn", "poll")],
)
def test_workers_exit_when_their_parent_is_killed(tmp_path: Path, method: str, death: str) -> None:
    script = tmp_path / "orphans.py"
    script.write_text(ORPHAN_SCRIPT)
    parent = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), method, death], env=_env(), cwd=tmp_path
    )
    try:
        deadline = time.monotonic() + 60
        while len(pids := [int(p.stem) for p in tmp_path.glob("*.pid")]) < 2:
            assert parent.poll() is None, "the pipeline's process ended early"
            assert time.monotonic() < deadline, "the nodes never started"
            time.sleep(0.05)
        assert all(_alive(pid) for pid in pids)
        # The main thread and the live-output sender (MLOPS["LIVE_SECONDS"]); with the
        # death signal armed no watching thread is needed, polling takes one more.
        assert {_threads(pid) for pid in pids} == {2 if death == "signal" else 3}
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in pids if _alive(pid)], "workers outlived their parent"
    finally:
        parent.kill()
        for pid_file in tmp_path.glob("*.pid"):  # leave no process behind a failed test
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.stem), signal.SIGKILL)


# --- start methods ------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_every_start_method_runs_tasks_and_reports_crashes(method: str) -> None:
    with ProcessExecutor(2, start_method=method) as ex:
        assert ex.start_method == method
        ex.submit(TaskSpec(1, "add", 1, add, (2, 3), None))
        ex.submit(TaskSpec(1, "logs", 1, logs_events, (0.5,), None))
        outcomes = {o.node: o for o in ex.wait(60) + ex.wait(60)}
        assert outcomes["add"].value == 5 and outcomes["add"].pid != os.getpid()
        assert [(e.kind, e.key) for e in outcomes["logs"].events] == [
            ("param", "alpha"),
            ("metric", "loss"),
        ]
        ex.submit(TaskSpec(1, "fit", 1, segfault, (), None))
        [crash] = ex.wait(60)
        assert crash.crashed and "died with signal SIGSEGV while running node 'fit'" in crash.error
        # The worker's faulthandler dump is the recorded traceback, cut before the module list.
        assert "in segfault" in crash.traceback and "Extension modules" not in crash.traceback


def test_an_unavailable_start_method_is_refused_in_one_line() -> None:
    with pytest.raises(ValueError, match=r"^process start method 'threads' is not available"):
        ProcessExecutor(1, start_method="threads")


def test_start_method_setting_default_and_check() -> None:
    assert ("fork" if sys.platform == "linux" else "spawn") == mlops_settings().PROCESS_START_METHOD
    with override_settings(MLOPS={**settings.MLOPS, "PROCESS_START_METHOD": "spawn"}):
        assert mlops_settings().PROCESS_START_METHOD == "spawn"
        assert ProcessExecutor(1).start_method == "spawn"
        assert not [m for m in check_settings() if m.id == "django_mlops.E010"]
    with override_settings(MLOPS={**settings.MLOPS, "PROCESS_START_METHOD": "vfork"}):
        [error] = [m for m in check_settings() if m.id == "django_mlops.E010"]
        assert isinstance(error, Error) and "'vfork'" in error.msg


CRASH_SCRIPT = """
import faulthandler, sys
from django_mlops.executors import TaskSpec
from django_mlops.executors.processes import ProcessExecutor
from tests.test_executors import segfault

if __name__ == "__main__":
    faulthandler.enable()  # as pytest does: inherited by forked workers
    with ProcessExecutor(1, start_method="fork") as ex:
        ex.submit(TaskSpec(None, "fit", 1, segfault, (), None))
        [outcome] = ex.wait(60)
    print(outcome.error)
"""


def test_a_crashing_worker_prints_no_dump(tmp_path: Path) -> None:
    script = tmp_path / "crash.py"
    script.write_text(CRASH_SCRIPT)
    done = _run([sys.executable, str(script)], _env(), tmp_path)
    assert "died with signal SIGSEGV while running node 'fit'" in done.stdout, done.stderr
    assert "Fatal Python error" not in done.stderr and "Current thread" not in done.stderr


# --- the ORM in nodes, in this process's test database (PostgreSQL) --------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("tmp_mlops_home")
@pytest.mark.parametrize(
    ("executor", "method"), [("threads", None)] + [("processes", m) for m in METHODS]
)
def test_nodes_use_the_orm_and_the_parents_connection_survives(
    executor: str, method: str | None
) -> None:
    if _in_memory_sqlite():
        # Other processes cannot see it, and its shared cache locks whole tables
        # between threads: SQLite is covered on a file by *_on_a_sqlite_file.
        pytest.skip("the in-memory SQLite test database (see *_on_a_sqlite_file)")
    Run.objects.count()  # the parent's connection is open when workers start
    mlops = {**settings.MLOPS, "PROCESS_START_METHOD": method or "fork"}
    with override_settings(MLOPS=mlops):
        run = orm.run(executor=executor, max_workers=3)
    assert run.status == "succeeded", {n: t.error for n, t in run.tasks.items()}
    assert run.output("counted") >= 1  # the node saw the parent's committed Run row
    names = {run.output("user_a"), run.output("user_b")}
    # After the run, this process's connection still answers.
    assert set(User.objects.filter(username__in=names).values_list("username", flat=True)) == names
    assert Run.objects.get(pk=run.pk).status == "succeeded"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@pytest.mark.django_db(transaction=True)
def test_pool_threads_close_their_connections_when_they_stop() -> None:
    if _in_memory_sqlite():
        pytest.skip("Django never closes an in-memory SQLite connection (see *_sqlite_file)")
    _SEEN.clear()
    ex = ThreadExecutor(2)
    ex.submit(TaskSpec(None, "a", 1, make_user_a, (), None))
    ex.submit(TaskSpec(None, "b", 1, make_user_b, (), None))
    outcomes = ex.wait(30)
    while len(outcomes) < 2:
        outcomes += ex.wait(30)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes]
    ex.shutdown()
    assert _SEEN
    for thread, wrapper in _SEEN:
        thread.join(10)
        assert not thread.is_alive() and wrapper.connection is None


# --- the ORM in nodes on a SQLite file, and pipelines from files, in a fresh process ----

ORM_FILE = """
import os, threading
from django.contrib.auth.models import User
from django_mlops import Pipeline
from django_mlops.models import Run

SEEN = []
orm = Pipeline("file-orm")

def _make_user(tag):
    from django.db import connections
    name = f"orm-{tag}-{os.getpid()}-{threading.get_ident()}"
    for _ in range(30):
        User.objects.filter(username__startswith="orm-").count()
    User.objects.create(username=name)
    SEEN.append((threading.current_thread(), connections["default"]))
    return User.objects.get(username=name).username

@orm.node(outputs="counted")
def count_runs():
    return Run.objects.count()

@orm.node(outputs="user_a")
def make_user_a():
    return _make_user("a")

@orm.node(outputs="user_b")
def make_user_b():
    return _make_user("b")
"""

DRIVER = """
import json, sys
import django

if __name__ == "__main__":
    django.setup()
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import User
    from django_mlops.discovery import load_pipeline
    from django_mlops.models import Run

    pipeline = load_pipeline(sys.argv[1])
    run = pipeline.run(executor=sys.argv[2], max_workers=3)
    seen = sys.modules[pipeline.module].SEEN
    for thread, _ in seen:
        thread.join(10)
    print(json.dumps({
        "status": run.status, "error": run.error, "module": pipeline.module,
        "counted": run.output("counted"), "users": User.objects.count(),
        "runs": Run.objects.filter(status="succeeded").count(),
        "open_thread_connections": sum(w.connection is not None for _, w in seen),
    }))
"""


def _sqlite_project(tmp_path: Path, method: str) -> dict[str, str]:
    """A settings module over standalone mode's (a SQLite file in MLOPS_HOME) with ``method``."""
    (tmp_path / "proc_settings.py").write_text(
        "from django_mlops.standalone import settings as base\n"
        "globals().update((k, v) for k, v in vars(base).items() if k.isupper())\n"
        f"MLOPS = {{**base.MLOPS, 'PROCESS_START_METHOD': {method!r}}}\n"
    )
    # A name that is no identifier: loaded under a derived module name.
    (tmp_path / "orm-pipe.py").write_text(ORM_FILE)
    (tmp_path / "driver.py").write_text(DRIVER)
    return _env(
        DJANGO_SETTINGS_MODULE="proc_settings",
        MLOPS_HOME=str(tmp_path / "home"),
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(REPO)]),
    )


@pytest.mark.parametrize(
    ("executor", "method"), [("threads", "fork")] + [("processes", m) for m in METHODS]
)
def test_nodes_use_the_orm_on_a_sqlite_file(tmp_path: Path, executor: str, method: str) -> None:
    env = _sqlite_project(tmp_path, method)
    done = _run([sys.executable, "driver.py", "orm-pipe.py:orm", executor], env, tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "succeeded", result["error"]
    assert result["module"].startswith("_mlops_file_")
    assert result["counted"] == 1 and result["users"] == 2 and result["runs"] == 1
    assert result["open_thread_connections"] == 0


def test_mlops_run_of_a_file_under_spawn(tmp_path: Path) -> None:
    env = _sqlite_project(tmp_path, "spawn")
    migrate = "import django; django.setup(); from django.core.management import call_command; "
    migrate += "call_command('migrate', verbosity=0)"
    assert _run([sys.executable, "-c", migrate], env, tmp_path).returncode == 0
    done = _run(
        [str(BIN / "mlops"), "run", "orm-pipe.py:orm", "--executor", "processes"], env, tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    status = _run([str(BIN / "mlops"), "runs"], env, tmp_path)
    assert "file-orm" in status.stdout and "succeeded" in status.stdout, status.stdout
