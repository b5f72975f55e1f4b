"""``mlops models`` as a user types it: two standalone installations, export from one, import
into the other, identical predictions; reproduce of an example pipeline's model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

REPO = Path(__file__).resolve().parent.parent
PIPELINES = REPO / "example" / "showcase" / "pipelines.py"

PREDICT = """
import json, sys
from django_mlops.standalone.bootstrap import setup
setup()
from django_mlops.registry import predict
records = json.loads(sys.argv[1])
print(json.dumps(predict(sys.argv[2], records, proba=True).as_dict()))
"""


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(MLOPS_HOME=str(home), PYTHONPATH=str(REPO / "src"))
    return env


def _mlops(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "django_mlops.cli", *args],
        cwd=home.parent,
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=180,
    )


def _predict(home: Path, name: str, records: list[dict[str, float]]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PREDICT, json.dumps(records), name],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def test_export_from_one_installation_import_into_another(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    ran = _mlops(first, "run", f"{PIPELINES}:iris")
    assert ran.returncode == 0, ran.stderr
    promoted = _mlops(first, "models", "promote", "iris-classifier", "production", "--version", "1")
    assert promoted.returncode == 0 and "-> v1" in promoted.stdout, promoted.stderr
    exported = _mlops(first, "models", "export", "iris-classifier", "--version", "1", "out")
    assert exported.returncode == 0, exported.stderr
    folder = tmp_path / "out"
    sha = json.loads((folder / "model.json").read_text())["sha256"]

    imported = _mlops(second, "models", "import", str(folder))
    assert imported.returncode == 0, imported.stderr
    assert f"as iris-classifier v1 (SHA-256 {sha[:12]}" in imported.stdout
    _mlops(second, "models", "promote", "iris-classifier", "production", "--version", "1")
    listing = _mlops(second, "models", "list", "iris-classifier")
    assert "imported" in listing.stdout and sha[:12] in listing.stdout

    records = [
        {"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, "petal length (cm)": 1.4,
         "petal width (cm)": 0.2},
        {"sepal length (cm)": 6.7, "sepal width (cm)": 3.0, "petal length (cm)": 5.2,
         "petal width (cm)": 2.3},
    ]  # fmt: skip
    here, there = (
        _predict(first, "iris-classifier", records),
        _predict(second, "iris-classifier", records),
    )
    assert here == there
    assert here["predictions"] == [0, 2] and here["version"] == 1


def test_models_reproduce_is_byte_identical_for_the_iris_example(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert _mlops(home, "run", f"{PIPELINES}:iris").returncode == 0
    rebuilt = _mlops(home, "models", "reproduce", "iris-classifier", "--version", "1")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert "rebuilt as v2" in rebuilt.stdout
    assert "model artifact: identical, byte for byte" in rebuilt.stdout
    unknown = _mlops(home, "models", "reproduce", "nope", "--version", "1")
    assert unknown.returncode == 1 and "no registered model named 'nope'" in unknown.stderr
