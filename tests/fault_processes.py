"""Real processes for the fault tests: ``mlops`` commands, runs to kill, a SQLite lock holder.

A :class:`Workspace` is a folder with pipeline files and an ``MLOPS_HOME``; its
processes use ``tests.fault_settings``, on a SQLite file in that home or on the
test process's own PostgreSQL test database. Every process it starts is killed
and waited for by :meth:`Workspace.close`, whatever the test did.

``python -m tests.fault_processes record RUN`` prints a run's records as JSON
(what the assertions read), ``python -m tests.fault_processes lock DB SECONDS``
blocks writes to ``DB`` (a SQLite file or a PostgreSQL database) for ``SECONDS``.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["REPO", "Started", "Workspace"]

REPO = Path(__file__).resolve().parent.parent
_DEADLINE = 60.0


class Started:
    """A process started by a workspace, its output collected by a reader thread."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(process.stdout, self.lines), daemon=True),
            threading.Thread(target=self._read, args=(process.stderr, self.errors), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: Any, into: list[str]) -> None:
        for line in stream:
            into.append(line)

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def output(self) -> str:
        """Everything written so far, stdout then stderr."""
        return "".join(self.lines) + "".join(self.errors)

    def wait_for(self, pattern: str, timeout: float = _DEADLINE) -> re.Match[str]:
        """The first stdout line matching ``pattern``; fails if the process ends without one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                match = re.search(pattern, line)
                if match:
                    return match
            if self.process.poll() is not None:
                for reader in self._readers:
                    reader.join(5)
                if not any(re.search(pattern, line) for line in self.lines):
                    raise AssertionError(f"ended before {pattern!r}:\n{self.output()}")
            time.sleep(0.02)
        raise AssertionError(f"no line matching {pattern!r} in {timeout} s:\n{self.output()}")

    def finish(self, timeout: float = _DEADLINE) -> int:
        """Wait for the process to end; its exit code (negative: killed by that signal)."""
        code = self.process.wait(timeout)
        for reader in self._readers:
            reader.join(5)
        return code

    def kill(self) -> None:
        """Kill the process (if still running) and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(30)


