"""Scene plus layout to a standalone SVG document.

Every box is a ``<g>`` with a stable id (``node-<slug>``, ``group-…``,
``data-…``, ``param-…``) and ``data-*`` attributes naming what it stands for;
every edge is a ``<g id="edge-<from>-<to>">``. State colours are set both as
attributes and, through ``class="state-<name>"``, by the embedded stylesheet,
so a page can recolour a step live by changing its class.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from django_mlops import _engine

from .scene import Box, Scene, slug
from .states import STATES, palette
from .text import fit_text, text_width

__all__ = ["BoxSize", "box_size", "render_svg"]

FONT_FAMILY = "Helvetica, Arial, 'DejaVu Sans', sans-serif"
LABEL_SIZE = 13.0
DETAIL_SIZE = 10.5
DATA_SIZE = 11.5
PAD_X = 14.0
MAX_LABEL_WIDTH = 240.0
MARGIN = 24.0
EDGE_COLOUR = "#94a3b8"
STACK_OFFSET = 4.0  # how far the shadow boxes of a group stick out


@dataclass(frozen=True)
class BoxSize:
    """A box's size and its label as it will be drawn (maybe shortened)."""

    width: float
    height: float
    label: str


def box_size(box: Box) -> BoxSize:
    """How big ``box`` is drawn: wide enough for its label, never clipping it."""
    if box.kind in ("dataset", "param"):
        label = fit_text(box.label, DATA_SIZE, MAX_LABEL_WIDTH)
        return BoxSize(max(56.0, text_width(label, DATA_SIZE) + 2 * PAD_X), 26.0, label)
    label = fit_text(box.label, LABEL_SIZE, MAX_LABEL_WIDTH)
    width = max(text_width(label, LABEL_SIZE), text_width(box.detail, DETAIL_SIZE))
    height = 46.0 if box.detail else 34.0
    extra = STACK_OFFSET * 2 if box.kind == "group" else 0.0
    return BoxSize(max(84.0, width + 2 * PAD_X) + extra, height + extra, label)


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _edge_path(points: Sequence[tuple[float, float]], lr: bool) -> str:
    # Cubic pieces whose handles lie along the flow: edges leave and enter
    # boxes straight and bend smoothly in between.
    x0, y0 = points[0]
    parts = [f"M{_fmt(x0)},{_fmt(y0)}"]
    for (ax, ay), (bx, by) in itertools.pairwise(points):
        if lr:
            mid = (ax + bx) / 2
            c1, c2 = (mid, ay), (mid, by)
        else:
            mid = (ay + by) / 2
            c1, c2 = (ax, mid), (bx, mid)
        if ax == bx or ay == by:
            parts.append(f"L{_fmt(bx)},{_fmt(by)}")
        else:
            parts.append(
                f"C{_fmt(c1[0])},{_fmt(c1[1])} {_fmt(c2[0])},{_fmt(c2[1])} {_fmt(bx)},{_fmt(by)}"
            )
    return " ".join(parts)


def _spread_ports(
    scene: Scene,
    sizes: Sequence[BoxSize],
    routes: Sequence[Sequence[tuple[float, float]]],
    lr: bool,
) -> list[list[tuple[float, float]]]:
    """Routes whose ends are spread along each box's side instead of meeting
    in one point, ordered like the routes' far ends so they do not cross.
    """
    spread = [list(r) for r in routes]
    cross = 1 if lr else 0
    ends: dict[tuple[int, bool], list[tuple[float, int]]] = {}
    for e, (a, b) in enumerate(scene.edges):
        route = spread[e]
        if len(route) < 2:
            continue
        ends.setdefault((a, False), []).append((route[1][cross], e))
        ends.setdefault((b, True), []).append((route[-2][cross], e))
    for (box, incoming), items in ends.items():
        if len(items) < 2:
            continue
        side = sizes[box].height if lr else sizes[box].width
        step = min(8.0, (side - 12.0) / (len(items) - 1))
        items.sort()
        for k, (_, e) in enumerate(items):
            offset = (k - (len(items) - 1) / 2) * step
            route = spread[e]
            i = -1 if incoming else 0
            point = list(route[i])
            point[cross] += offset
            route[i] = (point[0], point[1])
    return spread


