"""Serving over HTTP: our predict endpoints under gunicorn against ``mlflow models serve``.

Three scikit-learn models (LogisticRegression, RandomForest with 100 trees,
HistGradientBoosting) fitted once on the same data, registered in our registry
and saved with MLflow's sklearn flavour from the same pickled estimator. Ours:
gunicorn, 2 gthread workers, the bench's production-like settings
(``bench/serve_bench/``), a real Bearer token with ``predict``; the ninja endpoint
``/mlops/api/models/{name}/predict`` and the DRF one ``/mlops/drf/models/{name}/predict``.
MLflow 3: ``mlflow models serve --env-manager local --workers 2`` per model, from
its own venv (``build/mlflow-venv``, made on first use). Load: Debian's ``wrk``
on loopback (``serve_bench/post.lua``), single-row and 100-row bodies.

Every endpoint's answer is checked first (status 200, predictions equal to the
in-process ones); then each case is warmed up, and timed for ``--seconds`` in
``--rounds`` rounds with the servers interleaved, medians reported. The bare
baseline is ``model.predict`` of the same records' DataFrame in this process.

    .venv/bin/python bench/bench_serving.py                       # SQLite file, ~6 min
    .venv/bin/python bench/bench_serving.py --database postgres   # 127.0.0.1:5432
    .venv/bin/python bench/bench_serving.py --endpoints ninja mlflow --rounds 1 --seconds 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

# One thread per serving process for every server (and the baseline): OpenMP's
# spinning threads on a 2-core machine would otherwise turn timings into noise.
os.environ["OMP_NUM_THREADS"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from serve_bench import report
from serve_bench.load import Load, bare_timings, percentile, run_wrk
from serve_bench.servers import (
    REPO,
    Server,
    post_json,
    start_mlflow,
    start_ours,
    wait_until_listening,
)

ENDPOINTS = ("ninja", "drf", "mlflow")
KINDS = ("logistic", "forest", "hist-gb")
MLFLOW_REQUIREMENT = "mlflow>=3,<4"


def ensure_mlflow_venv(venv: Path) -> Path:
    """MLflow 3 in a venv of its own, with this venv's scikit-learn, numpy, scipy and pandas."""
    from importlib.metadata import version

    mlflow = venv / "bin" / "mlflow"
    if mlflow.exists():
        return mlflow
    pins = [f"{pkg}=={version(pkg)}" for pkg in ("scikit-learn", "numpy", "scipy", "pandas")]
    print(f"Creating {venv} with {MLFLOW_REQUIREMENT} and {' '.join(pins)} (a few minutes)")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, MLFLOW_REQUIREMENT, *pins], check=True)
    return mlflow


def prepare(folder: Path, env: dict[str, str], kinds: list[str]) -> dict[str, Any]:
    """Run ``serve_bench.prepare`` (database, token, models, bodies) in a child process."""
    subprocess.run(
        [sys.executable, "-m", "serve_bench.prepare", str(folder), "--models", *kinds],
        env=env,
        check=True,
    )
    return dict(json.loads((folder / "manifest.json").read_text()))


def check_answer(endpoint: str, server: Server, url: str, body: Path, token: str | None,
                 expected: list[Any]) -> None:  # fmt: skip
    """One request: status 200 and the in-process predictions, else stop the bench."""
    status, answer = post_json(url, body.read_bytes(), token)
    got = answer.get("predictions") if isinstance(answer, dict) else None
    if status != 200 or got != expected:
        raise SystemExit(
            f"{endpoint} answered {status} at {url}: {str(answer)[:400]}\n"
            f"expected predictions {str(expected)[:200]}\n{server.log_tail()}"
        )


def baseline(manifest: dict[str, Any], seconds: float) -> dict[tuple[str, int], float]:
    """p50 (ms) of a bare in-process ``model.predict`` of each case's records."""
    import joblib
    import pandas as pd

    out = {}
    for kind, entry in manifest["models"].items():
        model = joblib.load(entry["joblib"])
        for rows, case in entry["cases"].items():
            records = json.loads(Path(case["ours"]).read_text())["inputs"]
            frame = pd.DataFrame(records, columns=manifest["columns"])
            assert model.predict(frame).tolist() == case["expected"]
            times = bare_timings(lambda m=model, f=frame: m.predict(f), seconds)
            out[(kind, int(rows))] = percentile(times, 0.5)
    return out


