"""The REST API with a long history: 100,000 runs and 1,000,000 task rows in PostgreSQL.

Run: .venv/bin/python bench/bench_api_history.py [--runs 100000] [--tasks 1000000]
     [--requests 200] [--database NAME --keep]

A fresh PostgreSQL database (the local server, as the test suite uses) is
migrated and filled with COPY: ``--runs`` runs of 20 pipelines (every status,
params, a realistic ``packages`` map of 150 entries, 3 metrics each), and
``--tasks`` task rows, 9 per run except for 10 heavy runs that hold the rest
(about 10,000 tasks each). The runs left ``running`` are settled (their
heartbeat is old) by a first, untimed request; then ``VACUUM ANALYZE``, as
autovacuum would have done on a long-lived database.

Requests go through Django's test client in this process (the whole stack:
middleware, token authentication, permissions, the view, JSON rendering), with a
Bearer token, after a warm-up; the time of each is the server's, from the call
to the finished response. Printed: p50 / p95 / max in milliseconds per kind of
request. The goal (issue 10): ``GET runs?page=N`` and ``GET runs/{id}`` under
50 ms. ``--keep`` leaves the filled database for another run with
``--database NAME``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))
sys.path.insert(0, ROOT)

PIPELINES = [f"pipeline_{i:02d}" for i in range(20)]
STATUSES = ["succeeded"] * 14 + ["failed"] * 4 + ["cancelled", "running"]
HEAVY_RUNS = 10
PACKAGES = {f"package-{i:03d}": f"{i % 7}.{i % 13}.{i}" for i in range(150)}
SERVER = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}

# The bench is its own URLconf (ROOT_URLCONF = "__main__"): django-mlops at /mlops/.
urlpatterns: list[Any] = []


def configure(database: str) -> None:
    """Django settings: standalone mode's, on PostgreSQL, with this module as URLconf."""
    os.environ.setdefault("MLOPS_HOME", tempfile.mkdtemp(prefix="mlops-bench-api-"))
    import django
    from django.conf import settings

    from django_mlops.standalone import settings as standalone

    values = {k: v for k, v in vars(standalone).items() if k.isupper()}
    values["DATABASES"] = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "HOST": SERVER["host"],
            "PORT": str(SERVER["port"]),
            "NAME": database,
            "USER": SERVER["user"],
        }
    }
    values["ROOT_URLCONF"] = "__main__"
    values["ALLOWED_HOSTS"] = ["testserver"]
    settings.configure(**values)
    django.setup()
    from django.urls import include, path

    urlpatterns.append(path("mlops/", include("django_mlops.urls")))


def _server(sql: str) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, **SERVER) as connection:
        connection.execute(sql)


def _copy(table: str, columns: list[str], rows: Any) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)


