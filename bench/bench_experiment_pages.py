"""The experiments pages with 10,000 runs: server time per page, and chart rendering in a browser.

Run: .venv/bin/python bench/bench_experiment_pages.py [--runs 10000] [--steps 1000]
     [--requests 20] [--postgres] [--browser]

A fresh database (SQLite in a temporary folder, or with ``--postgres`` a new database on
the local server, as the test suite uses, dropped at the end) is migrated and filled
with ``--runs`` runs of one pipeline, each with 20 params, 20 final metrics and two
metrics logged for ``--steps`` steps (``loss`` and ``val_loss``): the scale of issue 13.
Rows go in with ``executemany`` in batches, outside the timed part.

Timed, through Django's test client in this process (middleware, session login,
permissions, the view, the template), after a warm-up: the runs table (default sort,
sorted by a metric, sorted by a param, a later page), the CSV is not timed (it streams
all 10,000 rows by design), a compare of 50 runs, and the curves of 50 runs. Printed:
p50 / p95 / max in milliseconds. The goal: every page under 300 ms on the server.

``--browser`` also serves the site on 127.0.0.1 and opens the 50-run compare page in
Debian's chromium (Playwright); the page itself measures, with ``performance.now()``,
the time from the first Plotly call to the last chart drawn (``window.mlopsChartMs``,
the curves' fetch included). The goal: under 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))
sys.path.insert(0, ROOT)

PIPELINE = "bench_sweep"
PARAMS = 20
METRICS = 20
CURVES = ("loss", "val_loss")
BATCH = 20_000

# The bench is its own URLconf (ROOT_URLCONF = "__main__"): django-mlops at /mlops/.
urlpatterns: list[Any] = []


def configure(postgres: bool) -> str:
    """Django settings: standalone mode's, on a fresh SQLite file or PostgreSQL database."""
    home = tempfile.mkdtemp(prefix="mlops-bench-exp-")
    os.environ.setdefault("MLOPS_HOME", home)
    import django
    from django.conf import settings

    from django_mlops.standalone import settings as standalone

    values = {k: v for k, v in vars(standalone).items() if k.isupper()}
    name = f"bench_exp_{os.getpid()}"
    if postgres:
        import psycopg

        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        values["DATABASES"] = {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": name,
                "HOST": "127.0.0.1",
                "USER": "postgres",
            }
        }
    else:
        values["DATABASES"] = {
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": f"{home}/bench.sqlite3"}
        }
    values["ROOT_URLCONF"] = "__main__"
    values["DEBUG"] = False
    values["ALLOWED_HOSTS"] = ["*"]
    settings.configure(**values)
    django.setup()
    from django.contrib import admin
    from django.urls import include, path

    urlpatterns.append(path("mlops/", include("django_mlops.urls")))
    urlpatterns.append(path("admin/", admin.site.urls))  # the site's header links it
    return name if postgres else values["DATABASES"]["default"]["NAME"]


def fill(runs: int, steps: int) -> None:
    """Runs with 20 params, 20 final metrics and two ``steps``-long curves each."""
    from django.db import connection, transaction

    from django_mlops.models import Metric, Param, Run

    rng = random.Random(13)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with transaction.atomic():
        made = Run.objects.bulk_create(
            (
                Run(
                    pipeline=PIPELINE,
                    status="succeeded" if i % 10 else "failed",
                    params={f"p{k:02d}": round(rng.uniform(0, 10), 3) for k in range(PARAMS)},
                    created_at=start + dt.timedelta(minutes=i),
                    started_at=start + dt.timedelta(minutes=i),
                    duration=rng.uniform(1, 600),
                    git_commit=f"{rng.getrandbits(160):040x}",
                )
                for i in range(runs)
            ),
            batch_size=2000,
        )
        Param.objects.bulk_create(
            (Param(run=r, key=k, value=v) for r in made for k, v in r.params.items()),
            batch_size=5000,
        )
    table, now = Metric._meta.db_table, dt.datetime.now(dt.UTC)
    sql = (
        f"INSERT INTO {table} (run_id, key, value, step, timestamp, reused) "
        "VALUES (%s, %s, %s, %s, %s, %s)"
    )
    batch: list[tuple[Any, ...]] = []

    def flush() -> None:
        # One transaction per batch: SQLite in autocommit would sync every row.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, batch)
        batch.clear()

    for run in made:
        for k in range(METRICS):
            batch.append((run.pk, f"m{k:02d}", rng.random(), None, now, False))
        for key in CURVES:
            level = rng.uniform(0.5, 2)
            for step in range(steps):
                batch.append((run.pk, key, level / (1 + step / 50), step, now, False))
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _timed(client: Any, url: str, count: int) -> list[float]:
    client.get(url)  # warm-up
    times = []
    for _ in range(count):
        began = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


