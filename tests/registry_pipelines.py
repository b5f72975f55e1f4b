"""Pipelines that register real scikit-learn models, for the registry tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge

from django_mlops import Pipeline, log_metric, register_model

FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


def iris_frame() -> pd.DataFrame:
    return load_iris(as_frame=True).frame


def features(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns="target")


def fit_logistic(frame: pd.DataFrame, C: float) -> Any:
    return LogisticRegression(C=C, max_iter=500).fit(features(frame), frame["target"])


def register_logistic(model: Any, frame: pd.DataFrame) -> float:
    accuracy = float(model.score(features(frame), frame["target"]))
    log_metric("accuracy", accuracy)
    register_model("iris-test", model, sample_input=features(frame).head(5), description="test")
    return accuracy


iris_models = Pipeline("registry-iris", params={"C": 1.0})
iris_models.node(outputs="frame", name="load")(iris_frame)
iris_models.node(inputs=["frame", "params:C"], outputs="model", name="fit")(fit_logistic)
iris_models.node(inputs=["model", "frame"], outputs="accuracy", name="register")(register_logistic)


def fit_forest(frame: pd.DataFrame) -> Any:
    forest = RandomForestClassifier(n_estimators=30, random_state=0)
    return forest.fit(features(frame), frame["target"])


def register_forest(frame: pd.DataFrame) -> int:
    model = fit_forest(frame)
    register_model("iris-forest", model, sample_input=features(frame).head(3))
    return len(model.estimators_)


forest_models = Pipeline("registry-forest")
forest_models.node(outputs="frame", name="load")(iris_frame)
forest_models.node(inputs=["frame"], outputs="trees", name="register")(register_forest)


def register_then_fail(frame: pd.DataFrame) -> int:
    register_model("never-registered", fit_logistic(frame, 1.0), sample_input=features(frame))
    raise RuntimeError("the node fails after registering")


failing_models = Pipeline("registry-failing")
failing_models.node(outputs="frame", name="load")(iris_frame)
failing_models.node(inputs=["frame"], outputs="nothing", name="register")(register_then_fail)


def register_array_model() -> list[float]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.1
    model = Ridge(alpha=0.1).fit(x, y)
    register_model("array-ridge", model, sample_input=x[:2])
    return [float(c) for c in model.coef_]


array_models = Pipeline("registry-array")
array_models.node(outputs="coef", name="register")(register_array_model)


#: One iris flower, as the endpoints' and pages' tests send it.
RECORD = dict(zip(FEATURES, [5.1, 3.5, 1.4, 0.2], strict=True))


def register_iris_versions() -> list[int]:
    """Run ``iris_models`` twice: iris-test versions 1 (C=1) and 2 (C=0.1); the runs' ids."""
    runs = [
        iris_models.run(executor="inline"),
        iris_models.run(executor="inline", params={"C": 0.1}),
    ]
    assert all(run.status == "succeeded" for run in runs), [run.error for run in runs]
    return [run.pk for run in runs]
