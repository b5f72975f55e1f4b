"""Reproducing, retrying and cancelling past runs; tampered artifacts are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from django_mlops.errors import RunError
from django_mlops.models import Run
from django_mlops.run.reproduce import cancel_run, reproduce_run, retry_run
from tests import pipelines_for_tests as fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]


def test_reproduce_deterministic_pipeline_is_identical() -> None:
    p = fixtures.diamond()
    original = p.run(params={"a": 4}, executor="inline")
    fixtures.CALLS.clear()
    report = reproduce_run(original.pk)
    assert len(fixtures.calls()) == 5  # caching is off for a reproduction
    assert report.run.reproduces_id == original.pk
    assert report.run.params == {"a": 4, "b": 3}
    assert report.identical, report.differences()
    assert report.differences() == []
    assert {o.dataset for o in report.outputs} == {"x", "y", "z", "result", "summary"}
    assert report.code_changes == {} and report.input_key_changes == {}
    assert "all outputs identical" in str(report)


def test_reproduce_reports_changed_outputs() -> None:
    p = fixtures.diamond("drifting")
    original = p.run(executor="inline")
    # Same node name and inputs, different behaviour: the code hash and the output differ.
    p2 = fixtures.diamond("drifting", loader=fixtures.reversed_numbers)
    report = reproduce_run(original.pk)
    assert not report.identical
    assert "load" in report.code_changes
    assert "output 'x' differs" in report.differences()
    assert p2 is not p


def test_tampered_artifact_is_refused_by_name() -> None:
    p = fixtures.diamond()
    run = p.run(executor="inline")
    artifact = run.tasks["combine"].output_artifacts()["result"]
    if artifact.data is not None:
        artifact.data = bytes(artifact.data).replace(b"27", b"28")
        artifact.save(update_fields=["data"])
    else:
        from django_mlops.artifacts import ArtifactStore

        path = Path(ArtifactStore().storage.path(artifact.storage_name))
        path.write_bytes(path.read_bytes() + b" ")
    stored = Run.objects.get(pk=run.pk)  # re-read: not this process's in-memory outputs
    with pytest.raises(Exception) as info:
        stored.output("result")
    assert artifact.sha256[:12] in str(info.value)


def test_retry_reuses_finished_work() -> None:
    p = fixtures.failing("retried")
    failed = p.run(executor="inline")
    assert failed.status == "failed"
    fixtures.CALLS.clear()
    retry = retry_run(failed.pk)
    assert retry.retry_of_id == failed.pk
    assert retry.tasks["source"].state == "cached"
    assert retry.tasks["fine"].state == "cached"
    assert retry.tasks["boom"].state == "failed"


def test_cancel_run_rules() -> None:
    p = fixtures.diamond()
    done = p.run(executor="inline")
    with pytest.raises(RunError, match=f"run {done.pk} is succeeded, not running"):
        cancel_run(done.pk)
    queued = Run.objects.create(pipeline="diamond", status="queued")
    cancelled = cancel_run(queued.pk)
    assert cancelled.status == "cancelled" and cancelled.finished_at is not None
    running = Run.objects.create(pipeline="diamond", status="running")
    assert cancel_run(running.pk).cancel_requested is True
    with pytest.raises(RunError, match="no run with id 999999"):
        cancel_run(999999)


def test_reproduce_a_run_with_cached_tasks_compares_their_outputs() -> None:
    p = fixtures.diamond()
    p.run(executor="inline")
    cached = p.run(executor="inline")
    assert {t.state for t in cached.tasks.by_node().values()} == {"cached"}
    report = reproduce_run(cached.pk)
    assert {o.dataset for o in report.outputs} == {"x", "y", "z", "result", "summary"}
    assert report.identical, report.differences()
