"""Pipelines the website tests show, run and break (imported by the web tests)."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from django_mlops import Param, Pipeline, log_metrics

web_demo = Pipeline(
    "web_demo",
    description="Scores a toy model for the website tests",
    params={
        "C": Param(1.0, minimum=0.0, help="inverse regularisation strength"),
        "solver": Param("lbfgs", choices=["lbfgs", "saga"]),
        "scale": True,
        "seed": 0,
    },
)


@web_demo.node(outputs="frame", tags=["data"])
def load():
    """Make the rows."""
    import numpy as np

    print("loading 12 rows")
    return np.arange(12.0).reshape(6, 2)


@web_demo.node(inputs=["frame", "params:C", "params:seed"], outputs="model")
def fit(frame, C, seed):
    """Fit the toy model."""
    logging.getLogger("web_demo").warning("fitting with C=%s", C)
    return {"weights": [float(frame.sum()) * C, float(seed)]}


@web_demo.node(inputs=["model"], outputs="scores")
def evaluate(model):
    """Score it."""
    scores = {"accuracy": 0.75, "f1": 0.5}
    log_metrics(scores)
    return scores


web_demo.concept(
    "explain", inputs=["model"], outputs="report", description="SHAP report for the risk team"
)


web_fail = Pipeline("web_fail", description="Breaks in its second step", params={"limit": 3})


@web_fail.node(outputs="numbers")
def prepare():
    """Make numbers."""
    return [1, 2, 3]


@web_fail.node(inputs=["numbers", "params:limit"], outputs="total")
def explode(numbers, limit):
    """Add them up, badly."""
    print("about to fail")
    total = sum(numbers)
    raise ValueError(f"total {total} is over the limit {limit}")


@web_fail.node(inputs=["total"], outputs="report")
def summarise(total):
    """Never reached."""
    return str(total)


web_fanout = Pipeline("web_fanout", description="One split, twenty models")


@web_fanout.node(outputs="rows")
def split():
    """The shared input."""
    return list(range(4))


for _i in range(20):

    def _train(rows, _i=_i):
        return sum(rows) + _i

    web_fanout.node(_train, name=f"train_{_i}", inputs=["rows"], outputs=f"model_{_i}")

web_slow = Pipeline("web_slow", description="Waits for a file, so tests can watch it run")


@web_slow.node(outputs="started")
def begin():
    """Start at once."""
    return 1


@web_slow.node(inputs=["started"], outputs="waited")
def wait_for_go(started):
    """Wait until the file named by WEB_SLOW_GO exists."""
    go = Path(os.environ["WEB_SLOW_GO"])
    print("waiting for", go.name, flush=True)
    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("nobody said go")
        time.sleep(0.05)
    return started + 1


@web_slow.node(inputs=["waited"], outputs="done")
def finish(waited):
    """End."""
    return waited + 1


web_image = Pipeline("web_image", description="Draws a picture as its output")


@web_image.node(outputs="chart")
def draw():
    """A PNG made from the pipeline picture of web_demo."""
    import tempfile

    from django_mlops.picture import pipeline_svg, svg_to_png

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "chart.png"
        svg_to_png(pipeline_svg(web_demo), target)
        return target.read_bytes()


web_odd = Pipeline("web_odd", description="Step names with spaces, slashes and quotes")


@web_odd.node(name='load data/raw "v2"', outputs="raw")
def load_raw():
    """A name a URL must escape."""
    raise RuntimeError("no raw data")
