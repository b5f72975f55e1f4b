"""The demo's pipelines, on scikit-learn's bundled datasets (nothing is downloaded).

- ``iris``: classification with logistic regression, and a planned ``explain`` step.
- ``diabetes``: regression, feature engineering, ridge against gradient boosting.
- ``digits``: a hyperparameter sweep of 24 SVC training nodes, model selection on
  the validation scores, and a final evaluation on held-out data.

Every random choice takes a seed from the params, so a re-run (``mlops reproduce``)
gives byte-identical outputs. Node functions are plain functions: the tests call
them directly.
"""

from __future__ import annotations

import itertools
import math
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import load_diabetes, load_digits, load_iris
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import f1_score, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from django_mlops import Pipeline, log_metric, log_metrics, log_param, register_model

TARGET = "target"


def features_and_target(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Split a frame with a ``target`` column into (X, y)."""
    return frame.drop(columns=TARGET), frame[TARGET]


def classification_scores(model: Any, test: pd.DataFrame) -> dict[str, float]:
    """Accuracy and macro-averaged F1 of a classifier on ``test``."""
    x, y = features_and_target(test)
    predicted = model.predict(x)
    return {
        "accuracy": float(np.mean(predicted == y.to_numpy())),
        "f1": float(f1_score(y, predicted, average="macro")),
    }


def regression_scores(model: Any, test: pd.DataFrame) -> dict[str, float]:
    """RMSE and R² of a regressor on ``test``."""
    x, y = features_and_target(test)
    predicted = model.predict(x)
    return {
        "rmse": float(math.sqrt(mean_squared_error(y, predicted))),
        "r2": float(r2_score(y, predicted)),
    }


# --- iris: classification ---------------------------------------------------------------

iris = Pipeline(
    "iris",
    description="Classify iris species with logistic regression",
    params={"C": 1.0, "test_size": 0.25, "seed": 0},
    metrics={"accuracy": "maximize", "f1": "maximize"},
)


@iris.node(outputs="frame", tags="data")
def load() -> pd.DataFrame:
    """The 150 iris flowers: four measurements and the species code."""
    return load_iris(as_frame=True).frame


@iris.node(inputs=["frame", "params:test_size", "params:seed"], outputs=["train", "test"])
def split(frame: pd.DataFrame, test_size: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified train/test split, so every species is in both halves."""
    train, test = train_test_split(
        frame, test_size=test_size, random_state=seed, stratify=frame[TARGET]
    )
    return train, test


@iris.node(inputs=["train", "params:C"], outputs="model", retries=2, tags="model")
def fit(train: pd.DataFrame, C: float) -> Any:
    """Logistic regression on standardised measurements."""
    x, y = features_and_target(train)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))
    return model.fit(x, y)


@iris.node(inputs=["model", "test"], outputs="scores")
def evaluate(model: Any, test: pd.DataFrame) -> dict[str, float]:
    """Accuracy and macro F1 on the held-out flowers; the model is registered with them."""
    scores = classification_scores(model, test)
    log_metrics(scores)
    register_model(
        "iris-classifier",
        model,
        sample_input=test.drop(columns=TARGET),
        description="Iris species from the four measurements (logistic regression)",
    )
    return scores


iris.concept(
    "explain",
    inputs=["model", "test"],
    outputs="report",
    description="SHAP report for the risk team (planned)",
)


# --- diabetes: regression ---------------------------------------------------------------

diabetes = Pipeline(
    "diabetes",
    description="Predict disease progression: ridge regression against gradient boosting",
    params={
        "alpha": 1.0,
        "n_estimators": 150,
        "learning_rate": 0.05,
        "max_depth": 3,
        "test_size": 0.25,
        "seed": 0,
    },
    # Which way is better, for comparing runs (rmse would be guessed; r2 is declared).
    metrics={"*rmse": "minimize", "*r2": "maximize"},
)

