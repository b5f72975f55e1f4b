"""The serving bench's gunicorn set-up answers a real predict request (so the bench cannot rot).

The bench's own pieces, in real processes: ``serve_bench.prepare`` makes a
database with a fitted LogisticRegression, a user with ``predict`` and a token;
gunicorn starts with ``bench/serve_bench/gunicorn_conf.py`` on a free port; a
POST to each endpoint (django-ninja and DRF) must answer the in-process
predictions. On PostgreSQL runs (``MLOPS_TEST_DATABASE=postgres``) the bench's
database is a PostgreSQL one.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("gunicorn") is None,
    reason="gunicorn is not installed (pip install -e '.[dev]' brings it)",
)


def _postgres(command: str) -> None:
    import psycopg

    host = os.environ.get("MLOPS_TEST_PGHOST", "127.0.0.1")
    port = os.environ.get("MLOPS_TEST_PGPORT", "5432")
    with psycopg.connect(f"host={host} port={port} dbname=postgres user=postgres") as conn:
        conn.autocommit = True
        conn.execute(command)


@pytest.fixture
def serve_bench() -> Iterator[Any]:
    """The bench's helper package, imported from ``bench/``."""
    sys.path.insert(0, str(BENCH))
    try:
        from serve_bench import servers

        yield servers
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture
def bench_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment the bench gives its processes, on this run's database kind."""
    env = {
        **os.environ,
        "MLOPS_HOME": str(tmp_path / "home"),
        "MLOPS_BENCH_PYTHON": sys.executable,
        "MLOPS_BENCH_DATABASE": "sqlite",
        "PYTHONPATH": str(BENCH),
        "OMP_NUM_THREADS": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the bench's processes use serve_bench.settings
    name = None
    if os.environ.get("MLOPS_TEST_DATABASE") == "postgres":
        name = f"mlops_test_serve_bench_{os.getpid()}"
        _postgres(f'DROP DATABASE IF EXISTS "{name}"')
        _postgres(f'CREATE DATABASE "{name}"')
        env.update(
            MLOPS_BENCH_DATABASE="postgres",
            MLOPS_BENCH_PGNAME=name,
            MLOPS_BENCH_PGHOST=os.environ.get("MLOPS_TEST_PGHOST", "127.0.0.1"),
            MLOPS_BENCH_PGPORT=os.environ.get("MLOPS_TEST_PGPORT", "5432"),
        )
    yield env
    if name is not None:
        _postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_bench_gunicorn_serves_a_real_prediction(
    serve_bench: Any, bench_env: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "bench"
    subprocess.run(
        [sys.executable, "-m", "serve_bench.prepare", str(out), "--models", "logistic"],
        env=bench_env,
        check=True,
        timeout=180,
    )
    manifest = json.loads((out / "manifest.json").read_text())
    entry = manifest["models"]["logistic"]
    case = entry["cases"]["100"]
    body = Path(case["ours"]).read_bytes()
    server = serve_bench.start_ours(bench_env, tmp_path / "gunicorn.log")
    try:
        serve_bench.wait_until_listening(server, timeout=60)
        for mount in ("api", "drf"):  # the bench's two endpoints: django-ninja and DRF
            url = f"{server.base}/mlops/{mount}/models/{entry['registered']}/predict"
            status, answer = serve_bench.post_json(url, body, manifest["token"])
            assert status == 200, (url, answer, server.log_tail())
            assert answer["model"] == "bench-logistic"
            assert answer["version"] == entry["version"]
            assert answer["predictions"] == case["expected"]
            assert len(answer["predictions"]) == 100
            # The token is what lets it in: without one the same request is refused.
            status, _ = serve_bench.post_json(url, body)
            assert status == 401, url
    finally:
        server.stop()
    assert server.process.returncode is not None
