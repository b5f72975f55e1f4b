"""Save the bench's fitted estimators as MLflow models (run in the MLflow venv, not ours).

    build/mlflow-venv/bin/python bench/serve_bench/mlflow_save.py OUT/manifest.json

Each joblib file that ``serve_bench.prepare`` dumped (the very estimator our
registry holds) is saved with MLflow's scikit-learn flavour (its default format, skops) into
``OUT/mlflow/<kind>``, with a signature inferred from the 100-record body, so
``mlflow models serve -m OUT/mlflow/<kind>`` checks its inputs as ours does.
Prints MLflow's version and the served flavour's serialization format.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import joblib
import mlflow
import pandas as pd
from mlflow.models import infer_signature


def _own_types(model: object) -> list[str]:
    """The types skops would not load untrusted: we fitted this estimator ourselves.

    MLflow 3 saves scikit-learn models with skops and refuses a file holding types
    outside skops' default trust (a forest's ``sklearn.tree._tree.Tree``) unless told
    to trust them, as a user saving their own model does.
    """
    import skops.io

    return list(skops.io.get_untrusted_types(data=skops.io.dumps(model)))


def main() -> None:
    """Save every model of the manifest; overwrite earlier saves."""
    import shutil

    manifest_path = Path(sys.argv[1])
    manifest = json.loads(manifest_path.read_text())
    root = manifest_path.parent / "mlflow"
    for kind, entry in manifest["models"].items():
        model = joblib.load(entry["joblib"])
        records = json.loads(Path(entry["cases"]["100"]["mlflow"]).read_text())
        frame = pd.DataFrame(records["dataframe_records"], columns=manifest["columns"])
        target = root / kind
        if target.exists():
            shutil.rmtree(target)
        mlflow.sklearn.save_model(
            model,
            str(target),
            signature=infer_signature(frame, model.predict(frame)),
            skops_trusted_types=_own_types(model),
        )
        entry["mlflow_model"] = str(target)
    manifest["mlflow_version"] = mlflow.__version__
    manifest_path.write_text(json.dumps(manifest, indent=1))
    print(f"mlflow {mlflow.__version__}: saved {', '.join(manifest['models'])} under {root}")


if __name__ == "__main__":
    main()
