"""Pipeline pages: the list, a pipeline's page (DAG, Run form, recent runs), node details."""

from __future__ import annotations

import inspect
from pathlib import Path

from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from ..discovery import all_pipelines, get_pipeline
from ..errors import ParamValidationError, PipelineNotFound, RunError
from ..models import Run
from ..pipeline import Node, Pipeline
from ..queue import enqueue_run
from .access import RUN_PERMISSION, VIEW_PERMISSION, can_run, requires
from .forms import as_text, param_fields, submitted_params
from .pictures import drawing

__all__ = [
    "base_template_for",
    "node_detail",
    "pipeline_detail",
    "pipeline_list",
    "pipeline_or_404",
]

RECENT_RUNS = 10


def base_template_for(request: HttpRequest) -> str:
    """The fragment base for an htmx request (a side panel), else the full page's."""
    return (
        "mlops/fragment.html" if request.headers.get("HX-Request") == "true" else "mlops/base.html"
    )


def pipeline_or_404(name: str) -> Pipeline:
    """The registered pipeline ``name``, or 404."""
    try:
        return get_pipeline(name)
    except PipelineNotFound:
        raise Http404(f"no pipeline named '{name}'") from None


@require_GET
@requires(VIEW_PERMISSION)
def pipeline_list(request: HttpRequest) -> HttpResponse:
    """Every registered pipeline with its node count and last run (two queries in all)."""
    pipelines = all_pipelines()
    names = [p.name for p in pipelines]
    latest_ids = (
        Run.objects.filter(pipeline__in=names)
        .values("pipeline")
        .annotate(latest=Max("id"))
        .values_list("latest", flat=True)
    )
    last = {r.pipeline: r for r in Run.objects.filter(pk__in=list(latest_ids))}
    rows = [
        {
            "pipeline": p,
            "nodes": len(p),
            "concepts": sum(1 for n in p.nodes if n.is_concept),
            "last": last.get(p.name),
        }
        for p in pipelines
    ]
    return render(request, "mlops/pipelines/list.html", {"rows": rows, "nav": "pipelines"})


def _expanded(request: HttpRequest) -> list[str]:
    return [e for e in request.GET.getlist("expand") if e]


@require_http_methods(["GET", "POST"])
@requires(VIEW_PERMISSION)
def pipeline_detail(request: HttpRequest, name: str) -> HttpResponse:
    """A pipeline's page; POST (needs ``run_pipeline``) queues a run and goes to it."""
    pipeline = pipeline_or_404(name)
    submitted = None
    errors: ParamValidationError | None = None
    run_error = ""
    status = 200
    if request.method == "POST":
        if not can_run(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied(f"you lack the permission {RUN_PERMISSION}")
        submitted = submitted_params(pipeline, request.POST)
        try:
            run = enqueue_run(
                pipeline,
                params=as_text(submitted),
                no_cache=request.POST.get("no_cache") == "on",
                created_by=request.user,  # type: ignore[arg-type]
                params_from_text=True,
            )
        except ParamValidationError as exc:
            errors, status = exc, 400
        except RunError as exc:
            run_error, status = str(exc), 400
        else:
            return redirect("mlops:run", run_id=run.pk)
    picture = drawing(pipeline, _expanded(request))
    context = {
        "nav": "pipelines",
        "pipeline": pipeline,
        "picture": picture,
        "expand": _expanded(request),
        "fields": param_fields(pipeline, submitted, errors),
        "form_errors": errors,
        "run_error": run_error,
        "can_run": can_run(request),
        "recent": Run.objects.filter(pipeline=pipeline.name).select_related("created_by")[
            :RECENT_RUNS
        ],
        "concepts": [n for n in pipeline.nodes if n.is_concept],
        "node_names": [n.name for n in pipeline.nodes],
    }
    return render(request, "mlops/pipelines/detail.html", context, status=status)


def code_location(node: Node) -> str:
    """``file:line`` of the node's function, relative to the working folder when inside it."""
    if node.func is None:
        return ""
    func = inspect.unwrap(node.func)
    try:
        filename = inspect.getsourcefile(func) or ""
        line = inspect.getsourcelines(func)[1]
    except (OSError, TypeError):
        return ""
    try:
        shown = str(Path(filename).resolve().relative_to(Path.cwd()))
    except ValueError:
        shown = filename
    return f"{shown}:{line}"


@require_GET
@requires(VIEW_PERMISSION)
def node_detail(request: HttpRequest, name: str, node: str) -> HttpResponse:
    """One node's details, as a fragment for the page's side panel (or a page of its own)."""
    pipeline = pipeline_or_404(name)
    if node not in pipeline:
        raise Http404(f"pipeline '{name}' has no node '{node}'")
    step = pipeline[node]
    context = {
        "base_template": base_template_for(request),
        "pipeline": pipeline,
        "node": step,
        "datasets": step.datasets,
        "location": code_location(step),
        "consumers": sorted({c for d in step.outputs for c in pipeline.graph.consumers(d)}),
    }
    return render(request, "mlops/pipelines/_node.html", context)