def fill(runs: int, tasks: int, user_id: int) -> None:
    """Write the history with COPY (bench data; the product writes through records/)."""
    from django.db import connection

    now = dt.datetime.now(dt.UTC)
    packages = json.dumps(PACKAGES)
    selection = json.dumps({"only": [], "from": [], "to": [], "tags": []})
    run_columns = [
        "id", "pipeline", "source", "status", "params", "selection", "executor", "no_cache",
        "created_at", "started_at", "finished_at", "heartbeat_at", "duration", "created_by_id",
        "error", "git_commit", "git_dirty", "python_version", "packages", "host", "pid",
        "cancel_requested", "priority", "tasks_total",
    ]  # fmt: skip
    light_tasks = 9
    heavy_each = (tasks - (runs - HEAVY_RUNS) * light_tasks) // HEAVY_RUNS
    heavy_ids = set(range(runs // 2, runs // 2 + HEAVY_RUNS))

    def run_rows() -> Any:
        for pk in range(1, runs + 1):
            created = now - dt.timedelta(minutes=runs - pk)
            status = STATUSES[pk % len(STATUSES)]
            running = status == "running"
            yield [
                pk, PIPELINES[pk % len(PIPELINES)], f"project.pipelines:{PIPELINES[pk % 20]}",
                status, json.dumps({"C": pk % 10 / 10, "seed": pk}), selection, "threads", False,
                created, created, None if running else created + dt.timedelta(seconds=30),
                created if running else None, None if running else 30.0, user_id,
                "boom" if status == "failed" else "", "0" * 40, False, "3.11.7", packages,
                "bench-host", None, False, 0, heavy_each if pk in heavy_ids else light_tasks,
            ]  # fmt: skip

    start = time.perf_counter()
    _copy("django_mlops_run", run_columns, run_rows())
    task_columns = [
        "run_id", "node", "state", "attempts", "started_at", "finished_at", "duration", "host",
        "code_hash", "key", "input_keys", "reads", "reason", "reason_detail", "stdout", "stderr",
        "log", "error", "traceback",
    ]  # fmt: skip

    def task_rows() -> Any:
        for pk in range(1, runs + 1):
            count = heavy_each if pk in heavy_ids else light_tasks
            created = now - dt.timedelta(minutes=runs - pk)
            failed_at = count - 2 if STATUSES[pk % len(STATUSES)] == "failed" else -1
            for j in range(count):
                state = "failed" if j == failed_at else "succeeded"
                yield [
                    pk, f"node_{j}", state, 1, created, created, 0.5, "bench-host", "c" * 64,
                    f"{pk:032x}{j:032x}", "{}", "{}", "not_stored", "", f"node {j} says hi\n",
                    "", "", "boom" if state == "failed" else "",
                    "Traceback ..." if state == "failed" else "",
                ]  # fmt: skip

    _copy("django_mlops_taskrun", task_columns, task_rows())
    metric_columns = ["run_id", "key", "value", "timestamp", "reused"]
    _copy(
        "django_mlops_metric",
        metric_columns,
        ([pk, key, pk % 100 / 100, now, False] for pk in range(1, runs + 1) for key in "abc"),
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval('django_mlops_run_id_seq', %s)", [runs])
    print(f"filled {runs:,} runs, {tasks:,} tasks, {runs * 3:,} metrics "
          f"in {time.perf_counter() - start:.1f} s")  # fmt: skip


def vacuum_analyze() -> None:
    """What autovacuum does on a long-lived database: visibility map and statistics."""
    import psycopg
    from django.db import connection

    params = {**SERVER, "dbname": connection.settings_dict["NAME"]}
    connection.close()
    with psycopg.connect(autocommit=True, **params) as raw:
        raw.execute("VACUUM ANALYZE")


def measure(client: Any, urls: list[str]) -> dict[str, float]:
    """p50/p95/max of each request's time in ms (every answer must be 200)."""
    times = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    times.sort()
    return {
        "p50": statistics.median(times),
        "p95": times[int(len(times) * 0.95) - 1],
        "max": times[-1],
        "n": len(times),
    }


def main() -> None:
    """Fill, then time each kind of request."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="Requests per kind.")
    parser.add_argument("--database", default=f"mlops_bench_api_{os.getpid()}")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args()

    import psycopg

    fresh = True
    try:
        _server(f'CREATE DATABASE "{args.database}"')
    except psycopg.errors.DuplicateDatabase:
        fresh = False
    configure(args.database)
    from django.contrib.auth.models import Permission, User
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client

    from django_mlops.models import Run
    from django_mlops.tokens import issue_token

    try:
        if fresh:
            call_command("migrate", verbosity=0)
            user = User.objects.create_user("bench")
            perms = Permission.objects.filter(codename__in=["view_run", "view_taskrun"])
            user.user_permissions.add(*perms)
            fill(args.runs, args.tasks, user.pk)
        user = User.objects.get(username="bench")
        client = Client(headers={"Authorization": f"Bearer {issue_token(user)[1]}"})
        # Runs left "running" by the fill have a fresh heartbeat... from the fill's time:
        # the first list request settles them (as it would after an outage), untimed.
        client.get("/mlops/api/runs")
        vacuum_analyze()
        rng = random.Random(0)
        total = Run.objects.count()
        pages = max(total // 50, 1)
        heavy = list(
            Run.objects.filter(tasks_total__gt=1000).order_by("id").values_list("id", flat=True)
        )
        api = "/mlops/api"
        kinds = {
            "GET runs?page=1": [f"{api}/runs?page=1"] * args.requests,
            "GET runs?page=N (N random, 1..last)": [
                f"{api}/runs?page={rng.randint(1, pages)}" for _ in range(args.requests)
            ],
            f"GET runs?page={pages} (the last)": [f"{api}/runs?page={pages}"] * args.requests,
            "GET runs?status=failed&page=N": [
                f"{api}/runs?status=failed&page={rng.randint(1, pages // 5)}"
                for _ in range(args.requests)
            ],
            "GET runs?pipeline=pipeline_07&page=N": [
                f"{api}/runs?pipeline=pipeline_07&page={rng.randint(1, pages // 20)}"
                for _ in range(args.requests)
            ],
            "GET runs/{id} (9 tasks)": [
                f"{api}/runs/{rng.randint(1, total)}" for _ in range(args.requests)
            ],
            "GET runs/{id} (10,000 tasks)": [
                f"{api}/runs/{rng.choice(heavy)}" for _ in range(args.requests)
            ],
            "GET runs/{id}/tasks?page=N (10,000 tasks)": [
                f"{api}/runs/{rng.choice(heavy)}/tasks?page={rng.randint(1, 200)}"
                for _ in range(args.requests)
            ],
        }
        for urls in kinds.values():  # warm-up: imports, caches, the connection
            measure(client, urls[:5])
        print(f"{total:,} runs; {args.requests} requests per row; times in ms")
        print("| request | p50 | p95 | max |\n|---|---:|---:|---:|")
        for label, urls in kinds.items():
            figures = measure(client, urls)
            print(
                f"| {label} | {figures['p50']:.1f} | {figures['p95']:.1f} | {figures['max']:.1f} |"
            )
    finally:
        connections.close_all()
        if not args.keep:
            _server(f'DROP DATABASE IF EXISTS "{args.database}"')


if __name__ == "__main__":
    main()
