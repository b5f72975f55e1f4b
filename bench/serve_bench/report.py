"""The serving bench's output: versions of what ran, the table with ratios, the goals."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .load import Load, median, wrk_version

_LABELS = {"logistic": "LogisticRegression", "forest": "RandomForest (100)",
           "hist-gb": "HistGradientBoosting"}  # fmt: skip
_ENDPOINT_LABELS = {"ninja": "ours, ninja", "drf": "ours, DRF", "mlflow": "MLflow"}


def postgres(command: str) -> None:
    """Run one statement on the local server's ``postgres`` database (autocommit)."""
    import psycopg

    host = os.environ.get("MLOPS_BENCH_PGHOST", "127.0.0.1")
    port = os.environ.get("MLOPS_BENCH_PGPORT", "5432")
    with psycopg.connect(f"host={host} port={port} dbname=postgres user=postgres") as conn:
        conn.autocommit = True
        conn.execute(command)


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def _mlflow_stack(mlflow_venv: Path) -> str:
    """What ``mlflow models serve`` runs on, read from the MLflow venv's own packages."""
    script = (
        "from importlib.metadata import version as v\n"
        "print(' '.join(f'{p} {v(p)}' for p in ('mlflow', 'fastapi', 'uvicorn', 'scikit-learn')))"
    )
    python = mlflow_venv / "bin" / "python"
    if not python.exists():
        return "not installed"
    done = subprocess.run([str(python), "-c", script], capture_output=True, text=True)
    return done.stdout.strip() or done.stderr.strip()


def versions(args: argparse.Namespace, manifest: dict[str, Any]) -> str:
    """One paragraph: the machine and every version that matters."""
    ours = ", ".join(
        f"{p} {_version(p)}"
        for p in ("django", "django-ninja", "djangorestframework", "gunicorn", "scikit-learn")
    )
    stack = _mlflow_stack(args.mlflow_venv) if "mlflow" in args.endpoints else "not run"
    return (
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{wrk_version()}\n"
        f"ours: {ours}; gunicorn 2 gthread workers x 1 thread; database {args.database}\n"
        f"MLflow venv: {stack}; mlflow models serve --env-manager local --workers 2\n"
        f"load: wrk -t1 -c{args.connections}, {args.seconds:g} s per case after "
        f"{args.warmup:g} s warm-up, median of {args.rounds} rounds, OMP_NUM_THREADS=1"
    )


def table(
    results: dict[tuple[str, int, str], list[Load]],
    bare: dict[tuple[str, int], float],
    args: argparse.Namespace,
) -> str:
    """A Markdown table (readable as text) with ratios against MLflow, then the goals."""
    lines = [
        "| model | rows | server | p50 ms | p99 ms | req/s | req/s vs MLflow "
        "| p50 over bare predict ms |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    summary: dict[tuple[str, int, str], tuple[float, float, float]] = {}
    for (kind, rows, endpoint), loads in results.items():
        summary[(kind, rows, endpoint)] = (
            median([load.p50_ms for load in loads]),
            median([load.p99_ms for load in loads]),
            median([load.rps for load in loads]),
        )
    for kind in args.models:
        for rows in args.rows:
            lines.append(
                f"| {_LABELS[kind]} | {rows} | bare `model.predict` in process "
                f"| {bare[(kind, rows)]:.2f} | | | | |"
            )
            theirs = summary.get((kind, rows, "mlflow"))
            for endpoint in args.endpoints:
                p50, p99, rps = summary[(kind, rows, endpoint)]
                ratio = f"{rps / theirs[2]:.2f}x" if theirs and endpoint != "mlflow" else ""
                lines.append(
                    f"| {_LABELS[kind]} | {rows} | {_ENDPOINT_LABELS[endpoint]} | {p50:.2f} "
                    f"| {p99:.2f} | {rps:,.0f} | {ratio} | {p50 - bare[(kind, rows)]:.2f} |"
                )
    lines += ["", *_goals(summary, args)]
    return "\n".join(lines)


def _goals(
    summary: dict[tuple[str, int, str], tuple[float, float, float]], args: argparse.Namespace
) -> list[str]:
    out = []
    if "mlflow" in args.endpoints:
        for endpoint in (e for e in args.endpoints if e != "mlflow"):
            ratios = [
                summary[(k, r, endpoint)][2] / summary[(k, r, "mlflow")][2]
                for k in args.models
                for r in args.rows
            ]
            met = "met" if min(ratios) >= 2 else "NOT met"
            out.append(
                f"goal: {_ENDPOINT_LABELS[endpoint]} >= 2x MLflow's req/s in every case: {met} "
                f"(lowest {min(ratios):.2f}x, highest {max(ratios):.2f}x)"
            )
    if ("logistic", 1, "ninja") in summary:
        p50 = summary[("logistic", 1, "ninja")][0]
        met = "met" if p50 < 2 else "NOT met"
        out.append(f"goal: p50 < 2 ms, single-row LogisticRegression, ninja: {met} ({p50:.2f} ms)")
    return out
