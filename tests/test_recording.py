"""What a run records: task logs and errors, metrics with steps, params, reproducibility."""

from __future__ import annotations

import os
import sys

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_mlops import Pipeline
from django_mlops.models import Artifact, Metric, Param, Run, TaskOutput
from tests import pipelines_for_tests as fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]


def test_task_records_output_logs_and_timings() -> None:
    run = fixtures.diamond().run(executor="inline")
    task = run.tasks["combine"]
    assert "combining 3 values" in task.stdout
    assert "combine saw 6 values" in task.log
    assert task.attempts == 1
    assert task.started_at is not None and task.finished_at >= task.started_at
    assert task.started_at.tzinfo is not None
    assert abs((task.finished_at - task.started_at).total_seconds() - task.duration) < 1e-3
    assert task.duration is not None and task.duration >= 0
    assert task.pid == os.getpid() and task.host
    assert len(task.code_hash) == 64 and len(task.key) == 64
    assert set(task.input_keys) == {"y", "z"}
    assert run.tasks["load"].input_keys == {}


def test_failure_records_error_and_traceback() -> None:
    run = fixtures.failing().run(executor="inline")
    task = run.tasks["boom"]
    assert "ValueError" in task.error and "boom on 1" in task.error
    assert "Traceback (most recent call last)" in task.traceback
    assert "raise ValueError" in task.traceback
    assert run.error == "failed: boom"


def test_metrics_with_steps_and_params() -> None:
    run = fixtures.diamond().run(executor="inline")
    partial = list(
        Metric.objects.filter(run=run, key="partial").order_by("step").values_list("step", "value")
    )
    assert partial == [(0, 0.0), (1, 27.0), (2, 54.0)]
    metric = Metric.objects.get(run=run, key="total")
    assert metric.step is None and metric.task.node == "combine"
    assert metric.timestamp is not None
    assert run.metrics == {"partial": 54.0, "total": 27.0}
    params = dict(Param.objects.filter(run=run).values_list("key", "value"))
    assert params == {"a": 2, "b": 3, "combined": True}


def test_outputs_are_content_addressed_with_previews() -> None:
    run = fixtures.diamond().run(executor="inline")
    tasks = run.tasks
    by_dataset = {
        d: (node, pk) for node, t in tasks.by_node().items() for d, pk in t.output_ids().items()
    }
    assert set(by_dataset) == {"x", "y", "z", "result", "summary"}
    assert by_dataset["result"][0] == "combine"
    artifact = tasks["combine"].output_artifacts()["result"]
    assert artifact.pk == by_dataset["result"][1]
    assert len(artifact.sha256) == 64 and artifact.serializer == "json"
    # A second pipeline producing identical bytes reuses the artifact row.
    again = fixtures.diamond().run(executor="inline", no_cache=True)
    assert again.tasks["combine"].output_ids() == {"result": artifact.pk}
    assert Artifact.objects.filter(sha256=artifact.sha256).count() == 1


def test_reproducibility_record() -> None:
    p = fixtures.diamond()
    p.run(executor="inline")  # stores what the selected node reads
    run = p.run(executor="inline", tags=["final"], no_cache=True)
    run = Run.objects.get(pk=run.pk)
    assert run.status == "succeeded" and run.pipeline == "diamond"
    assert run.python_version.startswith(f"{sys.version_info.major}.{sys.version_info.minor}")
    assert "django" in {name.lower() for name in run.packages}
    assert run.host and run.pid == os.getpid()
    assert run.started_at <= run.finished_at and run.duration >= 0
    assert run.selection == {"only": [], "from": [], "to": [], "tags": ["final"]}
    assert run.tasks_total == 5 and run.executor == "inline"
    states = {t.node: (t.state, t.reason) for t in run.task_runs.all()}
    assert states["combine"] == ("succeeded", "forced")
    assert states["scale"] == ("cached", "outside_selection")
    assert states["describe"] == ("excluded", "not_needed")


def test_recording_is_batched() -> None:
    p = Pipeline("batched")
    previous = None
    for i in range(200):
        inputs = [] if previous is None else [previous]
        p.node(inputs=inputs, outputs=f"d{i}", name=f"n{i}")(fixtures.chain_step)
        previous = f"d{i}"
    with CaptureQueriesContext(connection) as queries:
        run = p.run(executor="inline")
    assert run.status == "succeeded" and run.task_runs.count() == 200
    # Planning, creation, a flush or two and the final update: not one query per node.
    assert len(queries) < 40, [q["sql"][:80] for q in queries]


def test_large_runs_are_written_in_several_statements() -> None:
    # More task rows than one INSERT statement takes on PostgreSQL (2,000): a full
    # statement and a shorter last one, rows in topological order, every output named.
    p = Pipeline("many_rows")
    p.node(outputs="seed", name="seed")(fixtures.load)
    for i in range(2345):
        p.node(inputs=["seed"], outputs=f"d{i}", name=f"n{i}")(fixtures.chain_step)
    run = p.run(executor="inline")
    rows = list(run.task_runs.order_by("id").values_list("id", "node", "state"))
    assert len(rows) == 2346 and {state for _, _, state in rows} == {"succeeded"}
    assert rows[0][1] == "seed"  # topological order
    outputs = dict(TaskOutput.objects.filter(task__run=run).values_list("task__node", "dataset"))
    assert all(outputs[node] == node.replace("n", "d", 1) for _, node, _ in rows[1:])
    assert run.output("d2344") == fixtures.chain_step(fixtures.load())
    again = p.run(executor="inline")
    assert {t.state for t in again.tasks.by_node().values()} == {"cached"}
    assert again.tasks["n2344"].output_ids() == run.tasks["n2344"].output_ids()


def test_logged_artifacts_are_stored_and_verified() -> None:
    from django_mlops.artifacts import ArtifactStore
    from django_mlops.models import LoggedArtifact

    p = Pipeline("logs_artifact")
    p.node(outputs="one")(fixtures.with_artifact)
    run = p.run(executor="inline")
    logged = LoggedArtifact.objects.select_related("artifact", "task").get(run=run)
    assert logged.name == "notes" and logged.task.node == "with_artifact"
    assert ArtifactStore().get(logged.artifact) == {"k": 1}
