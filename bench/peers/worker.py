"""Time one framework on one DAG in this (fresh) process; print one JSON line.

Run by bench/bench_overhead.py, under the bench venv for peers and under the
project venv for django-mlops:
``python -m peers.worker --framework dask --shape chain --nodes 10000``
(from bench/). A small DAG of the same shape runs first, untimed, so imports,
lazy initialisation and Prefect's local server are not counted as per-node cost.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata

from .dags import make_dag, nap, noop

FRAMEWORKS = (
    "ours",
    "ours-recorded",
    "ours-recorded-pg",
    "ours-cached",
    "dask",
    "kedro",
    "hamilton",
    "prefect",
)
DISTRIBUTIONS = {
    "ours": "django-mlops",
    "ours-recorded": "django-mlops",
    "ours-recorded-pg": "django-mlops",
    "ours-cached": "django-mlops",
    "dask": "dask",
    "kedro": "kedro",
    "hamilton": "sf-hamilton",
    "prefect": "prefect",
}
WARMUP_NODES = 100


def _prepare(framework: str, scratch: str) -> None:
    """Environment each framework needs to run offline with its state in ``scratch``."""
    if framework == "prefect":
        os.environ["PREFECT_HOME"] = os.path.join(scratch, "prefect")
        os.makedirs(os.environ["PREFECT_HOME"], exist_ok=True)
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
        # Prefect prints a line per task run at INFO; the others log nothing per node.
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "true")
        os.environ.pop("PREFECT_API_URL", None)
    if framework in ("ours-recorded", "ours-recorded-pg", "ours-cached"):
        os.environ["MLOPS_HOME"] = os.path.join(scratch, "mlops")
        os.environ["DJANGO_SETTINGS_MODULE"] = "django_mlops.standalone.settings"
        if framework == "ours-recorded-pg":
            # A database of this process's own on the local server, dropped at exit.
            os.environ["DJANGO_SETTINGS_MODULE"] = "peers.pg_settings"
            from .pg_settings import create_database

            create_database()
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)


def _builder(framework: str, workers: int) -> Callable[..., Callable[[], object]]:
    if framework.startswith("ours"):
        from . import ours

        record = framework != "ours"
        cached = framework == "ours-cached"
        return lambda dag, func: ours.build(dag, func, workers, record=record, cached=cached)
    module = importlib.import_module(f".{framework}_peer", __package__)
    return lambda dag, func: module.build(dag, func, workers)


def _bare_call_seconds(n: int = 1_000_000) -> float:
    start = time.perf_counter()
    for _ in range(n):
        noop()
    return (time.perf_counter() - start) / n


def measure(args: argparse.Namespace) -> dict[str, object]:
    func = nap if args.body == "nap" else noop
    build = _builder(args.framework, args.workers)
    build(make_dag(args.shape, WARMUP_NODES), func)()
    dag = make_dag(args.shape, args.nodes)
    start = time.perf_counter()
    run = build(dag, func)
    build_seconds = time.perf_counter() - start
    runs: list[float] = []
    began = time.perf_counter()
    for _ in range(args.repeats):
        start = time.perf_counter()
        run()
        runs.append(time.perf_counter() - start)
        # Repeats stop at the budget; at least one run is always complete.
        if time.perf_counter() - began > args.budget:
            break
    return {
        "framework": args.framework,
        "version": metadata.version(DISTRIBUTIONS[args.framework]),
        "shape": args.shape,
        "nodes": args.nodes,
        "workers": args.workers,
        "body": args.body,
        "build_s": build_seconds,
        "runs_s": runs,
        "median_s": statistics.median(runs),
        "bare_call_s": _bare_call_seconds(),
        "python": sys.version.split()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--framework", choices=FRAMEWORKS, required=True)
    parser.add_argument("--shape", default="chain")
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--body", choices=("noop", "nap"), default="noop")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds of repeats at most")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlops-bench-") as scratch:
        _prepare(args.framework, scratch)
        result = measure(args)
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