def _data_attrs(box: Box) -> str:
    if box.kind == "step":
        return f' data-node="{_attr(box.names[0])}" data-state="{_attr(box.state or "")}"'
    if box.kind == "group":
        return (
            f' data-group="{_attr(box.label)}" data-count="{len(box.names)}"'
            f' data-state="{_attr(box.state or "")}"'
        )
    if box.kind == "param":
        return f' data-param="{_attr(box.names[0])}"'
    return f' data-dataset="{_attr(",".join(box.names))}"'


def _box_svg(box: Box, size: BoxSize, cx: float, cy: float) -> list[str]:
    classes = [box.kind]
    if box.concept:
        classes.append("concept")
    if box.state:
        classes.append(f"state-{box.state}")
    out = [
        f'<g id="{_attr(box.element_id)}" class="{" ".join(classes)}"{_data_attrs(box)}>',
        f"<title>{escape(box.tooltip)}</title>",
    ]
    w, h = size.width, size.height
    if box.kind in ("dataset", "param"):
        fill, stroke, ink = (
            ("#f8fafc", "#cbd5e1", "#475569")
            if box.kind == "dataset"
            else ("#fefce8", "#d6b94c", "#713f12")
        )
        out.append(
            f'<rect x="{_fmt(cx - w / 2)}" y="{_fmt(cy - h / 2)}" width="{_fmt(w)}" '
            f'height="{_fmt(h)}" rx="{_fmt(h / 2)}" fill="{fill}" stroke="{stroke}"/>'
        )
        out.append(
            f'<text x="{_fmt(cx)}" y="{_fmt(cy + DATA_SIZE * 0.35)}" font-size="{DATA_SIZE}" '
            f'fill="{ink}" text-anchor="middle">{escape(size.label)}</text>'
        )
        out.append("</g>")
        return out
    colours = palette(box.state)
    dash = ' stroke-dasharray="6 4"' if box.concept else ""
    if box.kind == "group":
        # Two shadow boxes behind the front one: a stack of steps.
        w -= 2 * STACK_OFFSET
        h -= 2 * STACK_OFFSET
        for k in (2, 1):
            dx = STACK_OFFSET * k - STACK_OFFSET
            out.append(
                f'<rect class="shadow" x="{_fmt(cx - w / 2 + dx)}" y="{_fmt(cy - h / 2 - dx)}" '
                f'width="{_fmt(w)}" height="{_fmt(h)}" rx="6" fill="{colours.fill}" '
                f'stroke="{colours.stroke}"{dash}/>'
            )
        cx -= STACK_OFFSET
        cy += STACK_OFFSET
    out.append(
        f'<rect class="body" x="{_fmt(cx - w / 2)}" y="{_fmt(cy - h / 2)}" width="{_fmt(w)}" '
        f'height="{_fmt(h)}" rx="6" fill="{colours.fill}" stroke="{colours.stroke}" '
        f'stroke-width="1.5"{dash}/>'
    )
    label_y = cy + LABEL_SIZE * 0.35 - (7 if box.detail else 0)
    weight = ' font-weight="bold"' if box.kind == "group" else ""
    out.append(
        f'<text class="label" x="{_fmt(cx)}" y="{_fmt(label_y)}" font-size="{LABEL_SIZE}"'
        f'{weight} fill="{colours.text}" text-anchor="middle">{escape(size.label)}</text>'
    )
    if box.detail:
        style = ' font-style="italic"' if box.concept else ""
        out.append(
            f'<text class="detail" x="{_fmt(cx)}" y="{_fmt(cy + 13)}" font-size="{DETAIL_SIZE}"'
            f'{style} fill="{colours.text}" fill-opacity="0.75" text-anchor="middle">'
            f"{escape(box.detail)}</text>"
        )
    out.append("</g>")
    return out


def _edge_part(box: Box) -> str:
    # Steps appear by their plain slug (edge-load-split); other boxes by id.
    return box.element_id[len("node-") :] if box.kind == "step" else box.element_id