class Workspace:
    """A folder for pipeline files, with an MLOPS_HOME and the settings its processes use.

    ``database`` is ``"sqlite"`` (a file in the home, migrated here) or the name of
    an existing, migrated PostgreSQL database. ``mlops`` is merged over ``MLOPS``.
    """

    def __init__(
        self,
        folder: Path,
        database: str = "sqlite",
        mlops: dict[str, Any] | None = None,
        busy_timeout: float | None = None,
    ) -> None:
        self.folder = folder
        self.home = folder / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.database = database
        self.started: list[Started] = []
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MLOPS_TEST_"))
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="tests.fault_settings",
            MLOPS_HOME=str(self.home),
            MLOPS_TEST_PROCESS_DB=database,
            MLOPS_TEST_MLOPS=json.dumps(mlops or {}),
            PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "src")]),
            COLUMNS="200",
        )
        self.env.pop("PYTHONFAULTHANDLER", None)  # no dumps from processes killed on purpose
        for name in ("MLOPS_TEST_PGHOST", "MLOPS_TEST_PGPORT"):
            if name in os.environ:
                self.env[name] = os.environ[name]
        if busy_timeout is not None:
            self.env["MLOPS_TEST_BUSY_TIMEOUT"] = str(busy_timeout)
        if database == "sqlite":
            self._python("-m", "django", "migrate", "--verbosity=0")

    @property
    def sqlite_file(self) -> Path:
        """The SQLite database file of a sqlite workspace."""
        return self.home / "db.sqlite3"

    def write(self, relative: str, text: str) -> Path:
        """Write a file of the workspace (folders created); return its path."""
        path = self.folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def _python(
        self, *args: str, cwd: Path | None = None, timeout: float = _DEADLINE
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, *args],
            cwd=cwd or self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if args[:2] == ("-m", "django") and done.returncode:
            raise AssertionError(f"{args}: {done.stderr}")
        return done

    def mlops(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """``mlops ARGS`` in ``cwd`` (default: the workspace), to the end; never raises."""
        return self._python("-m", "django_mlops.cli", *args, cwd=cwd)

    def start(
        self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> Started:
        """Start ``mlops ARGS`` in the background, ``env`` added (killed by :meth:`close`)."""
        return self._start(["-m", "django_mlops.cli", *args], cwd, env or {})

    def start_lock(self, seconds: float) -> Started:
        """Start a process that blocks the run's writes for ``seconds``.

        On SQLite it holds the database's write lock (``BEGIN EXCLUSIVE``); on
        PostgreSQL an EXCLUSIVE lock on the task table (reads still pass).
        """
        target = str(self.sqlite_file) if self.database == "sqlite" else self.database
        args = ["-m", "tests.fault_processes", "lock", target, str(seconds)]
        return self._start(args, None, {})

    def _start(self, args: list[str], cwd: Path | None, env: dict[str, str]) -> Started:
        process = subprocess.Popen(
            [sys.executable, *args],
            cwd=cwd or self.folder,
            env={**self.env, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started = Started(process)
        self.started.append(started)
        return started

    def record(self, run_id: int) -> dict[str, Any]:
        """The run's records as :func:`_record` prints them."""
        done = self._python("-m", "tests.fault_processes", "record", str(run_id))
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    def close(self) -> None:
        """Kill and reap every process this workspace started."""
        for started in self.started:
            started.kill()


# The subprocess side -------------------------------------------------------------------


def _record(run_id: int) -> dict[str, Any]:
    import django

    django.setup()
    from django_mlops.models import Metric, Run, TaskOutput

    run = Run.objects.get(pk=run_id)
    outputs: dict[int, dict[str, int]] = {}
    for task_id, dataset, artifact_id in TaskOutput.objects.filter(task__run=run).values_list(
        "task_id", "dataset", "artifact_id"
    ):
        outputs.setdefault(task_id, {})[dataset] = artifact_id
    tasks = {
        t.node: {
            "state": t.state,
            "attempts": t.attempts,
            "started_at": t.started_at.isoformat() if t.started_at else None,
            "finished_at": t.finished_at.isoformat() if t.finished_at else None,
            "duration": t.duration,
            "outputs": outputs.get(t.pk, {}),
            "error": t.error,
            "reason": t.reason,
            "reason_detail": t.reason_detail,
        }
        for t in run.task_runs.order_by("id")
    }
    metrics = list(Metric.objects.filter(run=run).values_list("key", "value", "reused"))
    return {
        "status": run.status,
        "error": run.error,
        "executor": run.executor,
        "heartbeat_at": run.heartbeat_at.isoformat() if run.heartbeat_at else None,
        "tasks": tasks,
        "metrics": metrics,
    }


def _hold_lock(database: str, seconds: float) -> None:
    if database.endswith(".sqlite3"):
        # isolation_level=None: this module's BEGIN is the only transaction control.
        connection = sqlite3.connect(database, timeout=30, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
    else:
        import psycopg

        host = os.environ.get("MLOPS_TEST_PGHOST", "127.0.0.1")
        port = os.environ.get("MLOPS_TEST_PGPORT", "5432")
        connection = psycopg.connect(f"host={host} port={port} dbname={database} user=postgres")
        connection.execute("LOCK TABLE django_mlops_taskrun IN EXCLUSIVE MODE")
    print("locked", flush=True)
    time.sleep(seconds)
    connection.commit()
    print("released", flush=True)


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "record":
        print(json.dumps(_record(int(rest[0]))))
    elif command == "lock":
        _hold_lock(rest[0], float(rest[1]))
    else:
        raise SystemExit(f"unknown command {command!r}")
