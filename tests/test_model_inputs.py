"""All-float batches reach a model as a pyarrow Table only where a probe at load proves it safe."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.conf import settings
from django.test import override_settings
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from django_mlops import register_model
from django_mlops.models import Run
from django_mlops.registry import ModelCache, predict
from django_mlops.registry.inputs import input_builder
from django_mlops.registry.signature import validate_inputs

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]

COLUMNS = [f"f{i}" for i in range(4)]


def _frame() -> tuple[pd.DataFrame, np.ndarray]:
    x, y = make_classification(n_samples=200, n_features=4, n_informative=3, n_redundant=0)
    return pd.DataFrame(x, columns=COLUMNS), y


def doubled_through_pandas(frame: Any) -> Any:
    """A transformer step written for DataFrames: a pyarrow Table has no ``to_numpy``."""
    return frame.to_numpy() * 2.0


def halved_quietly_with_a_warning(frame: Any) -> Any:
    """Works on both, but warns for anything that is not a DataFrame."""
    if not isinstance(frame, pd.DataFrame):
        warnings.warn("expected a DataFrame", UserWarning, stacklevel=2)
    return np.asarray(frame) / 2.0


def _registered(name: str, model: Any, sample: pd.DataFrame) -> ModelCache:
    run = Run.objects.create(pipeline="inputs", status="succeeded")
    register_model(name, model, sample_input=sample.head(), run=run)
    return ModelCache()


def test_a_plain_estimator_gets_a_table_and_the_same_answers() -> None:
    frame, labels = _frame()
    model = LogisticRegression().fit(frame, labels)
    cache = _registered("plain", model, frame)
    loaded = cache.get("plain", version=1)
    assert loaded.inputs is not None and loaded.inputs.arrow
    records = frame.iloc[:50].to_dict("records")
    answer = predict("plain", records, version=1, proba=True, cache=cache)
    # The DataFrame these records made before the Table existed: the answers are the same
    # bits (a slice of the training frame differs from both in the last digit, as its
    # memory layout does).
    before = validate_inputs(loaded.signature, records)
    assert isinstance(before, pd.DataFrame)
    assert answer.predictions == model.predict(before).tolist()
    expected = model.predict_proba(before)
    got = np.array([[row[str(c)] for c in model.classes_] for row in answer.probabilities or []])
    assert np.array_equal(got, expected)


def test_a_model_that_needs_pandas_keeps_a_dataframe() -> None:
    frame, labels = _frame()
    model = make_pipeline(FunctionTransformer(doubled_through_pandas), LogisticRegression())
    model.fit(frame, labels)
    cache = _registered("pandas-only", model, frame)
    loaded = cache.get("pandas-only", version=1)
    assert loaded.inputs is not None and not loaded.inputs.arrow
    records = frame.iloc[:10].to_dict("records")
    answer = predict("pandas-only", records, version=1, cache=cache)
    assert answer.predictions == model.predict(frame.iloc[:10]).tolist()


def test_a_new_warning_on_a_table_keeps_a_dataframe() -> None:
    frame, labels = _frame()
    model = make_pipeline(FunctionTransformer(halved_quietly_with_a_warning), LogisticRegression())
    model.fit(frame, labels)
    assert not input_builder(model, _signature(), "warns").arrow  # type: ignore[union-attr]


def test_the_setting_turns_the_table_off() -> None:
    frame, labels = _frame()
    model = LogisticRegression().fit(frame, labels)
    with override_settings(MLOPS={**settings.MLOPS, "PREDICT_ARROW_INPUTS": False}):
        builder = input_builder(model, _signature(), "off")
    assert builder is not None and not builder.arrow


def test_other_signatures_have_no_builder() -> None:
    model = LogisticRegression()
    mixed = {
        "kind": "dataframe",
        "columns": [
            {"name": "a", "dtype": "float64", "nullable": False},
            {"name": "b", "dtype": "int64", "nullable": False},
        ],
    }
    assert input_builder(model, mixed, "mixed") is None
    assert (
        input_builder(model, {"kind": "array", "shape": [None, 3], "dtype": "float64"}, "a") is None
    )


def test_the_setting_must_be_a_bool() -> None:
    from django_mlops.checks import check_settings

    with override_settings(MLOPS={**settings.MLOPS, "PREDICT_ARROW_INPUTS": "yes"}):
        assert "django_mlops.E034" in [m.id for m in check_settings()]
    with override_settings(MLOPS={**settings.MLOPS, "PREDICT_ARROW_INPUTS": False}):
        assert "django_mlops.E034" not in [m.id for m in check_settings()]


def _signature() -> dict[str, Any]:
    return {
        "kind": "dataframe",
        "columns": [{"name": c, "dtype": "float64", "nullable": False} for c in COLUMNS],
    }
