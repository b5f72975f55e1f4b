"""Caching by fingerprint: what re-runs after a change of params, code or helpers, and why."""

from __future__ import annotations

import importlib
import shutil
import sys
import textwrap
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from django_mlops import Pipeline
from tests import pipelines_for_tests as fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]


def _states(run: Any) -> dict[str, str]:
    return {name: task.state for name, task in run.tasks.by_node().items()}


def _details(run: Any) -> dict[str, str]:
    return {name: task.reason_detail for name, task in run.tasks.by_node().items()}


def test_second_run_is_all_cached_and_calls_nothing() -> None:
    p = fixtures.diamond()
    fixtures.CALLS.clear()
    first = p.run(executor="inline")
    assert sorted(fixtures.calls()) == ["combine", "describe", "load", "scale", "shift"]
    assert set(_details(first).values()) == {"first run"}
    assert {t.reason for t in first.tasks.by_node().values()} == {"not_stored"}
    fixtures.CALLS.clear()
    second = p.run(executor="inline")
    assert fixtures.calls() == []
    assert set(_states(second).values()) == {"cached"}
    assert {t.reason for t in second.tasks.by_node().values()} == {"cached"}
    assert second.status == "succeeded"
    # The cached outputs come back from the artifact store, verified.
    assert second.output("result") == first.output("result") == {"total": 27}
    assert {n: t.key for n, t in second.tasks.by_node().items()} == {n: t.key for n, t in first.tasks.by_node().items()}


def test_changed_param_reruns_its_readers_and_their_descendants() -> None:
    p = fixtures.diamond()
    p.run(executor="inline")
    fixtures.CALLS.clear()
    run = p.run(params={"a": 5}, executor="inline")
    assert sorted(fixtures.calls()) == ["combine", "scale"]
    assert _states(run) == {
        "load": "cached",
        "scale": "succeeded",
        "shift": "cached",
        "combine": "succeeded",
        "describe": "cached",
    }
    assert run.tasks["scale"].reason_detail == "param a changed"
    assert run.tasks["combine"].reason_detail == "input 'y' changed"
    assert run.output("result") == {"total": 5 + 10 + 15 + 4 + 5 + 6}


def test_no_cache_forces_every_node() -> None:
    p = fixtures.diamond()
    p.run(executor="inline")
    fixtures.CALLS.clear()
    run = p.run(executor="inline", no_cache=True)
    assert len(fixtures.calls()) == 5
    assert set(_states(run).values()) == {"succeeded"}
    assert {t.reason for t in run.tasks.by_node().values()} == {"forced"}
    assert run.no_cache is True


def test_node_with_cache_off_always_runs() -> None:
    p = Pipeline("uncached")
    p.node(outputs="x", cache=False)(fixtures.load)
    p.node(inputs=["x"], outputs="summary")(fixtures.describe)
    p.run(executor="inline")
    fixtures.CALLS.clear()
    run = p.run(executor="inline")
    # Keys follow code and params, not values: the reader's key is unchanged.
    assert fixtures.calls() == ["load"]
    assert run.tasks["load"].reason == "not_cacheable"
    assert run.tasks["describe"].state == "cached"


def test_same_code_under_other_output_names_is_not_reused() -> None:
    first = Pipeline("names_a")
    first.node(outputs="x", name="load")(fixtures.load)
    first.run(executor="inline")
    second = Pipeline("names_b")
    second.node(outputs="frame", name="load")(fixtures.load)
    fixtures.CALLS.clear()
    run = second.run(executor="inline")
    assert fixtures.calls() == ["load"] and run.output("frame") == [1, 2, 3]
    again = first.run(executor="inline")  # same outputs as stored: reused across runs
    assert again.tasks["load"].state == "cached"


def draw() -> int:
    """A node whose output changes from one execution to the next."""
    return time.perf_counter_ns()


