"""Pickup latency of the run queue: the API's 202 to the row turning ``running``, idle worker.

One ``mlops worker`` process waits (default settings: LISTEN/NOTIFY plus a 5 s poll
on PostgreSQL, a 0.1 s poll on SQLite). This process posts 100 runs of a one-node
pipeline one by one to the REST API (``POST <mount>/api/pipelines/{name}/runs`` with
a Bearer token, through Django's full request stack in process), starts the clock
at the 202, polls the row every millisecond until it is no longer ``queued``, waits
for the run to end so the worker is idle again, sleeps a random 50-300 ms (arrivals
not in step with the poll), and reports p50/p95/max.

    .venv/bin/python bench/bench_queue_latency.py --database sqlite
    .venv/bin/python bench/bench_queue_latency.py --database postgres  # 127.0.0.1:5432

Goal: p95 under 250 ms on PostgreSQL. The PostgreSQL run makes (and drops) a
database of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PIPELINE = """
from django_mlops import Pipeline

p = Pipeline("bench_queue")

@p.node(outputs="out")
def one():
    return 1
"""


def _postgres(command: str) -> None:
    import psycopg

    host = os.environ.get("MLOPS_TEST_PGHOST", "127.0.0.1")
    port = os.environ.get("MLOPS_TEST_PGPORT", "5432")
    with psycopg.connect(f"host={host} port={port} dbname=postgres user=postgres") as conn:
        conn.autocommit = True
        conn.execute(command)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="mlops-bench-queue-"))
    home = folder / "home"
    home.mkdir()
    database = "sqlite" if args.database == "sqlite" else f"mlops_bench_queue_{os.getpid()}"
    if database != "sqlite":
        _postgres(f'CREATE DATABASE "{database}"')
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.fault_settings",
        "MLOPS_HOME": str(home),
        "MLOPS_TEST_PROCESS_DB": database,
        "MLOPS_TEST_MLOPS": json.dumps({}),
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "src")]),
    }
    os.environ.update(env)
    sys.path[:0] = [str(REPO), str(REPO / "src")]
    (folder / "bench_queue.py").write_text(PIPELINE)
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "--verbosity=0"], env=env, check=True
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "django_mlops.cli", "worker"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        print(worker.stdout.readline().strip())
        import django

        django.setup()
        from django.contrib.auth.models import Permission, User
        from django.test import Client

        from django_mlops.discovery import load_pipeline
        from django_mlops.models import Run
        from django_mlops.tokens import issue_token

        load_pipeline(str(folder / "bench_queue.py") + ":bench_queue")  # registers it here
        user = User.objects.create_user("bench")
        user.user_permissions.add(Permission.objects.get(codename="run_pipeline"))
        _, token = issue_token(user)
        client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
        latencies = []
        pause = random.Random(7)
        for _ in range(args.runs):
            # Arrivals at random moments: not in step with the worker's poll.
            time.sleep(pause.uniform(0.05, 0.3))
            answer = client.post(
                "/mlops/api/pipelines/bench_queue/runs", {}, content_type="application/json"
            )
            enqueued = time.perf_counter()
            assert answer.status_code == 202, answer.content
            run_id = answer.json()["id"]
            rows = Run.objects.filter(pk=run_id).values_list("status", flat=True)
            while rows.first() == "queued":
                time.sleep(0.001)
            latencies.append(time.perf_counter() - enqueued)
            while rows.first() == "running":  # idle again before the next one
                time.sleep(0.005)
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(
            f"{args.database}: {len(latencies)} runs, 202 -> running: "
            f"p50 {statistics.median(latencies) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
            f"max {latencies[-1] * 1000:.1f} ms"
        )
        statuses = set(Run.objects.values_list("status", flat=True))
        print(f"final statuses: {sorted(statuses)}")
    finally:
        worker.terminate()
        worker.wait(30)
        if database != "sqlite":
            from django.db import connections

            connections.close_all()
            _postgres(f'DROP DATABASE IF EXISTS "{database}"')


if __name__ == "__main__":
    main()
