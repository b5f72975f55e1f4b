"""In-process cost of ``django_mlops.registry.predict`` over a bare ``model.predict``.

What the coming endpoints add on top of the model: resolving the alias (one indexed
query), the cached loaded version, checking the records against the signature and
building the DataFrame, and turning predictions into JSON-ready values. Three models
(LogisticRegression, RandomForest with 100 trees, HistGradientBoosting) on 10 float
features, batches of 1 and 100 records. Standalone mode in a temporary MLOPS_HOME
(SQLite), OMP_NUM_THREADS=1. Run: ``.venv/bin/python bench/bench_predict_overhead.py [CALLS]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("MLOPS_HOME", tempfile.mkdtemp(prefix="mlops-bench-predict-"))
# One thread per serving process (as under gunicorn workers): OpenMP's spinning threads
# on a shared 2-core machine otherwise make HistGradientBoosting's timings noise.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from django_mlops.standalone.bootstrap import setup

setup()

import pandas as pd  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from django_mlops import register_model  # noqa: E402
from django_mlops.models import Run  # noqa: E402
from django_mlops.registry import model_cache, predict, set_alias  # noqa: E402
from django_mlops.registry.signature import validate_inputs  # noqa: E402

CALLS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000


def timings(call: Callable[[], Any], n: int) -> list[float]:
    for _ in range(min(50, n)):
        call()
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1e6


def main() -> None:
    x, y = make_classification(n_samples=2000, n_features=10, random_state=0)
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(10)])
    run = Run.objects.create(pipeline="bench", status="succeeded")
    candidates = {
        "logistic": LogisticRegression(max_iter=500),
        "forest": RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1),
        "hist-gb": HistGradientBoostingClassifier(random_state=0),
    }
    print(f"{CALLS} calls each; microseconds; overhead = predict p50 - bare p50")
    print(f"{'model':10} {'rows':>4} {'bare p50':>9} {'bare p99':>9} {'predict p50':>11} "
          f"{'predict p99':>11} {'overhead':>9} {'validate':>9} {'resolve':>8}")  # fmt: skip
    for name, model in candidates.items():
        model.fit(frame, y)
        version = register_model(f"bench-{name}", model, sample_input=frame.head(), run=run)
        assert version is not None
        set_alias(f"bench-{name}", "production", version.version)
        loaded = model_cache.get(f"bench-{name}")
        for rows in (1, 100):
            batch = frame.iloc[:rows]
            records = batch.to_dict("records")
            n = CALLS if rows == 1 else max(200, CALLS // 4)
            bare = timings(lambda m=model, b=batch: m.predict(b), n)
            full = timings(lambda nm=f"bench-{name}", r=records: predict(nm, r), n)
            check = timings(lambda s=loaded.signature, r=records: validate_inputs(s, r), n)
            resolve = timings(lambda nm=f"bench-{name}": model_cache.resolve(nm), n)
            print(
                f"{name:10} {rows:>4} {p(bare, 0.5):>9.0f} {p(bare, 0.99):>9.0f} "
                f"{p(full, 0.5):>11.0f} {p(full, 0.99):>11.0f} "
                f"{p(full, 0.5) - p(bare, 0.5):>9.0f} {statistics.median(check) * 1e6:>9.0f} "
                f"{statistics.median(resolve) * 1e6:>8.0f}"
            )


if __name__ == "__main__":
    main()
