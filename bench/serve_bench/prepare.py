"""Set up the serving bench's project: database, user, token, fitted models, payloads.

Run in the project's venv with ``bench/`` on ``PYTHONPATH`` and ``MLOPS_HOME`` set:

    python -m serve_bench.prepare OUT [--models logistic forest hist-gb]

Migrates the database that ``serve_bench.settings`` names, creates the user
``bench`` with only ``django_mlops.predict`` and a Bearer token for it, fits each
model on the same synthetic data as ``bench_predict_overhead.py`` (10 float
features, 2,000 rows), registers it (``production`` alias) and also dumps the same
fitted estimator with joblib for MLflow. ``OUT/manifest.json`` lists the token,
the models, each request body (ours and MLflow's, 1 and 100 records) and the
predictions an in-process ``model.predict`` gives for it.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "serve_bench.settings")

#: The issue's three models, by short name (also the registered name's suffix).
MODELS = ("logistic", "forest", "hist-gb")
ROWS = (1, 100)
FEATURES = 10


def estimator(kind: str) -> Any:
    """An unfitted estimator of ``kind`` (one thread: each serving worker is one process)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    if kind == "logistic":
        return LogisticRegression(max_iter=500)
    if kind == "forest":
        return RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1)
    if kind == "hist-gb":
        return HistGradientBoostingClassifier(random_state=0)
    raise ValueError(f"unknown model {kind!r}; choose from {', '.join(MODELS)}")


def dataset() -> Any:
    """The features (a DataFrame with columns f0..f9) and labels."""
    import pandas as pd
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=2000, n_features=FEATURES, random_state=0)
    return pd.DataFrame(x, columns=[f"f{i}" for i in range(FEATURES)]), y


def _bench_user() -> Any:
    from django.contrib.auth.models import Permission, User

    user, _ = User.objects.get_or_create(username="bench")
    user.user_permissions.set(
        [Permission.objects.get(content_type__app_label="django_mlops", codename="predict")]
    )
    return user


def prepare(out: Path, kinds: list[str]) -> dict[str, Any]:
    """Everything the bench needs under ``out``; returns (and writes) the manifest."""
    import django

    django.setup()
    import joblib
    from django.core.management import call_command

    from django_mlops import register_model
    from django_mlops.models import Run
    from django_mlops.registry import set_alias
    from django_mlops.tokens import issue_token

    call_command("migrate", verbosity=0)
    _, token = issue_token(_bench_user(), name="serving bench")
    frame, labels = dataset()
    run = Run.objects.create(pipeline="serve_bench", status="succeeded")
    (out / "models").mkdir(parents=True, exist_ok=True)
    (out / "bodies").mkdir(exist_ok=True)
    manifest: dict[str, Any] = {"token": token, "columns": list(frame.columns), "models": {}}
    for kind in kinds:
        model = estimator(kind).fit(frame, labels)
        name = f"bench-{kind}"
        version = register_model(name, model, sample_input=frame.head(), run=run)
        assert version is not None
        set_alias(name, "production", version.version)
        joblib.dump(model, out / "models" / f"{kind}.joblib")
        cases = {}
        for rows in ROWS:
            batch = frame.iloc[:rows]
            records = batch.to_dict("records")
            ours = out / "bodies" / f"{kind}-{rows}.ours.json"
            theirs = out / "bodies" / f"{kind}-{rows}.mlflow.json"
            ours.write_text(json.dumps({"inputs": records}))
            # MLflow's records form: the same list of {column: value} as ours.
            theirs.write_text(json.dumps({"dataframe_records": records}))
            cases[str(rows)] = {
                "ours": str(ours),
                "mlflow": str(theirs),
                "expected": model.predict(batch).tolist(),
            }
        manifest["models"][kind] = {
            "registered": name,
            "version": version.version,
            "joblib": str(out / "models" / f"{kind}.joblib"),
            "cases": cases,
        }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def main() -> None:
    """Command line: ``python -m serve_bench.prepare OUT [--models ...]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    prepare(args.out, args.models)


if __name__ == "__main__":
    main()
