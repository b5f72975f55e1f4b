"""``register_model``: a new version of a named model, from inside a node or for a given run.

Inside a node the heavy part happens at once, in the node's process: the model
is serialized (so a later change to the object cannot change what was
registered), its signature inferred and its libraries read. The result travels
with the task's outcome as a ``model`` tracking event, and the run's
``RecordWriter`` writes the version in the same transaction as the task's
records, only if the task succeeded. A cached re-run does not run the node, so
it registers nothing new: the version stays the one its producing task made.
Outside a node, ``run=`` names the run the version belongs to and the version is
written at once.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..artifacts.serializers import Serialized

if TYPE_CHECKING:
    from ..models import ModelVersion, Run

__all__ = ["ModelRegistration", "create_versions", "prepare_registration", "register_model"]

logger = logging.getLogger("django_mlops.registry")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")


@dataclass(frozen=True, slots=True)
class ModelRegistration:
    """Everything a version needs except its number, ready to be written (and pickled)."""

    name: str
    artifact: Serialized
    signature: dict[str, Any]
    libraries: dict[str, str]
    metrics: dict[str, float] = field(default_factory=dict)
    description: str = ""


def check_model_name(name: object) -> str:
    """``name`` if it is a valid model name (it appears in URLs), else ValueError."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"a model name is 1-200 letters, digits, '.', '_' or '-', starting with a letter "
            f"or digit; not {name!r}"
        )
    return name


def _metrics(metrics: Mapping[str, float] | None) -> dict[str, float]:
    from ..tracking import _check_key, _metric_value, current_task

    if metrics is None:
        # By default, the metrics the node logged before registering (the last value of each).
        context = current_task()
        if context is None:
            return {}
        return {e.key: float(e.value) for e in context.events if e.kind == "metric"}
    if not isinstance(metrics, Mapping):
        raise TypeError(f"metrics must be a mapping of name to number, not {metrics!r}")
    return {_check_key("metric", k): _metric_value(k, v) for k, v in metrics.items()}


def prepare_registration(
    name: str,
    model: Any,
    *,
    sample_input: Any = None,
    metrics: Mapping[str, float] | None = None,
    description: str = "",
) -> ModelRegistration:
    """Check the arguments and serialize the model: no database access."""
    from .formats import dump_model
    from .libraries import model_libraries
    from .signature import infer_signature

    check_model_name(name)
    if model is None:
        raise TypeError("register_model needs a fitted model, not None")
    if not isinstance(description, str):
        raise TypeError(f"description must be a string, not {description!r}")
    artifact = dump_model(model)
    return ModelRegistration(
        name=name,
        artifact=artifact,
        signature=infer_signature(sample_input),
        # Loading a skops file needs skops itself; a joblib one does not.
        libraries=model_libraries(model, ("skops",) if artifact.serializer == "skops" else ()),
        metrics=_metrics(metrics),
        description=description,
    )


def register_model(
    name: str,
    model: Any,
    *,
    sample_input: Any = None,
    metrics: Mapping[str, float] | None = None,
    description: str = "",
    run: Run | int | None = None,
) -> ModelVersion | None:
    """Register ``model`` as the next version of the model called ``name``.

    ``sample_input`` (a DataFrame or array like the model's input) gives the
    signature predictions are checked against; ``metrics`` default to the metrics
    the node logged before this call. Inside a node the version is written with
    the task's records when the task succeeds, and ``None`` is returned; with
    ``run=`` (outside a node) it is written now and returned. Outside a run and
    without ``run=`` nothing is recorded (a debug log line), as for ``log_metric``.

    >>> register_model("iris-classifier", model, sample_input=test.drop(columns="target"))
    ... # doctest: +SKIP
    """
    from ..executors.base import TrackingEvent
    from ..tracking import current_task

    registration = prepare_registration(
        name, model, sample_input=sample_input, metrics=metrics, description=description
    )
    context = current_task()
    if run is None:
        if context is None:
            logger.debug("register_model(%r) called outside a run: nothing recorded", name)
            return None
        context.events.append(TrackingEvent("model", name, registration, None, time.time()))
        return None
    return _register_for_run(registration, run)


def _register_for_run(registration: ModelRegistration, run: Run | int) -> ModelVersion:
    from django.db import router, transaction

    from ..artifacts.store import ArtifactStore
    from ..models import Run

    if not isinstance(run, Run):
        found = Run.objects.filter(pk=run).first()
        if found is None:
            raise LookupError(f"no run with id {run}")
        run = found
    using = router.db_for_write(Run) or "default"
    artifact = ArtifactStore().save_many([registration.artifact], using=using)[0]
    with transaction.atomic(using=using):
        return create_versions(using, run.pk, [(None, "", registration, artifact.pk)])[0]


def create_versions(
    using: str,
    run_id: int | None,
    items: Sequence[tuple[int | None, str, ModelRegistration, int]],
    source: Mapping[str, Any] | None = None,
) -> list[ModelVersion]:
    """Write one version per (task id, node, registration, artifact id), inside a transaction.

    Numbers are taken under a row lock of the registered model (PostgreSQL; SQLite
    serializes writers anyway), so concurrent registrations get 1, 2, 3...
    """
    from django.db.models import Max
    from django.utils import timezone

    from ..models import ModelVersion, RegisteredModel

    versions = []
    for task_id, node, registration, artifact_id in items:
        registered, _ = RegisteredModel.objects.using(using).get_or_create(
            name=registration.name, defaults={"description": registration.description}
        )
        registered = RegisteredModel.objects.using(using).select_for_update().get(pk=registered.pk)
        last = registered.versions.aggregate(last=Max("version"))["last"] or 0
        now = timezone.now()
        versions.append(
            ModelVersion.objects.using(using).create(
                model=registered,
                version=last + 1,
                artifact_id=artifact_id,
                sha256=registration.artifact.sha256,
                format=registration.artifact.serializer,
                type_name=registration.artifact.type_name[:255],
                signature=registration.signature,
                libraries=registration.libraries,
                metrics=registration.metrics,
                description=registration.description,
                run_id=run_id,
                task_id=task_id,
                node=node,
                source=dict(source or {}),
                created_at=now,
            )
        )
        registered.updated_at = now
        if registration.description and not registered.description:
            registered.description = registration.description
        registered.save(using=using, update_fields=["updated_at", "description"])
    return versions
