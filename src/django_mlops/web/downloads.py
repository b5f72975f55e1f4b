"""The picture of a pipeline, or of a run coloured by its tasks' states, as SVG or PNG."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from ..models import Run, TaskRun
from ..picture import pipeline_svg
from .access import VIEW_PERMISSION, requires
from .pictures import drawing, svg_response
from .pipelines import pipeline_or_404
from .runs import _pipeline_for

__all__ = ["pipeline_picture", "run_picture"]


@require_GET
@requires(VIEW_PERMISSION)
def pipeline_picture(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    """``pipelines/<name>/picture.<svg|png>`` (``?expand=`` as on the page)."""
    pipeline = pipeline_or_404(name)
    svg = drawing(pipeline, [e for e in request.GET.getlist("expand") if e]).svg
    return svg_response(svg, fmt, pipeline.name)


@require_GET
@requires(VIEW_PERMISSION)
def run_picture(request: HttpRequest, run_id: int, fmt: str) -> HttpResponse:
    """``runs/<id>/picture.<svg|png>``: the DAG coloured by the run's task states, with a legend."""
    run = get_object_or_404(Run, pk=run_id)
    pipeline = _pipeline_for(run)
    if pipeline is None:
        raise Http404(f"run {run.pk}'s pipeline cannot be loaded here, so it cannot be drawn")
    known = {n.name for n in pipeline.nodes}
    states = {
        node: state
        for node, state in TaskRun.objects.filter(run=run).values_list("node", "state")
        if node in known
    }
    expand = [e for e in request.GET.getlist("expand") if e]
    return svg_response(pipeline_svg(pipeline, states=states, expand=expand), fmt, f"run-{run.pk}")
