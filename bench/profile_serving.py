"""Where one predict request's time goes: the serving bench's WSGI application, in process.

The same project gunicorn serves in ``bench_serving.py`` (``serve_bench.settings``:
DEBUG off, a file SQLite database, a Bearer token with only ``predict``), called
as gunicorn calls it, with a WSGI environ and a ``start_response``, but without
the HTTP server, so what is left is Django, the adapter and the model. Prints the
p50/p90 of ``--calls`` requests and, with ``--profile``, cProfile's top functions
by their own time and by cumulative time.

    .venv/bin/python bench/profile_serving.py                    # ninja, LogisticRegression, 1 row
    .venv/bin/python bench/profile_serving.py --endpoint drf --rows 100 --profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ["OMP_NUM_THREADS"] = "1"
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

PATHS = {"ninja": "/mlops/api/models/{name}/predict", "drf": "/mlops/drf/models/{name}/predict"}


def prepared(folder: Path, kind: str) -> dict[str, Any]:
    """The serving bench's database, token, model and bodies under ``folder`` (made once)."""
    manifest = folder / "manifest.json"
    if not manifest.exists():
        env = {**os.environ, "MLOPS_HOME": str(folder), "PYTHONPATH": str(BENCH)}
        subprocess.run(
            [sys.executable, "-m", "serve_bench.prepare", str(folder), "--models", kind],
            env=env,
            check=True,
        )
    return dict(json.loads(manifest.read_text()))


def request_caller(
    manifest: dict[str, Any], kind: str, rows: int, endpoint: str
) -> Callable[[], Any]:
    """A function that sends one predict request to the WSGI application and checks it."""
    from serve_bench.wsgi import application

    model = manifest["models"][kind]
    body = Path(model["cases"][str(rows)]["ours"]).read_bytes()
    expected = model["cases"][str(rows)]["expected"]
    path = PATHS[endpoint].format(name=model["registered"])
    base = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_AUTHORIZATION": f"Bearer {manifest['token']}",
        "wsgi.url_scheme": "http",
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.errors": sys.stderr,
    }
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        statuses.append(status)

    def call() -> bytes:
        environ = {**base, "wsgi.input": io.BytesIO(body)}
        answer = b"".join(application(environ, start_response))
        status = statuses.pop()
        if not status.startswith("200"):
            raise SystemExit(f"{endpoint}: {status}: {answer[:300]!r}")
        return answer

    got = json.loads(call())["predictions"]
    if got != expected:
        raise SystemExit(f"{endpoint}: predictions {got[:5]} differ from {expected[:5]}")
    return call


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", choices=sorted(PATHS), default="ninja")
    parser.add_argument("--model", choices=["logistic", "forest", "hist-gb"], default="logistic")
    parser.add_argument("--rows", type=int, choices=[1, 100], default=1)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--folder", type=Path, help="reuse a prepared folder (default: a new one)")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="mlops-profile-serving-"))
    os.environ["MLOPS_HOME"] = str(folder)
    manifest = prepared(folder, args.model)
    call = request_caller(manifest, args.model, args.rows, args.endpoint)
    for _ in range(200):
        call()
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.calls):
            call()
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
        return
    seconds = []
    for _ in range(args.calls):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    seconds.sort()
    p50 = statistics.median(seconds) * 1e3
    p90 = seconds[int(len(seconds) * 0.9)] * 1e3
    print(f"{args.endpoint} {args.model} {args.rows} row(s): p50 {p50:.3f} ms, p90 {p90:.3f} ms")


if __name__ == "__main__":
    main()
