"""The pipeline picture: a layered drawing of a pipeline as standalone SVG.

Example::

    from django_mlops.picture import pipeline_svg, svg_to_png

    svg = pipeline_svg(iris, states={"load": "succeeded", "fit": "running"})
    svg_to_png(svg, "iris.png")

The geometry comes from the C++ engine (``django_mlops._engine.layout``);
this package decides what the boxes are (steps, groups, datasets) and draws.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from django_mlops import _engine

from .png import svg_to_png
from .protocols import NodeLike, PipelineLike
from .scene import build_scene
from .states import STATES
from .svg import box_size, render_svg

__all__ = ["STATES", "NodeLike", "PipelineLike", "pipeline_svg", "svg_to_png"]

_NODE_GAP = 22.0
_RANK_GAP = {"LR": 56.0, "TB": 44.0}


def pipeline_svg(
    pipeline: PipelineLike,
    *,
    states: Mapping[str, str] | None = None,
    show_datasets: bool = False,
    direction: str = "LR",
    group_threshold: int | None = 12,
    group_by_tag: bool = False,
    expand: Collection[str] = (),
) -> str:
    """Draw ``pipeline`` as a standalone SVG document.

    ``states`` maps step names to NodeState names (``"succeeded"``, ``"failed"``,
    …): steps are coloured and a legend is added. ``show_datasets`` draws
    datasets and parameters as boxes of their own instead of folding them into
    edges. ``direction`` is ``"LR"`` or ``"TB"``. At least ``group_threshold``
    alike steps (a fan-out) are drawn as one box with a count (``None``: never);
    ``group_by_tag`` draws steps sharing a first tag as one box; names in
    ``expand`` (a group's name or a member's) keep their group drawn step by step.
    Concept steps are dashed, with their description as tooltip. Raises
    ValueError for an unknown direction or state.
    """
    if direction not in ("LR", "TB"):
        raise ValueError(f"direction must be 'LR' or 'TB', not {direction!r}")
    states = dict(states or {})
    scene = build_scene(
        pipeline,
        states=states,
        show_datasets=show_datasets,
        group_threshold=group_threshold,
        group_by_tag=group_by_tag,
        expand=frozenset(expand),
    )
    sizes = [box_size(b) for b in scene.boxes]
    geometry = _engine.layout(
        [(s.width, s.height) for s in sizes],
        scene.edges,
        direction=direction,
        node_gap=_NODE_GAP,
        rank_gap=_RANK_GAP[direction],
    )
    used = {b.state for b in scene.boxes if b.state}
    legend = [s for s in STATES if s in used] if states else []
    return render_svg(
        title=pipeline.name,
        description=pipeline.description,
        scene=scene,
        sizes=sizes,
        geometry=geometry,
        direction=direction,
        legend=legend,
    )
