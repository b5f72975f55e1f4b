"""The DAG drawing of a pipeline for pages, cached, with the groups a page needs to colour.

Pages draw the picture without states and colour it in the browser from the
states they are given (``data-node``/``data-group`` ids, ``state-<name>``
classes), so the drawing of a pipeline is made once per definition and
``expand`` choice, not once per request: a 1,000-step layout costs tens of
milliseconds, a dictionary lookup nothing.
"""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.http import HttpResponse

from ..picture import pipeline_svg
from ..picture.scene import build_scene
from ..picture.states import group_state
from ..pipeline import Pipeline

__all__ = ["Drawing", "drawing", "group_states", "svg_response"]

_CACHE_SIZE = 64


@dataclass(frozen=True, slots=True)
class Drawing:
    """A pipeline's SVG and, for each group box, its element id and member steps."""

    svg: str
    groups: dict[str, tuple[str, ...]]  # SVG element id -> member step names
    group_names: dict[str, str]  # SVG element id -> the group's name (for ``expand``)

    @property
    def group_info(self) -> dict[str, dict[str, object]]:
        """For the page's script: each group box's name and members (search, expand)."""
        return {
            element_id: {"name": self.group_names[element_id], "members": list(members)}
            for element_id, members in self.groups.items()
        }


_cache: OrderedDict[tuple[object, ...], Drawing] = OrderedDict()
_lock = threading.Lock()


def drawing(pipeline: Pipeline, expand: Collection[str] = ()) -> Drawing:
    """The pipeline's picture (steps left to right, fan-outs grouped unless expanded)."""
    # id() and the node count identify one definition: a notebook that adds a
    # node, or a file imported again, draws afresh.
    key = (pipeline.name, id(pipeline), len(pipeline), tuple(sorted(expand)))
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    scene = build_scene(
        pipeline,
        states={},
        show_datasets=False,
        group_threshold=12,
        group_by_tag=False,
        expand=frozenset(expand),
    )
    groups = {b.element_id: b.names for b in scene.boxes if b.kind == "group"}
    names = {b.element_id: b.label for b in scene.boxes if b.kind == "group"}
    made = Drawing(pipeline_svg(pipeline, expand=expand), groups, names)
    with _lock:
        _cache[key] = made
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return made


def group_states(drawing: Drawing, states: Mapping[str, str]) -> dict[str, str]:
    """Each group box's state from its members' (the picture's rule: the most urgent one)."""
    shown: dict[str, str] = {}
    for element_id, members in drawing.groups.items():
        state = group_state([states.get(m) for m in members])
        if state:
            shown[element_id] = state
    return shown


def svg_response(svg: str, fmt: str, filename: str) -> HttpResponse:
    """``svg`` as a download: ``svg`` as is, ``png`` converted (503 when no converter exists)."""
    from django.http import Http404

    from ..picture import svg_to_png

    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in filename) or "pipeline"
    if fmt == "svg":
        response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    elif fmt == "png":
        with tempfile.TemporaryDirectory(prefix="mlops-png-") as folder:
            target = Path(folder) / "picture.png"
            try:
                svg_to_png(svg, target)
            except RuntimeError as exc:
                return HttpResponse(str(exc), status=503, content_type="text/plain")
            data = target.read_bytes()
        if not data:
            return HttpResponse("no PNG was made", status=503, content_type="text/plain")
        response = HttpResponse(data, content_type="image/png")
    else:
        raise Http404(f"no picture format '{fmt}'")
    response["Content-Disposition"] = f'attachment; filename="{safe}.{fmt}"'
    return response
