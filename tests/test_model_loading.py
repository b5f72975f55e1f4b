"""Verified loading: tampered files refused by name, skops' trusted types, version warnings."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from django_mlops.artifacts import ArtifactStore
from django_mlops.models import ModelVersion
from django_mlops.registry import (
    ModelCache,
    ModelIntegrityError,
    ModelVersionWarning,
    get_version,
    load_model,
)
from tests import registry_pipelines as models

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]

TREE = "sklearn.tree._tree.Tree"


def _mlops(**values: object) -> dict[str, object]:
    return {**settings.MLOPS, **values}


def test_a_modified_artifact_file_is_refused_naming_it() -> None:
    with override_settings(MLOPS=_mlops(INLINE_ARTIFACT_MAX_BYTES=0)):
        models.iris_models.run(executor="inline")
        version = get_version("iris-test")
        assert version.artifact.storage_name and version.artifact.data is None
        path = Path(ArtifactStore().storage.path(version.artifact.storage_name))
        assert load_model("iris-test", version=1).predict(models.iris_frame().iloc[:2, :4])[0] == 0
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF  # one flipped byte
        path.write_bytes(bytes(data))
        with pytest.raises(ModelIntegrityError) as info:
            load_model("iris-test", version=1)
        message = str(info.value)
        assert str(path) in message and version.sha256 in message
        assert "model 'iris-test' version 1" in message and "refused" in message
        path.unlink()
        with pytest.raises(ModelIntegrityError, match="bytes missing"):
            ModelCache().get("iris-test", version=1)


def test_a_modified_inline_artifact_is_refused() -> None:
    models.iris_models.run(executor="inline")
    version = get_version("iris-test")
    artifact = version.artifact
    assert artifact.data is not None  # small enough to be kept in its row
    artifact.data = bytes(artifact.data)[:-1] + b"\x00"
    artifact.save(update_fields=["data"])
    with pytest.raises(ModelIntegrityError, match=f"Artifact row {artifact.pk}"):
        load_model("iris-test")


def test_a_version_whose_recorded_hash_differs_from_its_artifact_is_refused() -> None:
    models.iris_models.run(executor="inline")
    ModelVersion.objects.update(sha256="0" * 64)
    with pytest.raises(ModelIntegrityError, match="recorded 0000"):
        load_model("iris-test")


def test_skops_is_used_where_the_types_allow(caplog: pytest.LogCaptureFixture) -> None:
    with override_settings(MLOPS=_mlops(MODEL_FORMAT="skops")):
        models.iris_models.run(executor="inline")
        assert get_version("iris-test").format == "skops"
        assert load_model("iris-test").predict(models.iris_frame().iloc[:1, :4])[0] == 0
        # A forest needs a type skops does not trust by default: joblib, with the reason.
        with caplog.at_level(logging.WARNING, logger="django_mlops.registry"):
            models.forest_models.run(executor="inline")
        assert get_version("iris-forest").format == "joblib"
        assert TREE in caplog.text and "SKOPS_TRUSTED_TYPES" in caplog.text
    with override_settings(MLOPS=_mlops(MODEL_FORMAT="skops", SKOPS_TRUSTED_TYPES=[TREE])):
        models.forest_models.run(executor="inline", no_cache=True)
        forest = get_version("iris-forest")
        assert (forest.version, forest.format) == (2, "skops")
        assert len(load_model("iris-forest").estimators_) == 30


def test_skops_trusted_types_come_from_the_settings_not_the_artifact() -> None:
    with override_settings(MLOPS=_mlops(MODEL_FORMAT="skops", SKOPS_TRUSTED_TYPES=[TREE])):
        models.forest_models.run(executor="inline")
    assert get_version("iris-forest").format == "skops"
    # The loading installation does not trust the type, whatever the file asks for.
    with pytest.raises(ModelIntegrityError, match=f"does not trust: {TREE}"):
        load_model("iris-forest")


def test_a_different_library_version_warns() -> None:
    models.iris_models.run(executor="inline")
    version = get_version("iris-test")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model("iris-test")  # trained here: no warning
    libraries = {**version.libraries, "scikit-learn": "0.24.2", "python": "3.8.10"}
    ModelVersion.objects.filter(pk=version.pk).update(libraries=libraries)
    with pytest.warns(ModelVersionWarning, match=r"scikit-learn 0\.24\.2 \(installed: 1\.") as seen:
        loaded = ModelCache().get("iris-test", version=1)
    assert "python 3.8.10" in str(seen[0].message)
    assert set(loaded.mismatches) == {"scikit-learn", "python"}
