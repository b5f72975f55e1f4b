"""Putting a run on the queue: everything is checked before the row exists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import RunError
from ..params import validate_params

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from ..models import Run
    from ..pipeline import Pipeline

__all__ = ["enqueue_run"]


def enqueue_run(
    pipeline: Pipeline,
    *,
    params: Mapping[str, Any] | None = None,
    only: Sequence[str] = (),
    from_nodes: Sequence[str] = (),
    to_nodes: Sequence[str] = (),
    tags: Sequence[str] = (),
    executor: str = "",
    no_cache: bool = False,
    priority: int = 0,
    created_by: User | None = None,
    params_from_text: bool = False,
    retry_of: Run | None = None,
    using: str = "default",
) -> Run:
    """A new ``queued`` Run of ``pipeline``, for a worker to take; nothing runs here.

    Params are validated and coerced with :func:`~django_mlops.params.validate_params`
    (``ParamValidationError`` lists every field; ``params_from_text`` for form input)
    and the selection with the engine (``SelectionError`` names the unknown node or
    tag), so a run that is queued can start. ``executor`` names a built-in executor
    or one of ``MLOPS["EXECUTORS"]`` (else ``RunError``); blank means the worker's
    default.
    Higher ``priority`` runs are taken first. ``retry_of`` records the run this
    one retries (see :func:`~django_mlops.run.reproduce.queue_retry`). On PostgreSQL,
    listening workers are notified when the transaction commits.
    """
    from ..conf import mlops_settings
    from ..executors import BUILTIN_EXECUTORS
    from ..models import Run, RunStatus

    pipeline.validate()
    resolved = validate_params(pipeline, params, from_text=params_from_text)
    selection = {
        "only": list(only),
        "from": list(from_nodes),
        "to": list(to_nodes),
        "tags": list(tags),
    }
    if any(selection.values()):
        pipeline.graph.select(only=only, from_nodes=from_nodes, to_nodes=to_nodes, tags=tags)
    known = {**BUILTIN_EXECUTORS, **(mlops_settings().EXECUTORS or {})}
    if executor and executor not in known:
        raise RunError(f"unknown executor '{executor}' (known: {', '.join(sorted(known))})")
    from .notify import notify_queued

    run = Run.objects.using(using).create(
        pipeline=pipeline.name,
        source=pipeline.source,
        status=RunStatus.QUEUED,
        params=resolved,
        selection=selection,
        executor=executor,
        no_cache=no_cache,
        priority=priority,
        created_by=created_by,
        tasks_total=len(pipeline),
        retry_of=retry_of,
    )
    notify_queued(using)  # idle workers on PostgreSQL wake at the commit
    return run
