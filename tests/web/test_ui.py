"""``mlops ui``: a real server process on 127.0.0.1 and its one-time login link."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _mlops(*args: str, home: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["MLOPS_HOME"] = str(home)
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen(
        [sys.executable, "-m", "django_mlops.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_ui_serves_the_site_and_its_link_logs_in_once(tmp_path: Path) -> None:
    port = _free_port()
    server = _mlops(
        "ui", "tests/web_pipelines.py", "--port", str(port), "--no-worker", home=tmp_path
    )
    try:
        assert server.stdout is not None
        link = ""
        deadline = time.monotonic() + 60
        while not link and time.monotonic() < deadline:
            line = server.stdout.readline()
            assert line or server.poll() is None, "mlops ui stopped"
            if "/login/once/" in line:
                link = line.split()[-1]
        assert link.startswith(f"http://127.0.0.1:{port}/mlops/login/once/")
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        for _ in range(100):  # the server binds right after printing
            try:
                page = opener.open(link, timeout=10)
                break
            except urllib.error.URLError as exc:
                if isinstance(exc, urllib.error.HTTPError):
                    raise
                time.sleep(0.1)
        assert page.geturl() == f"http://127.0.0.1:{port}/mlops/pipelines/"
        html = page.read().decode()
        assert "web_demo" in html and "Log out" in html
        css = opener.open(f"http://127.0.0.1:{port}/static/mlops/mlops.css", timeout=10)
        assert css.status == 200
        with pytest.raises(urllib.error.HTTPError) as spent:
            urllib.request.urlopen(link, timeout=10)
        assert spent.value.code == 404
        anonymous = urllib.request.urlopen(f"http://127.0.0.1:{port}/mlops/runs/", timeout=10)
        assert "/mlops/login/" in anonymous.geturl()
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_ui_is_refused_inside_a_project(tmp_path: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "django_mlops.cli", "ui", "--no-worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "runserver" in done.stderr
