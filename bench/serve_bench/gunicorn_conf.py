"""gunicorn's configuration for the serving bench (``gunicorn -c gunicorn_conf.py``).

Two worker processes (the issue's set-up on a 2-core machine), ``gthread`` workers
with one thread each. Why gthread: a predict call is CPU-bound under the GIL, so
more threads per worker add nothing, but unlike ``sync`` workers a gthread worker
keeps HTTP/1.1 connections alive, as a client pool (and MLflow's uvicorn) does;
a sync worker closes the connection after every answer, so each request would pay
a TCP handshake. ``sync`` is the choice behind a buffering proxy (nginx); the
bench can measure it too (``MLOPS_BENCH_WORKER_CLASS=sync``).

Environment: ``MLOPS_BENCH_BIND`` (default ``127.0.0.1:8000``),
``MLOPS_BENCH_WORKERS`` (2), ``MLOPS_BENCH_WORKER_CLASS`` (gthread),
``MLOPS_BENCH_THREADS`` (1).
"""

from __future__ import annotations

import os

bind = os.environ.get("MLOPS_BENCH_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("MLOPS_BENCH_WORKERS", "2"))
worker_class = os.environ.get("MLOPS_BENCH_WORKER_CLASS", "gthread")
threads = int(os.environ.get("MLOPS_BENCH_THREADS", "1"))
# Connections stay open between a client's requests (gthread honours this; sync ignores it).
keepalive = 30
# Load the application before forking: both workers share the imported code.
preload_app = True
# Errors to stderr; no access log (a line per request would be measured too).
accesslog = None
errorlog = "-"
loglevel = "warning"
raw_env = ["DJANGO_SETTINGS_MODULE=serve_bench.settings"]
