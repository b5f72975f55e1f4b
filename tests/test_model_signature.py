"""Signatures inferred from sample inputs, and every way a batch of inputs can be refused."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from django_mlops.registry import InputValidationError, predict, set_alias
from django_mlops.registry.signature import infer_signature, validate_inputs
from tests import registry_pipelines as models

FRAME_SIGNATURE = infer_signature(
    pd.DataFrame(
        {
            "width": [1.5, 2.0],
            "count": np.array([1, 2], dtype="int64"),
            "flag": [True, False],
            "colour": pd.Categorical(["red", "blue"]),
            "when": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "maybe": [1.0, None],
            "label": ["a", "b"],
        }
    )
)
GOOD = {
    "width": 1.0,
    "count": 3,
    "flag": True,
    "colour": "red",
    "when": "2024-03-01T12:00:00",
    "maybe": None,
    "label": "c",
}


def _errors(signature: dict[str, Any], records: Any) -> list[tuple[object, str]]:
    with pytest.raises(InputValidationError) as info:
        validate_inputs(signature, records)
    return [(".".join(map(str, e.loc)), e.code) for e in info.value.errors]


def test_a_dataframe_signature_names_columns_dtypes_and_nulls() -> None:
    columns = {c["name"]: c for c in FRAME_SIGNATURE["columns"]}
    assert FRAME_SIGNATURE["kind"] == "dataframe"
    assert list(columns) == ["width", "count", "flag", "colour", "when", "maybe", "label"]
    assert columns["count"]["dtype"] == "int64" and columns["flag"]["dtype"] == "bool"
    assert columns["colour"]["categories"] == ["blue", "red"]
    assert columns["maybe"]["nullable"] and not columns["width"]["nullable"]


def test_valid_records_build_the_frame_in_signature_order_and_dtypes() -> None:
    shuffled = dict(reversed(list(GOOD.items())))
    frame = validate_inputs(FRAME_SIGNATURE, [shuffled, {**GOOD, "count": 4.0}])
    assert list(frame.columns) == [c["name"] for c in FRAME_SIGNATURE["columns"]]
    assert str(frame["count"].dtype) == "int64" and list(frame["count"]) == [3, 4]
    assert str(frame["flag"].dtype) == "bool"
    assert str(frame["colour"].dtype) == "category"
    assert str(frame["when"].dtype).startswith("datetime64")
    assert np.isnan(frame["maybe"][0])


def test_a_missing_field_is_named() -> None:
    record = {k: v for k, v in GOOD.items() if k != "count"}
    assert _errors(FRAME_SIGNATURE, [GOOD, record]) == [("inputs.1.count", "missing")]


def test_an_extra_field_is_named() -> None:
    assert _errors(FRAME_SIGNATURE, [{**GOOD, "colour2": 1}]) == [("inputs.0.colour2", "extra")]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("width", "wide"),
        ("width", True),
        ("count", 2.5),
        ("count", "3"),
        ("flag", 1),
        ("colour", "green"),
        ("when", "not a date"),
        ("when", 20240101),
        ("width", None),
        ("label", [1, 2]),
        ("width", [1.0]),
    ],
)
def test_a_mistyped_field_is_named(field: str, value: object) -> None:
    assert _errors(FRAME_SIGNATURE, [{**GOOD, field: value}]) == [(f"inputs.0.{field}", "type")]


def test_every_problem_of_a_batch_is_reported_at_once() -> None:
    bad = {**GOOD, "width": "x", "extra": 0}
    del bad["flag"]
    found = _errors(FRAME_SIGNATURE, [GOOD, bad, "not a record"])
    assert found == [
        ("inputs.1.width", "type"),
        ("inputs.1.flag", "missing"),
        ("inputs.1.extra", "extra"),
        ("inputs.2", "type"),
    ]


@pytest.mark.parametrize("records", [[], {"width": 1.0}, "text", None])
def test_a_batch_that_is_not_a_list_of_records_is_refused(records: object) -> None:
    found = _errors(FRAME_SIGNATURE, records)
    assert len(found) == 1 and found[0][0] == "inputs"


ARRAY_SIGNATURE = infer_signature(np.zeros((5, 3), dtype="float32"))


def test_an_array_signature_has_shape_and_dtype() -> None:
    assert ARRAY_SIGNATURE == {"kind": "array", "shape": [None, 3], "dtype": "float32"}
    array = validate_inputs(ARRAY_SIGNATURE, [[1, 2, 3], [4.5, 5, 6]])
    assert array.dtype == np.float32 and array.shape == (2, 3)


@pytest.mark.parametrize(
    ("record", "where", "code"),
    [
        ([1.0, 2.0], "inputs.0", "shape"),
        ([1.0, 2.0, 3.0, 4.0], "inputs.0", "shape"),
        (1.0, "inputs.0", "shape"),
        ({"a": 1}, "inputs.0", "shape"),
        ([1.0, "x", 3.0], "inputs.0.1", "type"),
        ([1.0, [2.0], 3.0], "inputs.0.1", "type"),
    ],
)
def test_a_wrong_array_shape_or_element_is_named(record: object, where: str, code: str) -> None:
    assert _errors(ARRAY_SIGNATURE, [record]) == [(where, code)]


def test_a_nested_array_signature_checks_every_level() -> None:
    signature = infer_signature(np.zeros((2, 2, 2), dtype="int64"))
    assert signature["shape"] == [None, 2, 2]
    assert validate_inputs(signature, [[[1, 2], [3, 4]]]).shape == (1, 2, 2)
    assert _errors(signature, [[[1, 2], [3]]]) == [("inputs.0.1", "shape")]


@pytest.mark.django_db
@pytest.mark.usefixtures("tmp_mlops_home")
def test_predict_checks_the_signature_and_matches_the_model() -> None:
    models.iris_models.run(executor="inline")
    set_alias("iris-test", "production", 1)
    frame = models.iris_frame()
    records = frame.drop(columns="target").iloc[[0, 60, 120]].to_dict("records")
    answer = predict("iris-test", records, proba=True)
    direct = models.fit_logistic(frame, 1.0)
    expected = direct.predict(frame.drop(columns="target").iloc[[0, 60, 120]])
    assert answer.as_dict()["predictions"] == expected.tolist()
    assert (answer.model, answer.version) == ("iris-test", 1)
    assert answer.probabilities is not None and set(answer.probabilities[0]) == {"0", "1", "2"}
    assert sum(answer.probabilities[0].values()) == pytest.approx(1.0)
    with pytest.raises(InputValidationError) as info:
        predict("iris-test", [{**records[0], "petal width (cm)": "wide"}])
    assert info.value.by_field() == {
        "inputs.0.petal width (cm)": ["expected a number, got string 'wide'"]
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("tmp_mlops_home")
def test_probabilities_of_a_regressor_are_refused_on_the_proba_field() -> None:
    models.array_models.run(executor="inline")
    answer = predict("array-ridge", [[1.0, 0.0, 0.0]], version=1)
    assert answer.predictions == [pytest.approx(1.1, abs=0.1)]
    with pytest.raises(InputValidationError) as info:
        predict("array-ridge", [[1.0, 0.0, 0.0]], version=1, proba=True)
    assert [e.loc for e in info.value.errors] == [["proba"]]
    with pytest.raises(InputValidationError) as shape:
        predict("array-ridge", [[1.0, 0.0]], version=1)
    assert shape.value.as_dicts()[0]["loc"] == ["inputs", 0]


FLOAT_SIGNATURE = infer_signature(pd.DataFrame({"a": [0.5, 1.5], "b": [2.0, 3.0]}))


def test_all_float_records_build_the_same_frame_as_the_per_value_check() -> None:
    records = [{"a": 1, "b": 2.5}, {"b": -1e300, "a": 0.25}]
    frame = validate_inputs(FLOAT_SIGNATURE, records)
    assert list(frame.columns) == ["a", "b"] and list(frame.dtypes) == ["float64"] * 2
    assert frame.to_dict("records") == [{"a": 1.0, "b": 2.5}, {"a": 0.25, "b": -1e300}]


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"a": True, "b": 1.0}, [("0.a", "type")]),
        ({"a": "1.0", "b": 1.0}, [("0.a", "type")]),
        ({"a": None, "b": 1.0}, [("0.a", "type")]),
        ({"a": 1e400, "b": 1.0}, [("0.a", "type")]),  # JSON's 1e400 parses to inf
        ({"a": 10**400, "b": 1.0}, [("0.a", "type")]),
        ({"a": 1.0}, [("0.b", "missing")]),
        ({"a": 1.0, "b": 2.0, "c": 3.0}, [("0.c", "extra")]),
        ({"a": 1.0, "c": 3.0}, [("0.b", "missing"), ("0.c", "extra")]),
    ],
)
def test_an_all_float_batch_with_a_problem_is_refused_like_any_other(
    record: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    good = {"a": 0.0, "b": 0.0}
    assert _errors(FLOAT_SIGNATURE, [good, record]) == [
        ("inputs." + loc.replace("0.", "1.", 1), code) for loc, code in expected
    ]
