"""Start and stop the servers the serving bench measures: our gunicorn and ``mlflow models serve``.

Each server runs in a session of its own, so stopping it (SIGTERM to the
group, then SIGKILL after a grace period) also ends the workers it forked.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent.parent
REPO = BENCH.parent
GUNICORN_CONF = BENCH / "serve_bench" / "gunicorn_conf.py"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A running server process group and where it listens."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self, grace: float = 10.0) -> None:
        """End the server and every process it started."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the server wrote (for an error message)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _spawn(name: str, command: list[str], env: Mapping[str, str], log: Path, port: int) -> Server:
    handle = log.open("wb")
    process = subprocess.Popen(
        command, env=dict(env), stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    handle.close()
    return Server(name, port, process, log)


def start_ours(env: Mapping[str, str], log: Path, port: int | None = None) -> Server:
    """gunicorn with the bench's configuration serving ``serve_bench.wsgi`` (project venv)."""
    port = port or free_port()
    full_env = {
        **env,
        "MLOPS_BENCH_BIND": f"127.0.0.1:{port}",
        "DJANGO_SETTINGS_MODULE": "serve_bench.settings",  # whatever the caller's shell says
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH), env.get("PYTHONPATH", "")])),
    }
    command = [
        str(Path(env.get("MLOPS_BENCH_PYTHON", "python"))),
        "-m",
        "gunicorn",
        "-c",
        str(GUNICORN_CONF),
        "serve_bench.wsgi:application",
    ]
    return _spawn("ours", command, full_env, log, port)


def start_mlflow(
    mlflow_bin: Path, model_dir: str, env: Mapping[str, str], log: Path, workers: int = 2
) -> Server:
    """``mlflow models serve`` of one saved model, ``--env-manager local``, ``workers`` workers."""
    port = free_port()
    command = [
        str(mlflow_bin),
        "models",
        "serve",
        "-m",
        model_dir,
        "--env-manager",
        "local",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    # MLflow starts ``uvicorn`` by name (through a shell): it must be the MLflow venv's.
    path = os.pathsep.join([str(mlflow_bin.parent), env.get("PATH", os.defpath)])
    return _spawn(f"mlflow:{Path(model_dir).name}", command, {**env, "PATH": path}, log, port)


def post_json(
    url: str, body: bytes, token: str | None = None, timeout: float = 30.0
) -> tuple[int, Any]:
    """POST ``body`` (JSON) and return (status, decoded JSON answer)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        text = exc.read()
        try:
            return exc.code, json.loads(text)
        except ValueError:
            return exc.code, text.decode(errors="replace")


def wait_until_listening(server: Server, timeout: float = 120.0) -> None:
    """Return once the server accepts TCP connections; raise with its log if it died or hung."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{server.name} did not listen within {timeout:.0f} s:\n{server.log_tail()}")
