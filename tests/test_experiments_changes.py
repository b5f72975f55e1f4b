"""What changed between two runs, the declared metric directions, and compare's best values."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_mlops import Pipeline, log_metrics
from django_mlops.errors import PipelineError
from django_mlops.experiments.changes import run_changes
from django_mlops.experiments.compare import compare_runs, metric_direction
from django_mlops.experiments.selection import RunsProblem, load_runs, parse_run_ids
from django_mlops.metric_directions import declared_direction, guess_direction
from django_mlops.models import Run
from django_mlops.run.reproduce import reproduce_run
from tests import pipelines_for_tests as fixtures
from tests.experiment_pipelines import iris_sweep

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]


# --- Declared directions ---


def test_a_declared_direction_wins_over_the_name_and_patterns_cover_sweep_keys() -> None:
    p = Pipeline("directions", metrics={"rank": "minimize", "val_loss/*": "maximize"})
    assert p.metric_directions == {"rank": "minimize", "val_loss/*": "maximize"}
    assert declared_direction(p.metric_directions, "rank") == "minimize"
    assert declared_direction(p.metric_directions, "val_loss/C1") == "maximize"
    assert declared_direction(p.metric_directions, "accuracy") is None
    assert metric_direction("rank", ["directions"]) == ("minimize", True)
    assert metric_direction("val_loss/C1", ["directions"]) == ("maximize", True)
    assert metric_direction("rank", ["no-such-pipeline"]) == ("maximize", False)
    assert guess_direction("val_rmse") == "minimize" and guess_direction("f1") == "maximize"


@pytest.mark.parametrize(
    ("metrics", "words"),
    [
        ({"accuracy": "max"}, "metric 'accuracy' must be 'maximize' or 'minimize', got 'max'"),
        ({"loss": "Minimise"}, "did you mean 'minimize'?"),
        ({"": "maximize"}, "metric names are strings"),
        (["accuracy"], "metrics= maps metric names"),
    ],
)
def test_a_bad_direction_names_the_pipeline_and_the_metric(metrics: Any, words: str) -> None:
    with pytest.raises(PipelineError) as info:
        Pipeline("bad_directions", metrics=metrics)
    assert "pipeline 'bad_directions'" in str(info.value)
    assert words in str(info.value)


def _ranked() -> Pipeline:
    p = Pipeline("ranked", params={"shift": 0}, metrics={"rank": "minimize"})

    @p.node(inputs=["params:shift"], outputs="score")
    def score(shift: int) -> int:
        log_metrics({"rank": 3 - shift, "hits": 10 + shift})
        return shift

    return p


def test_compare_marks_the_best_by_the_declared_direction() -> None:
    p = _ranked()
    runs = [p.run(params={"shift": s}) for s in (0, 2, 1)]
    comparison = compare_runs(runs)
    by_key = {s.key: s for s in comparison.metrics}
    assert by_key["rank"].values == (3, 1, 2)
    assert by_key["rank"].best == {1} and by_key["rank"].declared  # smallest: declared
    assert by_key["hits"].best == {1} and not by_key["hits"].declared  # largest: guessed
    assert [s.key for s in comparison.params] == ["shift"] and comparison.params[0].differs


# --- Which runs ---


def test_run_ids_are_parsed_in_order_without_repeats_and_bounded() -> None:
    assert parse_run_ids(["3, 1", "3", "2"]) == [3, 1, 2]
    for bad, words in [(["1"], "got 1"), (["1,x"], "'x' is not a run number")]:
        with pytest.raises(RunsProblem, match=words):
            parse_run_ids(bad)
    with pytest.raises(RunsProblem, match="exactly 2"):
        parse_run_ids(["1,2,3"], 2, 2)
    with pytest.raises(RunsProblem, match="got 51"):
        parse_run_ids([",".join(str(i) for i in range(1, 52))])
    with pytest.raises(RunsProblem) as info:
        load_runs([999_998, 999_999])
    assert info.value.missing == (999_998, 999_999)


# --- What changed ---


def test_a_param_change_names_the_nodes_that_read_it_and_what_was_reused() -> None:
    before = iris_sweep.run(params={"alpha": 0.001})
    after = iris_sweep.run(params={"alpha": 0.1})
    with CaptureQueriesContext(connection) as queries:
        changes = run_changes(before, after)
    assert len(queries) == 1  # the task rows of both runs
    assert [(d.name, d.before, d.after) for d in changes.params] == [("alpha", 0.001, 0.1)]
    nodes = {n.node: n for n in changes.nodes}
    assert nodes["fit"].params == ("alpha",) and nodes["fit"].cause
    assert nodes["evaluate"].params == ("alpha",)
    assert [d.name for d in nodes["evaluate"].inputs] == ["model"]  # fit's key changed
    assert nodes["load"].after == "reused" and not nodes["load"].changed
    assert changes.reused == ["load"] and set(changes.recomputed) == {"fit", "evaluate"}
    assert changes.changed_nodes == ["fit", "evaluate"]
    assert nodes["fit"].function == "tests.experiment_pipelines.fit"
    assert "param alpha: 0.001 -> 0.1" in changes.lines()


def test_nothing_changed_between_a_run_and_its_cached_rerun() -> None:
    before = iris_sweep.run()
    after = iris_sweep.run()
    changes = run_changes(before, after)
    assert changes.lines() == [] and changes.changed_nodes == []
    assert set(changes.reused) == {"load", "fit", "evaluate"} and changes.recomputed == []


def test_a_code_change_is_the_cause_and_its_consumers_see_new_inputs() -> None:
    before = fixtures.diamond("changes_code").run(executor="inline")
    after = fixtures.diamond("changes_code", loader=fixtures.reversed_numbers).run(
        executor="inline"
    )
    changes = run_changes(before, after)
    nodes = {n.node: n for n in changes.nodes}
    assert nodes["load"].code is not None and nodes["load"].cause
    assert nodes["load"].code.before == Run.objects.get(pk=before.pk).tasks["load"].code_hash
    assert {d.name for d in nodes["scale"].inputs} == {"x"} and not nodes["scale"].cause
    assert set(changes.changed_nodes) == {"load", "scale", "shift", "combine", "describe"}
    assert "code of node 'load' changed" in changes.lines()
    assert changes.recomputed == [n.node for n in changes.nodes]  # nothing could be reused


def test_a_changed_read_file_and_package_versions_are_listed(tmp_path: Path) -> None:
    data = tmp_path / "raw.csv"
    data.write_text("a\n1\n")
    p = Pipeline("changes_reads")

    @p.node(outputs="text", reads=[str(data)])
    def load() -> str:
        return data.read_text()

    @p.node(inputs=["text"], outputs="lines")
    def count(text: str) -> int:
        return len(text.splitlines())

    before = p.run()
    time.sleep(0.01)
    data.write_text("a\n1\n2\n")
    after = p.run()
    # Another interpreter's packages, as a run from another machine would record them.
    Run.objects.filter(pk=before.pk).update(packages={**(before.packages or {}), "numpy": "1.0"})
    changes = run_changes(Run.objects.get(pk=before.pk), after)
    nodes = {n.node: n for n in changes.nodes}
    assert [d.name for d in nodes["load"].reads] == [str(data)] and nodes["load"].cause
    assert f"node 'load': file {data} changed" in changes.lines()
    assert [d.name for d in nodes["count"].inputs] == ["text"]
    assert any(d.name == "numpy" and d.before == "1.0" for d in changes.packages)


def test_reproduce_reads_its_differences_from_the_same_core() -> None:
    original = fixtures.diamond("changes_reproduce").run(executor="inline")
    fixtures.diamond("changes_reproduce", loader=fixtures.reversed_numbers)
    report = reproduce_run(original.pk)
    assert set(report.code_changes) == {"load"}
    assert report.input_key_changes["scale"] == ["x"]


def test_a_planned_step_that_never_ran_is_not_listed_as_changed() -> None:
    p = Pipeline("changes_concept", params={"x": 1})

    @p.node(inputs=["params:x"], outputs="doubled")
    def double(x: int) -> int:
        return 2 * x

    p.concept("explain", inputs=["doubled"], outputs="report", description="later")
    changes = run_changes(p.run(params={"x": 1}), p.run(params={"x": 2}))
    nodes = {n.node: n for n in changes.nodes}
    assert nodes["explain"].inputs and nodes["explain"].after == "not_started"
    assert changes.changed_nodes == ["double"]
