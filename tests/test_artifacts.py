"""The artifact store: serializers, dedup, inline vs storage, integrity, previews."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from django_mlops.artifacts import (
    ArtifactIntegrityError,
    ArtifactStore,
    deserialize,
    serialize,
)
from django_mlops.artifacts.serializers import is_exact_json
from django_mlops.artifacts.store import storage_name_for
from django_mlops.models import Artifact

pytestmark = pytest.mark.django_db


class Point:
    def __init__(self, x: int) -> None:
        self.x = x

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and other.x == self.x


@pytest.mark.parametrize(
    ("value", "serializer"),
    [
        (None, "json"),
        (True, "json"),
        (3, "json"),
        (2.5, "json"),
        ("text", "json"),
        ({"b": [1, 2.0, None], "a": {"c": "d"}}, "json"),
        (b"\x00raw", "bytes"),
        ((1, 2), "joblib"),  # a tuple would come back as a list from JSON
        ({1: "a"}, "joblib"),  # int keys would come back as strings
        ([1, (2, 3)], "joblib"),
        (np.float64(1.5), "joblib"),  # a float subclass: JSON would lose the type
        ({"a", "b"}, "joblib"),
        (Point(3), "joblib"),
    ],
)
def test_round_trip_is_exact(value: object, serializer: str) -> None:
    item = serialize(value)
    assert item.serializer == serializer
    back = deserialize(item.data, item.serializer, item.type_name)
    assert back == value and type(back) is type(value)
    assert item.sha256 == hashlib.sha256(item.data).hexdigest()


def test_json_uses_sorted_keys_so_equal_dicts_share_one_hash() -> None:
    assert serialize({"a": 1, "b": 2}).sha256 == serialize({"b": 2, "a": 1}).sha256
    assert serialize({"b": 1, "a": 2}).data == b'{"a":2,"b":1}'


def test_cycles_are_not_json() -> None:
    loop: list[object] = []
    loop.append(loop)
    assert not is_exact_json(loop)
    assert serialize(loop).serializer == "joblib"


def test_numpy_arrays_use_npy_and_object_arrays_fall_back() -> None:
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    item = serialize(array)
    assert item.serializer == "npy"
    back = deserialize(item.data, "npy")
    assert back.dtype == np.float32 and np.array_equal(back, array)
    assert serialize(np.array([{"a": 1}], dtype=object)).serializer == "joblib"


def test_dataframes_and_series_use_parquet() -> None:
    frame = pd.DataFrame({"x": [1, 2, 3], "label": ["a", "b", "c"]}, index=[10, 20, 30])
    item = serialize(frame)
    assert item.serializer == "parquet"
    pd.testing.assert_frame_equal(deserialize(item.data, "parquet", item.type_name), frame)
    for name in ("price", None):
        series = pd.Series([1.5, 2.5], name=name)
        stored = serialize(series)
        assert stored.serializer == "parquet"
        pd.testing.assert_series_equal(
            deserialize(stored.data, "parquet", stored.type_name), series
        )
    # Integer column names would come back as strings from Parquet.
    assert serialize(pd.DataFrame({0: [1]})).serializer == "joblib"


def test_put_dedups_and_get_verifies(tmp_mlops_home: Path) -> None:
    store = ArtifactStore()
    first = store.put({"accuracy": 0.9})
    again = store.put({"accuracy": 0.9})
    assert first.pk == again.pk and Artifact.objects.count() == 1
    assert first.data is not None and first.storage_name == ""
    assert store.get(first.sha256) == {"accuracy": 0.9}
    assert store.get(first) == {"accuracy": 0.9}


def test_big_payloads_go_to_storage_under_a_hash_name(tmp_mlops_home: Path) -> None:
    store = ArtifactStore()
    array = np.arange(100_000, dtype=np.int64)
    artifact = store.put(array)
    assert artifact.data is None
    assert artifact.storage_name == storage_name_for(artifact.sha256, "npy")
    sha = artifact.sha256
    assert artifact.storage_name == f"{sha[:2]}/{sha[2:4]}/{sha}.npy"
    assert (tmp_mlops_home / "artifacts" / artifact.storage_name).is_file()
    assert np.array_equal(store.get(sha), array)


def test_inline_threshold_setting(tmp_mlops_home: Path) -> None:
    from django.test import override_settings

    with override_settings(MLOPS={"HOME": str(tmp_mlops_home), "INLINE_ARTIFACT_MAX_BYTES": 0}):
        artifact = ArtifactStore().put("tiny")
    assert artifact.data is None and artifact.storage_name.endswith(".json")


def test_storage_names_never_come_from_user_input() -> None:
    with pytest.raises(ValueError):
        storage_name_for("../../etc/passwd", "json")
    with pytest.raises(ValueError):
        storage_name_for("A" * 64, "json")


def test_tampered_file_is_refused_naming_the_artifact(tmp_mlops_home: Path) -> None:
    store = ArtifactStore()
    artifact = store.put(np.ones(50_000))
    path = tmp_mlops_home / "artifacts" / artifact.storage_name
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError) as info:
        store.get(artifact.sha256)
    assert artifact.sha256 in str(info.value) and artifact.storage_name in str(info.value)


def test_missing_file_is_refused(tmp_mlops_home: Path) -> None:
    store = ArtifactStore()
    artifact = store.put(np.ones(50_000))
    (tmp_mlops_home / "artifacts" / artifact.storage_name).unlink()
    with pytest.raises(ArtifactIntegrityError, match="missing"):
        store.get(artifact)


def test_tampered_inline_bytes_are_refused(tmp_mlops_home: Path) -> None:
    store = ArtifactStore()
    artifact = store.put({"n": 27})
    Artifact.objects.filter(pk=artifact.pk).update(data=b'{"n":28}')
    with pytest.raises(ArtifactIntegrityError, match=artifact.sha256):
        store.get(artifact.sha256)
    with pytest.raises(ArtifactIntegrityError):  # the row put() returns is read from the DB
        store.get(store.put({"n": 27}))


def test_a_corrupt_leftover_file_is_replaced_not_trusted(tmp_mlops_home: Path) -> None:
    item = serialize(np.zeros(50_000))
    store = ArtifactStore()
    name = storage_name_for(item.sha256, "npy")
    leftover = tmp_mlops_home / "artifacts" / name
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half-written")
    artifact = store.save_many([item])[0]
    assert artifact.storage_name == name
    assert np.array_equal(store.get(artifact), np.zeros(50_000))


def test_save_many_writes_each_content_once(
    tmp_mlops_home: Path, django_assert_max_num_queries: object
) -> None:
    store = ArtifactStore()
    store.put("already")
    items = [serialize(v) for v in ("already", "new", "new", 1, 2)]
    with django_assert_max_num_queries(3):  # type: ignore[operator]
        saved = store.save_many(items)
    assert [a.sha256 for a in saved] == [i.sha256 for i in items]
    assert saved[1].pk == saved[2].pk
    assert Artifact.objects.count() == 4


def test_put_file_streams_big_files(tmp_mlops_home: Path, tmp_path: Path) -> None:
    small = tmp_path / "notes.txt"
    small.write_text("hello")
    big = tmp_path / "blob.bin"
    big.write_bytes(bytes(range(256)) * 1000)
    store = ArtifactStore()
    a = store.put_file(small)
    b = store.put_file(big)
    assert store.get(a) == b"hello" and a.preview["head"] == "hello"
    assert b.data is None and store.get(b) == big.read_bytes()
    assert store.put_file(big).pk == b.pk


def test_previews() -> None:
    frame = pd.DataFrame({"x": range(10), "y": [0.5] * 10})
    preview = serialize(frame).preview
    assert preview["kind"] == "dataframe" and preview["shape"] == [10, 2]
    assert preview["dtypes"] == {"x": "int64", "y": "float64"}
    assert len(preview["head"]["data"]) == 5 and "mean" in preview["describe"]["index"]
    array = serialize(np.array([1.0, 2.0, np.nan])).preview
    assert array["shape"] == [3] and array["min"] == "nan"  # JSON-safe, not NaN
    estimator = serialize(LogisticRegression(C=0.5)).preview
    assert estimator["class"] == "LogisticRegression" and estimator["params"]["C"] == 0.5
    assert serialize({"k": "v" * 1000}).preview["values"]["k"].endswith("…")
    assert serialize(3).preview == {"kind": "int", "repr": "3"}


def test_preview_is_stored_as_json(tmp_mlops_home: Path) -> None:
    artifact = ArtifactStore().put(pd.DataFrame({"t": pd.to_datetime(["2024-01-01"])}))
    assert Artifact.objects.get(pk=artifact.pk).preview["head"]["data"] == [
        ["2024-01-01T00:00:00.000"]
    ]