def _browser(client: Any, compare_url: str) -> float:
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application
    from playwright.sync_api import sync_playwright

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), Quiet)
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    cookie = client.cookies["sessionid"].value
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    chromium = os.environ.get("MLOPS_CHROMIUM", "/usr/bin/chromium")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies(
                [{"name": "sessionid", "value": cookie, "url": f"http://127.0.0.1:{port}"}]
            )
            tab = context.new_page()
            figures = []
            for _ in range(3):
                tab.goto(f"http://127.0.0.1:{port}{compare_url}")
                tab.wait_for_selector(".charts[data-rendered='1']", timeout=30000)
                figures.append(float(tab.evaluate("window.mlopsChartMs")))
                each = tab.evaluate("window.mlopsChartTimes")
                print(
                    "  each chart done at (ms): "
                    + ", ".join(f"{k} {v:.0f}" for k, v in each.items())
                )
            os.makedirs(os.path.join(ROOT, "build", "test-artifacts"), exist_ok=True)
            tab.screenshot(
                path=os.path.join(ROOT, "build", "test-artifacts", "bench-compare-50.png"),
                full_page=True,
            )
            browser.close()
    finally:
        server.shutdown()
    print(f"charts of the 50-run compare, in chromium: {', '.join(f'{f:.0f}' for f in figures)} ms")
    return min(figures)


def main() -> None:
    """Fill, time the pages, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs of the pipeline")
    parser.add_argument("--steps", type=int, default=1000, help="steps of each of two curves")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL, not SQLite")
    parser.add_argument("--browser", action="store_true", help="also time the charts in chromium")
    args = parser.parse_args()
    where = configure(args.postgres)
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    fill(args.runs, args.steps)
    rows = args.runs * (METRICS + len(CURVES) * args.steps)
    print(
        f"{connection.vendor}: {args.runs} runs, {args.runs * PARAMS} params, {rows} metric rows "
        f"filled in {time.perf_counter() - began:.0f} s ({where})"
    )
    client = Client()
    client.force_login(User.objects.create_superuser("bench", password="x"))
    from django_mlops.models import Run

    ids = list(Run.objects.order_by("-id").values_list("id", flat=True)[:50])
    joined = ",".join(map(str, ids))
    base = f"/mlops/experiments/{PIPELINE}/"
    pages = {
        "table, newest first": base,
        "table, sorted by a metric": base + "?sort=-metrics.m03",
        "table, sorted by a param": base + "?sort=params.p07",
        "table, page 100": base + "?page=100",
        "table, across pipelines": "/mlops/experiments/?sort=metrics.m01",
        "compare 50 runs": f"/mlops/experiments/compare?runs={joined}",
        "compare 50 runs, all rows": f"/mlops/experiments/compare?runs={joined}&all=1",
        "curves of 50 runs (loss)": f"/mlops/experiments/curves?runs={joined}&key=loss",
        "what changed, 2 runs": f"/mlops/experiments/changes?runs={ids[1]},{ids[0]}",
        "API compare 50 runs": f"/mlops/api/experiments/compare?runs={joined}",
        "API curves of 50 runs": f"/mlops/api/experiments/curves?runs={joined}&metric=loss",
    }
    print(f"{'page':32} {'p50':>8} {'p95':>8} {'max':>8}  (ms, {args.requests} requests)")
    worst = 0.0
    for label, url in pages.items():
        times = sorted(_timed(client, url, args.requests))
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        worst = max(worst, p95)
        print(f"{label:32} {statistics.median(times):8.1f} {p95:8.1f} {times[-1]:8.1f}")
    print(f"worst p95 {worst:.1f} ms: {'under' if worst < 300 else 'OVER'} the 300 ms goal")
    if args.browser:
        best = _browser(client, pages["compare 50 runs"])
        print(f"charts {best:.0f} ms: {'under' if best < 1000 else 'OVER'} the 1 s goal")
    if args.postgres:  # a fresh database per run: drop it
        import psycopg

        connection.close()
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE "{where}"')


if __name__ == "__main__":
    main()