def test_latest_outputs_of_a_key_are_reused() -> None:
    # The same key executed again (--no-cache) with other bytes: later runs
    # reuse the latest outputs, and the cached task's row names them.
    p = Pipeline("latest_outputs")
    p.node(outputs="value", name="draw")(draw)
    first = p.run(executor="inline")
    forced = p.run(executor="inline", no_cache=True)
    assert first.output("value") != forced.output("value")
    assert forced.tasks["draw"].key == first.tasks["draw"].key
    cached = p.run(executor="inline")
    assert cached.tasks["draw"].state == "cached"
    assert cached.output("value") == forced.output("value")
    assert cached.tasks["draw"].output_ids() == forced.tasks["draw"].output_ids()


HELPER = """
OFFSET = {offset}

def base():
    return 10 + OFFSET
"""

NODES = """
from django_mlops import Pipeline
from {helper} import base

from collections import deque

CALLS = deque()
p = Pipeline("{name}", params={{"k": 1, "j": 2}})

@p.node(outputs="a")
def first():
    CALLS.append("first")
    return base()

@p.node(inputs=["a", "params:k"], outputs="b")
def second(a, k):
    CALLS.append("second")
    return a + k

@p.node(inputs=["b"], outputs="c")
def third(b):
    CALLS.append("third")
    return b * {factor}

@p.node(inputs=["params:j"], outputs="d")
def side(j):
    CALLS.append("side")
    return base() + j

@p.node(inputs=["params:j"], outputs="e")
def unrelated(j):
    CALLS.append("unrelated")
    return j
"""


class Project:
    """User modules written to a temporary folder and re-imported after each edit."""

    def __init__(self, folder: Path, tag: str) -> None:
        self.folder = folder
        self.helper = f"helpers_{tag}"
        self.nodes = f"nodes_{tag}"
        self.name = f"edited_{tag}"
        sys.path.insert(0, str(folder))

    def write(self, offset: int = 0, factor: int = 2) -> ModuleType:
        helper = textwrap.dedent(HELPER.format(offset=offset))
        (self.folder / f"{self.helper}.py").write_text(helper)
        (self.folder / f"{self.nodes}.py").write_text(
            textwrap.dedent(NODES.format(helper=self.helper, name=self.name, factor=factor))
        )
        # Fresh imports: no stale bytecode, no stale module objects.
        shutil.rmtree(self.folder / "__pycache__", ignore_errors=True)
        for module in (self.nodes, self.helper):
            sys.modules.pop(module, None)
        importlib.invalidate_caches()
        return importlib.import_module(self.nodes)

    def close(self) -> None:
        sys.path.remove(str(self.folder))
        for module in (self.nodes, self.helper):
            sys.modules.pop(module, None)


@pytest.fixture
def project(tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    tag = request.node.name.replace("test_", "")[:20].replace("[", "_").replace("]", "")
    proj = Project(tmp_path, tag)
    yield proj
    proj.close()


def test_changed_node_code_reruns_that_node_and_descendants(project: Project) -> None:
    module = project.write(factor=2)
    module.p.run(executor="inline")
    module = project.write(factor=3)
    run = module.p.run(executor="inline")
    assert list(module.CALLS) == ["third"]
    assert run.tasks["third"].reason_detail == "code changed"
    assert run.output("c") == (10 + 1) * 3


def test_changed_helper_reruns_every_user(project: Project) -> None:
    module = project.write(offset=0)
    module.p.run(executor="inline")
    module = project.write(offset=5)
    run = module.p.run(executor="inline")
    assert sorted(module.CALLS) == ["first", "second", "side", "third"]
    assert run.tasks["unrelated"].state == "cached"
    assert run.tasks["first"].reason_detail == "code changed"
    assert run.tasks["side"].reason_detail == "code changed"
    assert run.tasks["second"].reason_detail == "input 'a' changed"
    assert run.output("d") == 15 + 2


def test_changed_param_reason_names_only_that_param(project: Project) -> None:
    module = project.write()
    module.p.run(executor="inline")
    module = project.write()
    run = module.p.run(params={"j": 7}, executor="inline")
    assert sorted(module.CALLS) == ["side", "unrelated"]
    assert run.tasks["side"].reason_detail == "param j changed"
    assert run.tasks["second"].state == "cached"
