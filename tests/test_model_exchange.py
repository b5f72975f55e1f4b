"""Export, import, reproduce and the ``models`` command, in process (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from django_mlops.models import AliasChange, ModelVersion
from django_mlops.registry import ModelIntegrityError, RegistryError, get_version, predict
from django_mlops.registry.exchange import export_version, import_version
from django_mlops.registry.rebuild import reproduce_version
from tests import registry_pipelines as models

EXAMPLE = Path(__file__).resolve().parent.parent / "example"
if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))

from showcase import pipelines as showcase  # noqa: E402  (needs example/ on sys.path)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]


def _records() -> list[dict[str, float]]:
    return models.features(models.iris_frame()).iloc[::7].to_dict("records")


def test_export_then_import_gives_the_same_hash_and_predictions(tmp_path: Path) -> None:
    run = models.iris_models.run(executor="inline", params={"C": 0.3})
    folder = export_version("iris-test", 1, tmp_path / "export")
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "README.md",
        "model.joblib",
        "model.json",
        "requirements.txt",
        "signature.json",
    ]
    meta = json.loads((folder / "model.json").read_text())
    original = get_version("iris-test", version=1)
    assert meta["sha256"] == original.sha256 and meta["params"] == {"C": 0.3}
    assert meta["lineage"]["run"] == run.pk and meta["lineage"]["node"] == "register"
    assert "input frame" in meta["lineage"]["data_keys"]
    requirements = (folder / "requirements.txt").read_text().split()
    assert f"scikit-learn=={original.libraries['scikit-learn']}" in requirements
    card = (folder / "README.md").read_text()
    assert "# iris-test — version 1" in card and "| accuracy |" in card
    assert f"Run {run.pk} of pipeline `registry-iris`" in card and "| C | 0.3 |" in card

    imported = import_version(folder, name="iris-imported")
    assert imported.sha256 == original.sha256 and imported.version == 1
    assert imported.run_id is None and imported.source["original_name"] == "iris-test"
    assert imported.signature == original.signature and imported.metrics == original.metrics
    before = predict("iris-test", _records(), version=1, proba=True)
    after = predict("iris-imported", _records(), version=1, proba=True)
    assert after.predictions == before.predictions
    assert after.probabilities == before.probabilities
    # Importing again under the model's own name makes its next version, same bytes.
    again = import_version(folder)
    assert (again.model.name, again.version, again.sha256) == ("iris-test", 2, original.sha256)


def test_an_import_whose_file_was_modified_is_refused(tmp_path: Path) -> None:
    models.iris_models.run(executor="inline")
    folder = export_version("iris-test", 1, tmp_path / "export")
    artifact = folder / "model.joblib"
    artifact.write_bytes(artifact.read_bytes() + b"\0")
    with pytest.raises(ModelIntegrityError, match=re.escape(str(artifact))):
        import_version(folder, name="copy")
    assert not ModelVersion.objects.filter(model__name="copy").exists()


def test_bad_exports_and_folders_are_refused(tmp_path: Path) -> None:
    models.iris_models.run(executor="inline")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    with pytest.raises(RegistryError, match="not an empty folder"):
        export_version("iris-test", 1, busy)
    assert sorted(p.name for p in busy.iterdir()) == ["keep.txt"]
    with pytest.raises(RegistryError, match=r"no model\.json"):
        import_version(busy)
    folder = export_version("iris-test", 1, tmp_path / "export")
    meta = json.loads((folder / "model.json").read_text())
    (folder / "model.json").write_text(json.dumps({**meta, "format": "../../etc/passwd"}))
    with pytest.raises(RegistryError, match="unknown model format"):
        import_version(folder)
    (folder / "model.json").write_text("{not json")
    with pytest.raises(RegistryError, match="cannot be read"):
        import_version(folder)


def test_reproducing_an_example_pipelines_version_is_byte_identical() -> None:
    showcase.iris.run(executor="inline")
    result = reproduce_version("iris-classifier", 1)
    assert result.report.run.status == "succeeded"
    assert result.rebuilt is not None and result.rebuilt.version == 2
    assert result.identical, result.differences()
    assert result.differences() == []


def test_reproduce_says_what_differs_when_the_model_changes(tmp_path: Path) -> None:
    models.iris_models.run(executor="inline")
    original = get_version("iris-test", version=1)
    # Pretend the original was registered with other bytes: the rebuild must say so.
    ModelVersion.objects.filter(pk=original.pk).update(sha256="f" * 64)
    result = reproduce_version("iris-test", 1)
    assert not result.identical
    assert any("model artifact differs: ffffffffffff (v1)" in line for line in result.differences())
    imported_version = import_version(export_version("iris-test", 2, tmp_path / "e"), "other")
    with pytest.raises(RegistryError, match="no run to reproduce"):
        reproduce_version("other", imported_version.version)


def _mlops(*args: str) -> str:
    out = io.StringIO()
    call_command("mlops", *args, stdout=out)
    return out.getvalue()


def test_the_models_command(tmp_path: Path) -> None:
    assert "No registered models" in _mlops("models", "list")
    models.iris_models.run(executor="inline")
    models.iris_models.run(executor="inline", params={"C": 0.1})
    assert "iris-test@production -> v1." in _mlops(
        "models", "promote", "iris-test", "production", "--version", "1", "--comment", "ok"
    )
    moved = _mlops("models", "promote", "iris-test", "production", "--version", "2")
    assert "-> v2 (was v1)" in moved
    listing = _mlops("models", "list")
    assert "iris-test" in listing and "production=v2" in listing
    versions = _mlops("models", "list", "iris-test").splitlines()
    assert versions[0].split() == [
        "VERSION", "REGISTERED", "FORMAT", "SHA-256", "RUN", "METRICS", "ALIASES"
    ]  # fmt: skip
    assert versions[1].startswith("v2") and versions[1].endswith("production")
    assert AliasChange.objects.filter(comment="ok").count() == 1
    exported = _mlops("models", "export", "iris-test", "--version", "2", str(tmp_path / "e"))
    assert "model.joblib" in exported
    assert "as copy v1" in _mlops("models", "import", str(tmp_path / "e"), "--name", "copy")
    with pytest.raises(CommandError, match="has no version 9"):
        _mlops("models", "promote", "iris-test", "production", "--version", "9")
    with pytest.raises(CommandError, match="no registered model named 'nope'"):
        _mlops("models", "list", "nope")
    with pytest.raises(CommandError, match=r"no model\.json"):
        _mlops("models", "import", str(tmp_path))