# Pairs whose product is a feature: BMI, blood pressure and the s5 serum
# measurement (log triglycerides) carry most of the signal, and interact.
INTERACTIONS = (("bmi", "bp"), ("bmi", "s5"), ("bp", "s5"))
SQUARED = ("bmi", "s5")


@diabetes.node(name="load", outputs="raw", tags="data")
def load_diabetes_frame() -> pd.DataFrame:
    """442 patients: ten baseline measurements and progression after one year."""
    return load_diabetes(as_frame=True).frame


@diabetes.node(inputs="raw", outputs="features")
def engineer_features(raw: pd.DataFrame) -> pd.DataFrame:
    """Add pairwise interactions and squares of the strongest measurements."""
    frame = raw.copy()
    for left, right in INTERACTIONS:
        frame[f"{left}_x_{right}"] = frame[left] * frame[right]
    for column in SQUARED:
        frame[f"{column}_sq"] = frame[column] ** 2
    # Keep the target last, as the bundled frame has it.
    return frame[[c for c in frame.columns if c != TARGET] + [TARGET]]


@diabetes.node(
    name="split",
    inputs=["features", "params:test_size", "params:seed"],
    outputs=["train", "test"],
)
def split_patients(
    features: pd.DataFrame, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random train/test split of the patients."""
    train, test = train_test_split(features, test_size=test_size, random_state=seed)
    return train, test


@diabetes.node(inputs=["train", "params:alpha"], outputs="ridge", tags="model")
def fit_ridge(train: pd.DataFrame, alpha: float) -> Any:
    """Ridge regression on standardised features."""
    x, y = features_and_target(train)
    return make_pipeline(StandardScaler(), Ridge(alpha=alpha)).fit(x, y)


@diabetes.node(
    inputs=[
        "train",
        "params:n_estimators",
        "params:learning_rate",
        "params:max_depth",
        "params:seed",
    ],
    outputs="boosting",
    tags="model",
)
def fit_boosting(
    train: pd.DataFrame, n_estimators: int, learning_rate: float, max_depth: int, seed: int
) -> Any:
    """Gradient-boosted trees; subsampling makes the seed matter, so it is a param."""
    x, y = features_and_target(train)
    model = GradientBoostingRegressor(
        n_estimators=n_estimators,
        learning_rate=learning_rate,
        max_depth=max_depth,
        subsample=0.8,
        random_state=seed,
    )
    return model.fit(x, y)


@diabetes.node(inputs=["ridge", "test"], outputs="ridge_scores")
def evaluate_ridge(ridge: Any, test: pd.DataFrame) -> dict[str, float]:
    """RMSE and R² of the ridge model on the test patients."""
    scores = regression_scores(ridge, test)
    log_metrics({f"ridge_{key}": value for key, value in scores.items()})
    register_model(
        "diabetes-ridge",
        ridge,
        sample_input=test.drop(columns=TARGET),
        metrics=scores,
        description="Disease progression after one year (ridge regression)",
    )
    return scores


@diabetes.node(inputs=["boosting", "test"], outputs="boosting_scores")
def evaluate_boosting(boosting: Any, test: pd.DataFrame) -> dict[str, float]:
    """RMSE and R² of the boosted trees on the test patients."""
    scores = regression_scores(boosting, test)
    log_metrics({f"boosting_{key}": value for key, value in scores.items()})
    return scores


@diabetes.node(inputs=["ridge_scores", "boosting_scores"], outputs="comparison")
def compare(ridge_scores: dict[str, float], boosting_scores: dict[str, float]) -> dict[str, Any]:
    """The model with the lower test RMSE, and its scores."""
    candidates = {"ridge": ridge_scores, "boosting": boosting_scores}
    best = min(candidates, key=lambda name: candidates[name]["rmse"])
    log_param("best_model", best)
    log_metrics(candidates[best])
    return {"best": best, **candidates[best]}


# --- digits: a hyperparameter sweep -----------------------------------------------------

digits = Pipeline(
    "digits",
    description="Recognise handwritten digits: an SVC grid search, then the best on test data",
    params={"test_size": 0.2, "val_size": 0.25, "seed": 0},
    metrics={"val_accuracy/*": "maximize", "best_val_accuracy": "maximize", "accuracy": "maximize"},
)

# 4 x 6 = 24 training nodes, one per grid point.
C_GRID = (0.3, 1.0, 3.0, 10.0)
GAMMA_GRID = (0.0001, 0.0003, 0.001, 0.002, 0.005, 0.01)


def candidate_label(C: float, gamma: float) -> str:
    """The node name of one grid point, e.g. ``svc_C3_gamma0.001``."""
    return f"svc_C{C:g}_gamma{gamma:g}"


@digits.node(name="load", outputs="frame", tags="data")
def load_digits_frame() -> pd.DataFrame:
    """1,797 images of 8x8 pixels (64 columns) and the digit shown."""
    return load_digits(as_frame=True).frame


@digits.node(
    name="split",
    inputs=["frame", "params:test_size", "params:val_size", "params:seed"],
    outputs=["train", "val", "test"],
)
def split_images(
    frame: pd.DataFrame, test_size: float, val_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Stratified train/validation/test split; ``val_size`` is a share of what is not test."""
    rest, test = train_test_split(
        frame, test_size=test_size, random_state=seed, stratify=frame[TARGET]
    )
    train, val = train_test_split(
        rest, test_size=val_size, random_state=seed, stratify=rest[TARGET]
    )
    return train, val, test


def train_candidate(
    train: pd.DataFrame,
    val: pd.DataFrame,
    C: float,
    gamma: float,
) -> dict[str, float]:
    """Fit an RBF SVC at one grid point and score it on the validation images."""
    x, y = features_and_target(train)
    model = SVC(C=C, gamma=gamma).fit(x, y)
    accuracy = classification_scores(model, val)["accuracy"]
    log_metric(f"val_accuracy/{candidate_label(C, gamma)}", accuracy)
    return {"C": C, "gamma": gamma, "val_accuracy": accuracy}


CANDIDATES = [candidate_label(C, gamma) for C, gamma in itertools.product(C_GRID, GAMMA_GRID)]

for _C, _gamma in itertools.product(C_GRID, GAMMA_GRID):
    # A partial of a module-level function: picklable by reference for the
    # processes executor, and its bound C/gamma are part of the node's code hash.
    digits.node(
        name=candidate_label(_C, _gamma),
        inputs=["train", "val"],
        outputs=f"score_{candidate_label(_C, _gamma)}",
        description=f"RBF SVC with C={_C:g}, gamma={_gamma:g}",
        tags="sweep",
    )(partial(train_candidate, C=_C, gamma=_gamma))


@digits.node(inputs=[f"score_{label}" for label in CANDIDATES], outputs="best")
def select_best(*candidates: dict[str, float]) -> dict[str, float]:
    """The grid point with the best validation accuracy (ties: the smaller C, then gamma)."""
    best = max(candidates, key=lambda c: (c["val_accuracy"], -c["C"], -c["gamma"]))
    log_param("best_C", best["C"])
    log_param("best_gamma", best["gamma"])
    log_metric("best_val_accuracy", best["val_accuracy"])
    return dict(best)


@digits.node(name="evaluate", inputs=["train", "val", "test", "best"], outputs=["model", "scores"])
def evaluate_best(
    train: pd.DataFrame, val: pd.DataFrame, test: pd.DataFrame, best: dict[str, float]
) -> tuple[Any, dict[str, float]]:
    """Refit the chosen grid point on train + validation, score it once on the test images."""
    x, y = features_and_target(pd.concat([train, val]))
    model = SVC(C=best["C"], gamma=best["gamma"]).fit(x, y)
    scores = classification_scores(model, test)
    log_metrics(scores)
    register_model(
        "digits-svc",
        model,
        sample_input=test.drop(columns=TARGET),
        description="Handwritten digits from 8x8 images (SVC, the best grid point)",
    )
    return model, scores
