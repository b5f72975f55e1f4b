"""Registering versions from runs, aliases with their audit trail, and permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from django_mlops import register_model
from django_mlops.models import AliasChange, ModelAlias, ModelVersion, RegisteredModel, Run
from django_mlops.registry import ModelNotFoundError, get_version, load_model, set_alias
from django_mlops.registry.aliases import remove_alias
from django_mlops.registry.errors import AliasPermissionError
from tests import registry_pipelines as models

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]


def test_a_node_registers_the_next_version_with_its_lineage() -> None:
    run = models.iris_models.run(executor="inline")
    assert run.status == "succeeded", run.error
    version = ModelVersion.objects.get()
    assert (version.model.name, version.version) == ("iris-test", 1)
    assert version.run_id == run.pk and version.node == "register"
    assert version.task_id == run.tasks["register"].pk
    assert version.sha256 == version.artifact.sha256 and version.format == "joblib"
    assert version.type_name == "sklearn.linear_model._logistic.LogisticRegression"
    columns = version.signature["columns"]
    assert [c["name"] for c in columns] == models.FEATURES
    assert {c["dtype"] for c in columns} == {"float64"}
    assert version.libraries["scikit-learn"] and version.libraries["numpy"]
    # The metrics the node logged before registering are the version's.
    assert version.metrics == {"accuracy": pytest.approx(run.metrics["accuracy"])}
    assert version.description == "test"
    second = models.iris_models.run(executor="inline", params={"C": 0.1})
    latest = get_version("iris-test")
    assert latest.version == 2 and latest.run_id == second.pk
    assert latest.sha256 != version.sha256


def test_a_cached_rerun_creates_no_new_version() -> None:
    first = models.iris_models.run(executor="inline")
    again = models.iris_models.run(executor="inline")
    assert again.tasks["register"].state == "cached"
    assert ModelVersion.objects.count() == 1
    assert ModelVersion.objects.get().run_id == first.pk
    forced = models.iris_models.run(executor="inline", no_cache=True)
    assert ModelVersion.objects.count() == 2
    assert get_version("iris-test").run_id == forced.pk


def test_a_failed_task_registers_nothing() -> None:
    run = models.failing_models.run(executor="inline")
    assert run.status == "failed"
    assert not ModelVersion.objects.exists() and not RegisteredModel.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_registration_from_a_worker_process() -> None:
    run = models.iris_models.run(executor="processes")
    assert run.status == "succeeded", run.error
    version = get_version("iris-test")
    assert version.run_id == run.pk
    predicted = load_model("iris-test").predict(models.iris_frame().drop(columns="target"))
    assert len(predicted) == 150


def test_outside_a_run_needs_run_or_records_nothing() -> None:
    model = models.fit_logistic(models.iris_frame(), 1.0)
    sample = models.features(models.iris_frame()).head(2)
    assert register_model("iris-test", model, sample_input=sample) is None
    assert not ModelVersion.objects.exists()
    run = Run.objects.create(pipeline="notebook", status="succeeded")
    version = register_model("iris-test", model, sample_input=sample, metrics={"f1": 0.9}, run=run)
    assert version is not None and version.version == 1 and version.run_id == run.pk
    assert version.metrics == {"f1": 0.9}
    again = register_model("iris-test", model, sample_input=sample, run=run.pk)
    assert again is not None and again.version == 2
    with pytest.raises(LookupError, match="no run with id 999"):
        register_model("iris-test", model, run=999)


@pytest.mark.parametrize("name", ["", "with space", "../etc", "-leading", "x" * 201])
def test_bad_model_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="model name"):
        register_model(name, object())


def test_bad_arguments_are_refused_before_anything_is_stored() -> None:
    model = models.fit_logistic(models.iris_frame(), 1.0)
    with pytest.raises(TypeError, match="sample_input"):
        register_model("iris-test", model, sample_input={"a": [1]})
    with pytest.raises(TypeError, match="must be a number"):
        register_model("iris-test", model, metrics={"f1": "high"})
    with pytest.raises(TypeError, match="fitted model"):
        register_model("iris-test", None)


def _user(name: str, *, may_promote: bool) -> User:
    user = User.objects.create_user(name)
    if may_promote:
        user.user_permissions.add(Permission.objects.get(codename="promote_model"))
        user = User.objects.get(pk=user.pk)  # permissions are cached per instance
    return user


def test_aliases_move_with_an_audit_trail() -> None:
    models.iris_models.run(executor="inline")
    models.iris_models.run(executor="inline", params={"C": 0.1})
    alice = _user("alice", may_promote=True)
    alias = set_alias("iris-test", "production", 1, user=alice, comment="first release")
    assert alias.version.version == 1 and alias.updated_by == alice
    set_alias("iris-test", "production", 1, user=alice)  # no move: nothing recorded
    set_alias("iris-test", "production", 2, comment="better on the new data")
    set_alias("iris-test", "staging", 2, user=alice)
    trail = list(
        AliasChange.objects.filter(alias="production")
        .order_by("id")
        .values_list("from_number", "to_number", "user__username", "comment")
    )
    assert trail == [
        (None, 1, "alice", "first release"),
        (1, 2, None, "better on the new data"),
    ]
    assert get_version("iris-test", alias="production").version == 2
    assert ModelAlias.objects.filter(model__name="iris-test").count() == 2
    remove_alias("iris-test", "staging", user=alice, comment="retired")
    last = AliasChange.objects.filter(alias="staging").order_by("-id").first()
    assert last is not None and (last.from_number, last.to_number) == (2, None)
    assert not ModelAlias.objects.filter(name="staging").exists()


def test_moving_an_alias_needs_promote_model() -> None:
    models.iris_models.run(executor="inline")
    bob = _user("bob", may_promote=False)
    with pytest.raises(AliasPermissionError, match="promote_model"):
        set_alias("iris-test", "production", 1, user=bob)
    assert not ModelAlias.objects.exists() and not AliasChange.objects.exists()


def test_unknown_models_versions_and_aliases_are_named() -> None:
    models.iris_models.run(executor="inline")
    with pytest.raises(ModelNotFoundError, match="no registered model named 'nope'"):
        set_alias("nope", "production", 1)
    with pytest.raises(ModelNotFoundError, match="has no version 7"):
        set_alias("iris-test", "production", 7)
    with pytest.raises(ModelNotFoundError, match="has no alias 'production'"):
        load_model("iris-test", alias="production")
    with pytest.raises(ValueError, match="alias"):
        set_alias("iris-test", "12", 1)
