"""A node failing inside a library: the error line says where in the user's code it happened."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from django_mlops.discovery import import_file
from django_mlops.pipeline import Pipeline
from django_mlops.pipeline_registry import _registry

USER_CODE = """
from django_mlops import Pipeline

located = Pipeline("located")


@located.node(outputs="frame")
def load():
    import numpy as np

    return np.empty((0, 2)), np.empty((0,))


@located.node(inputs=["frame"], outputs="model")
def fit(frame):
    from sklearn.linear_model import LogisticRegression

    features, target = frame
    model = LogisticRegression()
    return model.fit(features, target)  # scikit-learn raises inside


@located.node(inputs=["frame"], outputs="checked")
def check(frame):
    raise ValueError("bad frame")  # the user's own raise
"""


@pytest.fixture(autouse=True)
def _isolated_registry() -> Iterator[None]:
    saved = dict(_registry)
    yield
    _registry.clear()
    _registry.update(saved)


@pytest.fixture
def located(tmp_path: Path) -> Pipeline:
    path = tmp_path / "my_pipelines.py"
    path.write_text(textwrap.dedent(USER_CODE).lstrip("\n"))
    module = import_file(path)
    pipeline = module.located
    assert isinstance(pipeline, Pipeline)
    return pipeline


def _check(error: str, traceback_text: str) -> None:
    line = 1 + textwrap.dedent(USER_CODE).lstrip("\n").splitlines().index(
        "    return model.fit(features, target)  # scikit-learn raises inside"
    )
    assert error.startswith("ValueError: Found array with 0 sample(s)"), error
    assert error.endswith(f" (in fit, my_pipelines.py:{line})"), error
    assert "\n" not in error
    # The traceback stays whole: the user's line and scikit-learn's frames below it.
    assert f'my_pipelines.py", line {line}, in fit' in traceback_text
    assert "sklearn" in traceback_text.rsplit(f'my_pipelines.py", line {line}', 1)[1]


def test_in_memory_run_names_the_users_line(located: Pipeline) -> None:
    run = located.run(record=False, executor="inline")
    fit = run.tasks["fit"]
    assert fit.state == "failed"
    _check(fit.error, fit.traceback)
    # Raised in the user's own code: the traceback's last line already says where.
    assert run.tasks["check"].error == "ValueError: bad frame"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("tmp_mlops_home")
@pytest.mark.parametrize("executor", ["threads", "processes"])
def test_recorded_run_names_the_users_line(located: Pipeline, executor: str) -> None:
    run = located.run(executor=executor)
    fit = run.tasks["fit"]
    assert fit.state == "failed"
    _check(fit.error, fit.traceback)
