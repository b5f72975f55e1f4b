"""The records: constraints, defaults, relations, indexes and migrations (the admin: test_admin)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from django_mlops.models import (
    Artifact,
    LoggedArtifact,
    Metric,
    Param,
    Run,
    RunStatus,
    TaskRun,
    TaskState,
)

pytestmark = pytest.mark.django_db


def _run(**fields: object) -> Run:
    return Run.objects.create(pipeline=str(fields.pop("pipeline", "iris")), **fields)


def test_run_defaults_and_str() -> None:
    run = _run()
    assert run.status == RunStatus.QUEUED == "queued"
    assert run.params == {} and run.packages == {} and run.created_at is not None
    assert str(run) == f"iris #{run.pk} (queued)"


def test_runs_are_listed_newest_first() -> None:
    first, second = _run(), _run()
    assert list(Run.objects.all()) == [second, first]


def test_task_runs_are_unique_per_run_and_node() -> None:
    run = _run()
    TaskRun.objects.create(run=run, node="fit", state=TaskState.SUCCEEDED)
    with pytest.raises(IntegrityError), transaction.atomic():
        TaskRun.objects.create(run=run, node="fit")
    assert run.tasks["fit"].state == "succeeded"


def test_params_and_artifacts_are_unique() -> None:
    run = _run()
    Param.objects.create(run=run, key="C", value=1.0)
    Param.objects.create(run=run, key="none", value=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Param.objects.create(run=run, key="C", value=2.0)
    Artifact.objects.create(sha256="a" * 64, size=1, serializer="json", data=b"1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Artifact.objects.create(sha256="a" * 64, size=1, serializer="json")


def test_metrics_property_gives_the_latest_value() -> None:
    run = _run()
    for step, value in enumerate([0.5, 0.7, 0.9]):
        Metric.objects.create(run=run, key="acc", value=value, step=step)
    assert run.metrics == {"acc": 0.9}
    assert str(Metric.objects.filter(run=run).last()) == "acc@2=0.9"


def test_artifacts_in_use_cannot_be_deleted() -> None:
    run = _run()
    artifact = Artifact.objects.create(sha256="b" * 64, size=1, serializer="bytes", data=b"x")
    LoggedArtifact.objects.create(run=run, name="report", artifact=artifact)
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        artifact.delete()
    run.delete()  # cascades to the logged artifact, which frees the artifact
    artifact.delete()


def test_product_permissions_exist_once() -> None:
    # Once each: `django_mlops.<codename>` must name one permission, not one per model.
    for codename in ("run_pipeline", "promote_model", "predict"):
        assert (
            Permission.objects.filter(
                codename=codename, content_type__app_label="django_mlops"
            ).count()
            == 1
        ), codename


def test_query_indexes_exist() -> None:
    with connection.cursor() as cursor:
        run_indexes = connection.introspection.get_constraints(cursor, Run._meta.db_table)
        task_indexes = connection.introspection.get_constraints(cursor, TaskRun._meta.db_table)
    assert {"mlops_run_pipeline_idx", "mlops_run_status_idx"} <= set(run_indexes)
    # Each ends with id, the tie-breaker of every list of runs (deep API pages).
    assert run_indexes["mlops_run_pipeline_idx"]["columns"] == ["pipeline", "created_at", "id"]
    assert run_indexes["mlops_run_created_idx"]["columns"] == ["created_at", "id"]
    assert task_indexes["mlops_taskrun_key_idx"]["columns"] == ["key"]
    # The recorder writes JSON it built itself: no per-row JSON_VALID check.
    assert not any(
        c["check"] and set(c["columns"] or ()) & {"input_keys"} for c in task_indexes.values()
    )


def test_migrations_match_the_models() -> None:
    out = StringIO()
    call_command("makemigrations", "django_mlops", "--check", "--dry-run", stdout=out)


def test_task_states_are_the_engines_node_states() -> None:
    # TaskRun.state stores NodeState names; a state added to the engine must be
    # added to the model (and its migration) too.
    from django_mlops import _engine
    from django_mlops.models import TaskState

    engine_states = {name for name in dir(_engine.NodeState) if not name.startswith("_")}
    engine_states = {
        n for n in engine_states if isinstance(getattr(_engine.NodeState, n), _engine.NodeState)
    }
    assert {choice.value for choice in TaskState} == engine_states
