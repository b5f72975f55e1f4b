"""``mlops ui``: a real server process on 127.0.0.1 and its one-time login link."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

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


def _login_link(server: subprocess.Popen[str], port: int) -> str:
    assert server.stdout is not None
    link = ""
    deadline = time.monotonic() + 60
    while not link and time.monotonic() < deadline:
        line = server.stdout.readline()
        assert line or server.poll() is None, "mlops ui stopped"
        if "/login/once/" in line:
            link = line.split()[-1]
    assert link.startswith(f"http://127.0.0.1:{port}/mlops/login/once/")
    return link


def _open_when_up(opener: urllib.request.OpenerDirector, url: str) -> Any:
    for _ in range(100):  # the server binds right after printing
        try:
            return opener.open(url, timeout=10)
        except urllib.error.URLError as exc:
            if isinstance(exc, urllib.error.HTTPError):
                raise
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def _stop(server: subprocess.Popen[str]) -> None:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def test_ui_runs_what_the_run_button_queues_on_its_embedded_worker(tmp_path: Path) -> None:
    port = _free_port()
    server = _mlops("ui", "tests/web_pipelines.py", "--port", str(port), home=tmp_path)
    try:
        link = _login_link(server, port)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        _open_when_up(opener, link)
        page_url = f"http://127.0.0.1:{port}/mlops/pipelines/web_demo/"
        html = opener.open(page_url, timeout=10).read().decode()
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        assert found, "the pipeline page has no Run form"
        body = urlencode({"csrfmiddlewaretoken": found.group(1), "C": "0.5"}).encode()
        queued = opener.open(urllib.request.Request(page_url, data=body), timeout=10)
        run_url = queued.geturl()
        assert re.fullmatch(rf"http://127\.0\.0\.1:{port}/mlops/runs/\d+/", run_url), run_url
        status = ""
        deadline = time.monotonic() + 90
        while status != "succeeded" and time.monotonic() < deadline:
            live = json.loads(opener.open(run_url + "live/", timeout=10).read())
            status = live["status"]
            assert status in ("queued", "running", "succeeded"), live
            time.sleep(0.3)
        assert status == "succeeded", "the embedded worker did not run the queued run"
    finally:
        _stop(server)


def test_ui_serves_the_site_and_its_link_logs_in_once(tmp_path: Path) -> None:
    port = _free_port()
    server = _mlops(
        "ui", "tests/web_pipelines.py", "--port", str(port), "--no-worker", home=tmp_path
    )
    try:
        link = _login_link(server, port)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        page = _open_when_up(opener, link)
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
        _stop(server)


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
