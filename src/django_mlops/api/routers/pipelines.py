"""``pipelines``: the registered pipelines, and starting a run of one (queued, 202)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Router, Status

from ...discovery import all_pipelines, get_pipeline
from ...errors import RunError
from ...queue import enqueue_run
from ..auth import require_permission
from ..errors import errors_for, field_error, validation_error
from ..schemas.common import Name
from ..schemas.pipelines import (
    PipelineDetail,
    PipelineSummary,
    pipeline_detail,
    pipeline_summary,
)
from ..schemas.runs import RunDetail, RunRequest, run_detail
from .runs import task_counts

__all__ = ["router"]

router = Router(tags=["pipelines"])


@router.get("", response={200: list[PipelineSummary], **errors_for()})
def list_pipelines(request: HttpRequest) -> list[dict[str, Any]]:
    """Every registered pipeline, by name."""
    require_permission(request, "view_run", "see pipelines")
    return [pipeline_summary(p) for p in all_pipelines()]


@router.get("/{name}", response={200: PipelineDetail, **errors_for(404)})
def get_pipeline_detail(request: HttpRequest, name: Name) -> dict[str, Any]:
    """A pipeline's nodes, datasets, edges, params and concept steps."""
    require_permission(request, "view_run", "see pipelines")
    return pipeline_detail(get_pipeline(name))


@router.post("/{name}/runs", response={202: RunDetail, **errors_for(404, 409)})
def start_run(
    request: HttpRequest, name: Name, body: RunRequest, response: HttpResponse
) -> Status[dict[str, Any]]:
    """Queue a run of the pipeline; a worker takes it (``mlops worker`` or Celery).

    Params and the selection are checked first: a refused field is a 422 naming
    it (``["body", "params", "C"]``) and nothing is recorded.
    """
    user = require_permission(request, "run_pipeline", "start runs")
    pipeline = get_pipeline(name)
    try:
        run = enqueue_run(
            pipeline,
            params=body.params,
            only=body.only,
            from_nodes=body.from_nodes,
            to_nodes=body.to,
            tags=body.tags,
            executor=body.executor or "",
            no_cache=body.no_cache,
            priority=body.priority,
            created_by=user,
        )
    except RunError as exc:  # the only RunError enqueue_run raises: an unknown executor
        raise validation_error([field_error(["body", "executor"], str(exc))]) from None
    match = request.resolver_match
    namespace = match.namespace if match is not None else "mlops:api"
    response["Location"] = reverse(f"{namespace}:get_run", args=[run.pk])
    return Status(202, run_detail(run, {}, task_counts(run)))