def main() -> None:
    """Parse the options, set everything up, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--endpoints", nargs="+", choices=ENDPOINTS, default=list(ENDPOINTS))
    parser.add_argument("--models", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--rows", nargs="+", type=int, choices=[1, 100], default=[1, 100])
    parser.add_argument("--seconds", type=float, default=5.0, help="per timed case (default 5)")
    parser.add_argument("--warmup", type=float, default=2.0, help="per case before timing")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=2, help="wrk connections (default 2)")
    parser.add_argument("--mlflow-venv", type=Path, default=REPO / "build" / "mlflow-venv")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="mlops-bench-serving-"))
    env = {
        **os.environ,
        "MLOPS_HOME": str(folder / "home"),
        "MLOPS_BENCH_DATABASE": args.database,
        "MLOPS_BENCH_PYTHON": sys.executable,
        "DJANGO_SETTINGS_MODULE": "serve_bench.settings",
        "PYTHONPATH": str(REPO / "bench"),
    }
    pg_name = None
    if args.database == "postgres":
        pg_name = f"mlops_bench_serving_{os.getpid()}"
        report.postgres(f'CREATE DATABASE "{pg_name}"')
        env["MLOPS_BENCH_PGNAME"] = pg_name
    servers: list[Server] = []
    try:
        manifest = prepare(folder, env, args.models)
        mlflow_servers: dict[str, Server] = {}
        if "mlflow" in args.endpoints:
            mlflow = ensure_mlflow_venv(args.mlflow_venv)
            python = mlflow.parent / "python"
            save = REPO / "bench" / "serve_bench" / "mlflow_save.py"
            subprocess.run([str(python), str(save), str(folder / "manifest.json")], check=True)
            manifest = json.loads((folder / "manifest.json").read_text())
            for kind in args.models:
                model_dir = manifest["models"][kind]["mlflow_model"]
                server = start_mlflow(mlflow, model_dir, env, folder / f"mlflow-{kind}.log")
                servers.append(server)
                mlflow_servers[kind] = server
        ours = start_ours(env, folder / "gunicorn.log")
        servers.append(ours)
        for server in servers:
            wait_until_listening(server)

        token = manifest["token"]
        cases = [(kind, rows, endpoint) for kind in args.models for rows in args.rows
                 for endpoint in args.endpoints]  # fmt: skip

        def target(kind: str, rows: int, endpoint: str) -> tuple[Server, str, Path, str | None]:
            case = manifest["models"][kind]["cases"][str(rows)]
            if endpoint == "mlflow":
                server = mlflow_servers[kind]
                return server, f"{server.base}/invocations", Path(case["mlflow"]), None
            name = manifest["models"][kind]["registered"]
            prefix = "api" if endpoint == "ninja" else "drf"
            url = f"{ours.base}/mlops/{prefix}/models/{name}/predict"
            return ours, url, Path(case["ours"]), token

        for kind, rows, endpoint in cases:
            server, url, body, auth = target(kind, rows, endpoint)
            expected = manifest["models"][kind]["cases"][str(rows)]["expected"]
            for _ in range(2 * 2):  # every worker process answers at least once, likely
                check_answer(endpoint, server, url, body, auth, expected)
        print(f"answers checked: {len(cases)} cases, status 200 and in-process predictions")

        bare = baseline(manifest, seconds=1.0)
        results: dict[tuple[str, int, str], list[Load]] = {case: [] for case in cases}
        for kind, rows, endpoint in cases:
            server, url, body, auth = target(kind, rows, endpoint)
            run_wrk(url, body, auth, seconds=args.warmup, connections=args.connections)
        for number in range(args.rounds):
            for case in cases:
                server, url, body, auth = target(*case)
                load = run_wrk(url, body, auth, seconds=args.seconds,
                               connections=args.connections)  # fmt: skip
                if load.failures:
                    raise SystemExit(f"{case}: {load.failures} failed requests\n"
                                     f"{server.log_tail()}")  # fmt: skip
                results[case].append(load)
            print(f"round {number + 1}/{args.rounds} done", flush=True)

        table = report.table(results, bare, args)
        print(report.versions(args, manifest))
        print(table)
        if args.markdown:
            args.markdown.write_text(report.versions(args, manifest) + "\n\n" + table + "\n")
    finally:
        for server in servers:
            server.stop()
        if pg_name is not None:
            report.postgres(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
