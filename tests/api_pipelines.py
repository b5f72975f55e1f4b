"""Pipelines the API tests run and queue (registered on import, defined at module level)."""

from __future__ import annotations

from django_mlops import Param, Pipeline, log_metrics

api_iris = Pipeline(
    "api_iris",
    description="A small deterministic pipeline for the API tests",
    params={"C": Param(1.0, minimum=0.0, help="strength"), "seed": 0},
)


@api_iris.node(outputs="frame", tags=["data"])
def load() -> list[list[float]]:
    """Load rows."""
    print("loading rows")
    return [[float(i), float(i % 3)] for i in range(12)]


@api_iris.node(inputs=["frame", "params:C"], outputs="model")
def fit(frame: list[list[float]], C: float) -> dict[str, float]:
    return {"weight": C * sum(r[0] for r in frame) / len(frame)}


@api_iris.node(inputs=["model", "frame", "params:seed"], outputs="scores")
def evaluate(model: dict[str, float], frame: list[list[float]], seed: int) -> dict[str, float]:
    scores = {"accuracy": 0.5 + (model["weight"] % 1) / 4, "seed": float(seed)}
    log_metrics(scores)
    return scores


api_iris.concept("explain", inputs=["model"], outputs="report", description="Planned report")


api_broken = Pipeline("api_broken", params={"fail": True})


@api_broken.node(inputs=["params:fail"], outputs="value")
def explode(fail: bool) -> int:
    if fail:
        raise ValueError("exploded on purpose")
    return 1


@api_broken.node(inputs=["value"], outputs="after")
def follow(value: int) -> int:
    return value + 1
