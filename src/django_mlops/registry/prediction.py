"""``predict``: a batch of records checked against the signature, answered by one version."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from .cache import ModelCache, model_cache
from .errors import FieldError, InputValidationError
from .signature import validate_inputs

__all__ = ["Prediction", "predict"]


@dataclass(frozen=True, slots=True)
class Prediction:
    """What a prediction answered, and which version answered it."""

    model: str
    version: int
    predictions: list[Any]
    #: With ``proba``: one {class: probability} per record.
    probabilities: list[dict[str, float]] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The response body: ``{"model", "version", "predictions"}`` (+ ``probabilities``)."""
        body = self.response_body()
        if body["probabilities"] is None:
            del body["probabilities"]
        return body

    def response_body(self) -> dict[str, Any]:
        """The REST answer of both endpoints; ``probabilities`` is null without proba."""
        return {
            "model": self.model,
            "version": self.version,
            "predictions": self.predictions,
            "probabilities": self.probabilities,
        }

    def as_json(self) -> bytes:
        """:meth:`response_body` as JSON, serialized once from the plain values ``predict`` made.

        The endpoints send these bytes as they are instead of validating the body
        again against the response schema it was built to fit.
        """
        return json.dumps(self.response_body(), separators=(",", ":")).encode()


def _plain(values: Any) -> list[Any]:
    """Model outputs as JSON-ready Python values."""
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    array = np.asarray(values)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        # JSON has no NaN: a missing prediction is null.
        return [None if not np.isfinite(v) else float(v) for v in array.ravel()]
    return list(array.tolist())


def predict(
    name: str,
    records: Any,
    *,
    alias: str | None = None,
    version: int | None = None,
    proba: bool = False,
    cache: ModelCache | None = None,
) -> Prediction:
    """Predict ``records`` (a list of {field: value}) with a version of model ``name``.

    ``version`` or ``alias`` (default ``production``) chooses the version. The
    records are checked against its signature first: any missing, extra or
    mistyped field, or a wrong shape, raises one InputValidationError with every
    problem. ``proba`` adds class probabilities (classifiers only).

    >>> predict("iris-classifier", [{"sepal length (cm)": 5.1, ...}])  # doctest: +SKIP
    Prediction(model='iris-classifier', version=3, predictions=[0], probabilities=None)
    """
    loaded = (cache or model_cache).get(name, alias=alias, version=version)
    model = loaded.model
    if proba and not hasattr(model, "predict_proba"):
        raise InputValidationError(
            [
                FieldError(
                    None,
                    None,
                    f"model '{name}' version {loaded.version} gives no probabilities "
                    "(not a classifier)",
                    "proba",
                    body_field="proba",
                )
            ]
        )
    inputs = validate_inputs(loaded.signature, records, loaded.inputs)
    predictions = _plain(model.predict(inputs))
    probabilities = None
    if proba:
        classes = [str(c) for c in np.asarray(model.classes_).tolist()]
        rows = np.asarray(model.predict_proba(inputs)).tolist()
        probabilities = [dict(zip(classes, row, strict=True)) for row in rows]
    return Prediction(loaded.name, loaded.version, predictions, probabilities)
