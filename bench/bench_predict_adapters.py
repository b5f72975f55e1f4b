"""The two REST adapters over one predict path: django-ninja and DRF, in process.

What each endpoint adds to ``serve_prediction`` (the code both call): the
middleware, Bearer token authentication, the permission check, the body checks,
reading the request with the schemas and rendering the JSON answer. Requests go
through Django's test client in this process (no network, no server), with a
token, after a warm-up; a LogisticRegression on 10 float features, batches of 1
and 100 records. Standalone mode in a temporary MLOPS_HOME (SQLite),
OMP_NUM_THREADS=1. The HTTP figures under gunicorn against MLflow are
``bench/peers``' (issue 12's serving bench).

Run: ``.venv/bin/python bench/bench_predict_adapters.py [CALLS]``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("MLOPS_HOME", tempfile.mkdtemp(prefix="mlops-bench-adapters-"))
os.environ.setdefault("OMP_NUM_THREADS", "1")

from django_mlops.standalone.bootstrap import setup

setup()

import pandas as pd  # noqa: E402
from django.contrib.auth.models import Permission, User  # noqa: E402
from django.test import Client  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from django_mlops import register_model  # noqa: E402
from django_mlops.models import Run  # noqa: E402
from django_mlops.registry import model_cache, set_alias  # noqa: E402
from django_mlops.registry.serving import serve_prediction  # noqa: E402
from django_mlops.tokens import issue_token  # noqa: E402

CALLS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
NAME = "bench-logistic"


def timings(call: Callable[[], Any], n: int) -> list[float]:
    """Seconds per call, after a warm-up."""
    for _ in range(min(50, n)):
        call()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def micro(values: list[float], q: float) -> float:
    """The ``q`` quantile in microseconds."""
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1e6 if q < 100 else max(values) * 1e6


def main() -> None:
    x, y = make_classification(n_samples=500, n_features=10, random_state=0)
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(10)])
    run = Run.objects.create(pipeline="bench", status="succeeded")
    register_model(
        NAME, LogisticRegression(max_iter=500).fit(frame, y), sample_input=frame, run=run
    )
    set_alias(NAME, "production", 1)
    user = User.objects.create_user("bench")
    user.user_permissions.add(Permission.objects.get(codename="predict"))
    _, token = issue_token(user, name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    model_cache.clear()
    print(f"{CALLS} calls per cell (a quarter for 100 rows), microseconds")
    header = ("rows", "serve_prediction p50", "ninja p50", "ninja p99", "DRF p50", "DRF p99")
    print("| " + " | ".join(header) + " | DRF / ninja (p50) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for rows in (1, 100):
        records = frame.head(rows).to_dict(orient="records")
        body = json.dumps({"inputs": records})
        n = CALLS if rows == 1 else max(CALLS // 4, 20)

        def http(url: str, body: str = body) -> Callable[[], Any]:
            def call() -> None:
                response = client.post(url, body, content_type="application/json")
                assert response.status_code == 200, response.content

            return call

        bare = timings(lambda records=records: serve_prediction(NAME, records), n)
        ninja = timings(http(f"/mlops/api/models/{NAME}/predict"), n)
        drf = timings(http(f"/mlops/drf/models/{NAME}/predict"), n)
        ratio = statistics.median(drf) / statistics.median(ninja)
        print(
            f"| {rows} | {micro(bare, 50):.0f} | {micro(ninja, 50):.0f} | {micro(ninja, 99):.0f} "
            f"| {micro(drf, 50):.0f} | {micro(drf, 99):.0f} | {ratio:.2f} |"
        )


if __name__ == "__main__":
    main()