def _stylesheet() -> str:
    rules = [
        f".state-{s} rect{{fill:{palette(s).fill};stroke:{palette(s).stroke}}}"
        f" .state-{s} text{{fill:{palette(s).text}}}"
        for s in STATES
    ]
    return "<style>" + " ".join(rules) + "</style>"


def _legend(states: Sequence[str], top: float, width: float) -> tuple[list[str], float]:
    """The legend's elements and its height, items wrapped to ``width``."""
    out = ['<g id="legend" class="legend">']
    x, y = MARGIN, top
    for s in states:
        colours = palette(s)
        item = 14 + 6 + text_width(colours.label, 11.5) + 18
        if x + item > width - MARGIN and x > MARGIN:
            x, y = MARGIN, y + 22
        out.append(
            f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="14" height="14" rx="3" '
            f'fill="{colours.fill}" stroke="{colours.stroke}" stroke-width="1.5"/>'
        )
        out.append(
            f'<text x="{_fmt(x + 20)}" y="{_fmt(y + 11)}" font-size="11.5" fill="#334155">'
            f"{escape(colours.label)}</text>"
        )
        x += item
    out.append("</g>")
    return out, y + 14 - top


def render_svg(
    *,
    title: str,
    description: str,
    scene: Scene,
    sizes: Sequence[BoxSize],
    geometry: _engine.Layout,
    direction: str,
    legend: Sequence[str],
) -> str:
    """The standalone SVG document for a laid-out scene."""
    lr = direction == "LR"
    header = 34.0 + (18.0 if description else 0.0)
    left, top = MARGIN, MARGIN + header
    title_width = max(text_width(title, 16), text_width(description, 12) if description else 0.0)
    width = max(geometry.width + 2 * MARGIN, title_width + 2 * MARGIN, 320.0)
    legend_top = top + geometry.height + 24
    legend_parts, legend_height = _legend(legend, legend_top, width) if legend else ([], -24.0)
    height = legend_top + legend_height + MARGIN
    marker = f"arrow-{slug(title)}"
    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
        f'width="{_fmt(width)}" height="{_fmt(height)}" viewBox="0 0 {_fmt(width)} {_fmt(height)}" '
        f'font-family="{_attr(FONT_FAMILY)}" class="mlops-pipeline" '
        f'data-pipeline="{_attr(title)}">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(description)}</desc>",
        _stylesheet(),
        f'<defs><marker id="{_attr(marker)}" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto">'
        f'<path d="M0,1 L9,5 L0,9 z" fill="{EDGE_COLOUR}"/></marker></defs>',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 14}" font-size="16" font-weight="bold" '
        f'fill="#0f172a">{escape(title)}</text>',
    ]
    if description:
        out.append(
            f'<text x="{MARGIN}" y="{MARGIN + 33}" font-size="12" fill="#475569">'
            f"{escape(description)}</text>"
        )
    out.append(f'<g class="edges" transform="translate({_fmt(left)},{_fmt(top)})">')
    seen_ids: set[str] = set()
    routes = _spread_ports(scene, sizes, geometry.routes, lr)
    for (a, b), route in zip(scene.edges, routes, strict=True):
        src, dst = scene.boxes[a], scene.boxes[b]
        edge_id = f"edge-{_edge_part(src)}-{_edge_part(dst)}"
        while edge_id in seen_ids:
            edge_id += "-2"
        seen_ids.add(edge_id)
        dash = ' stroke-dasharray="5 4"' if src.concept or dst.concept else ""
        out.append(
            f'<g id="{_attr(edge_id)}" class="edge" data-from="{_attr(src.label)}" '
            f'data-to="{_attr(dst.label)}"><path d="{_edge_path(route, lr)}" fill="none" '
            f'stroke="{EDGE_COLOUR}" stroke-width="1.5"{dash} marker-end="url(#{_attr(marker)})"/>'
            "</g>"
        )
    out.append("</g>")
    out.append(f'<g class="boxes" transform="translate({_fmt(left)},{_fmt(top)})">')
    for i, box in enumerate(scene.boxes):
        out.extend(_box_svg(box, sizes[i], geometry.x[i], geometry.y[i]))
    out.append("</g>")
    out.extend(legend_parts)
    out.append("</svg>")
    return "\n".join(out) + "\n"
