"""Server time of the website's pages with 100,000 runs and a 1,000-node pipeline.

Run: .venv/bin/python bench/bench_web.py [--database sqlite|postgres] [--runs 100000]
     [--nodes 1000] [--repeats 20]

A fresh database (a SQLite file in a temporary folder, or a new PostgreSQL database
on 127.0.0.1:5432 dropped at the end) is migrated and filled with ``--runs`` Run
rows over five pipelines (bulk inserts), a running run of the ``--nodes``-node
pipeline with one TaskRun row per node (a third succeeded, a few running, the rest
pending; heartbeat fresh) and a finished one. Each page is asked for through
Django's test client as a logged-in superuser: once cold (the first drawing of the
pipeline is made then), then ``--repeats`` times; the median and 90th percentile
wall times and the number of SQL queries are printed. The goals (issue 11): runs
list, pipeline page and run page under 200 ms; the live update of the running
1,000-node run under 20 ms; queries constant, not per task.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def configure(database: str, home: Path) -> str | None:
    """Configure Django; return the PostgreSQL database name to drop, if one was made."""
    import django
    from django.conf import settings

    pg_name = None
    if database == "postgres":
        import psycopg

        pg_name = f"mlops_bench_web_{uuid.uuid4().hex[:8]}"
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{pg_name}"')
        databases = {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "HOST": "127.0.0.1",
                "USER": "postgres",
                "NAME": pg_name,
            }
        }
    else:
        databases = {
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(home / "db.sqlite3")}
        }
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-only",
        ALLOWED_HOSTS=["testserver"],
        USE_TZ=True,
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.staticfiles",
            "django_htmx",
            "django_mlops",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        ROOT_URLCONF="django_mlops.standalone.urls",
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        STATIC_URL="/static/",
        DATABASES=databases,
        MLOPS={"HOME": str(home), "RUN_STALE_SECONDS": 3600.0},
    )
    django.setup()
    return pg_name


def big_pipeline(nodes: int) -> Any:
    """Layers of 25 steps, each reading 1-3 outputs of the layer before; a 100-way fan-out."""
    import random

    from django_mlops import Pipeline

    rng = random.Random(0)
    pipeline = Pipeline("big", description=f"{nodes} steps")

    def step(*args: Any) -> int:
        return 0

    pipeline.node(step, name="source", inputs=[], outputs="d_source")
    made, previous = 1, ["d_source"]
    fan = min(100, max(0, nodes // 10))
    for i in range(fan):
        pipeline.node(step, name=f"train_{i}", inputs=["d_source"], outputs=f"d_train_{i}")
    made += fan
    layer_no = 0
    while made < nodes:
        layer = []
        for j in range(min(25, nodes - made)):
            name = f"s{layer_no}_{j}"
            reads = rng.sample(previous, k=min(len(previous), rng.randint(1, 3)))
            pipeline.node(step, name=name, inputs=reads, outputs=f"d_{name}")
            layer.append(f"d_{name}")
        made += len(layer)
        previous, layer_no = layer, layer_no + 1
    return pipeline


def fill(pipeline: Any, runs: int) -> tuple[int, int]:
    """Insert the runs; return (running run id, finished run id) of the big pipeline."""
    from django.utils import timezone

    from django_mlops.models import Run, TaskRun

    now = timezone.now()
    names = ["big", "iris", "sweep", "etl", "report"]
    statuses = ["succeeded"] * 7 + ["failed", "cancelled", "succeeded"]
    batch: list[Run] = []
    for i in range(runs):
        created = now - dt.timedelta(seconds=(runs - i) * 30)
        batch.append(
            Run(
                pipeline=names[i % len(names)],
                source=pipeline.source if i % len(names) == 0 else "",
                status=statuses[i % len(statuses)],
                params={"C": 1.0, "seed": i},
                created_at=created,
                started_at=created,
                finished_at=created + dt.timedelta(seconds=12),
                duration=12.0 + (i % 7),
                tasks_total=len(pipeline) if i % len(names) == 0 else 5,
            )
        )
        if len(batch) == 5000:
            Run.objects.bulk_create(batch)
            batch = []
    Run.objects.bulk_create(batch)
    ids = []
    for status in ("running", "succeeded"):
        run = Run.objects.create(
            pipeline="big",
            source=pipeline.source,
            status=status,
            started_at=now - dt.timedelta(seconds=30),
            heartbeat_at=now,
            host="bench-elsewhere",
            tasks_total=len(pipeline),
            finished_at=None if status == "running" else now,
            duration=None if status == "running" else 30.0,
        )
        rows = []
        for k, node in enumerate(pipeline.nodes):
            if status == "running":
                state = "succeeded" if k % 3 == 0 else ("running" if k % 97 == 1 else "pending")
            else:
                state = "succeeded"
            started = now - dt.timedelta(seconds=30 - (k % 30)) if state != "pending" else None
            rows.append(
                TaskRun(
                    run=run,
                    node=node.name,
                    state=state,
                    attempts=1 if started else 0,
                    started_at=started,
                    finished_at=started + dt.timedelta(seconds=0.5)
                    if state == "succeeded" and started
                    else None,
                    duration=0.5 if state == "succeeded" else None,
                    stdout=f"line of {node.name}\n" * 3,
                )
            )
        TaskRun.objects.bulk_create(rows, batch_size=500)
        ids.append(run.pk)
    return ids[0], ids[1]


def measure(client: Any, url: str, repeats: int) -> dict[str, Any]:
    from django.db import connection

    queries: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries.append(sql)
        return execute(sql, params, many, context)

    start = time.perf_counter()
    with connection.execute_wrapper(count):
        response = client.get(url)
    cold = time.perf_counter() - start
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - start)
    times.sort()
    return {
        "url": url,
        "cold": cold * 1000,
        "median": statistics.median(times) * 1000,
        "p90": times[int(0.9 * (len(times) - 1))] * 1000,
        "queries": len(queries),
        "bytes": len(response.content),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="mlops-bench-web-"))
    os.environ["MLOPS_HOME"] = str(home)
    pg_name = configure(args.database, home)
    try:
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.test import Client

        call_command("migrate", verbosity=0)
        pipeline = big_pipeline(args.nodes)
        started = time.perf_counter()
        running, finished = fill(pipeline, args.runs)
        print(
            f"filled {args.runs} runs + 2 x {len(pipeline)} tasks in "
            f"{time.perf_counter() - started:.1f} s ({args.database})"
        )
        client = Client()
        client.force_login(User.objects.create_superuser("bench", password="x"))
        pages = [
            ("pipelines list", "/mlops/pipelines/"),
            ("runs list", "/mlops/runs/"),
            ("runs list, one pipeline, page 100", "/mlops/runs/?pipeline=big&page=100"),
            ("pipeline page (1,000 nodes)", "/mlops/pipelines/big/"),
            ("run page, running", f"/mlops/runs/{running}/"),
            ("run page, finished", f"/mlops/runs/{finished}/"),
            ("live update, running", f"/mlops/runs/{running}/live/?node=s3_4&estimate=40"),
            ("task panel", f"/mlops/runs/{running}/tasks/s3_4/"),
        ]
        print("| page | cold ms | median ms | p90 ms | queries | KB |")
        print("|---|---:|---:|---:|---:|---:|")
        for label, url in pages:
            m = measure(client, url, args.repeats)
            print(
                f"| {label} | {m['cold']:.0f} | {m['median']:.1f} | {m['p90']:.1f} | "
                f"{m['queries']} | {m['bytes'] / 1024:.0f} |"
            )
    finally:
        if pg_name:
            from django.db import connections

            connections.close_all()
            import psycopg

            with psycopg.connect(
                "host=127.0.0.1 user=postgres dbname=postgres", autocommit=True
            ) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{pg_name}"')


if __name__ == "__main__":
    main()
