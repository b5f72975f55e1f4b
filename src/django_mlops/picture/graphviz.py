"""Graphviz ``dot`` as a yardstick: lay out the same boxes and edges with it and
count its crossings by the rule used for ours (``_engine.count_crossings``).

Used by the tests and the benchmark that compare our layout with ``dot``; it
is not needed to draw pictures.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django_mlops import _engine

__all__ = ["DotResult", "dot_available", "layout_with_dot", "our_crossings"]

Point = tuple[float, float]
_POINTS_PER_INCH = 72.0
_BEZIER_SAMPLES = 8


@dataclass(frozen=True)
class DotResult:
    """What ``dot`` made of a graph: its wall and CPU time, and its crossings by
    our rule. CPU time is the fairer yardstick on a loaded machine."""

    seconds: float
    cpu_seconds: float
    crossings: int


def dot_available() -> bool:
    """Whether Graphviz ``dot`` is on the PATH."""
    return shutil.which("dot") is not None


def _dot_source(sizes: Sequence[tuple[float, float]], edges: Sequence[tuple[int, int]]) -> str:
    # Same box sizes as ours (dot takes inches), no labels, so both tools lay
    # out the same problem; rankdir TB keeps ranks on equal y in dot's output.
    lines = [
        "digraph G {",
        'node [shape=box, fixedsize=true, label=""];',
        "nodesep=0.33; ranksep=0.9;",
    ]
    lines += [
        f"n{i} [width={w / _POINTS_PER_INCH:.3f}, height={h / _POINTS_PER_INCH:.3f}];"
        for i, (w, h) in enumerate(sizes)
    ]
    lines += [f"n{a} -> n{b};" for a, b in edges]
    lines.append("}")
    return "\n".join(lines)


def _bezier(points: list[Point]) -> list[Point]:
    # dot's edges are piecewise cubic Béziers: p0, then (c1, c2, p) triples.
    sampled = [points[0]]
    for k in range(1, len(points) - 2, 3):
        p0, c1, c2, p3 = points[k - 1], points[k], points[k + 1], points[k + 2]
        for s in range(1, _BEZIER_SAMPLES + 1):
            t = s / _BEZIER_SAMPLES
            u = 1 - t
            sampled.append(
                (
                    u**3 * p0[0] + 3 * u * u * t * c1[0] + 3 * u * t * t * c2[0] + t**3 * p3[0],
                    u**3 * p0[1] + 3 * u * u * t * c1[1] + 3 * u * t * t * c2[1] + t**3 * p3[1],
                )
            )
    return sampled


def _crossings_of_plain(plain: str) -> int:
    centres: dict[str, Point] = {}
    edges: list[tuple[str, str, list[Point]]] = []
    for line in plain.splitlines():
        parts = line.split()
        if parts and parts[0] == "node":
            centres[parts[1]] = (float(parts[2]), float(parts[3]))
        elif parts and parts[0] == "edge":
            count = int(parts[3])
            coords = [float(v) for v in parts[4 : 4 + 2 * count]]
            points = [(coords[i], coords[i + 1]) for i in range(0, len(coords), 2)]
            edges.append((parts[1], parts[2], points))
    # In TB, flow runs down: along = -y (dot's y grows upwards), across = x.
    polylines = []
    for tail, head, points in edges:
        route = [centres[tail], *_bezier(points), centres[head]]
        polylines.append([(-y, x) for x, y in route])
    levels = sorted({-y for _, y in centres.values()})
    return int(_engine.count_crossings(polylines, levels))


def layout_with_dot(
    sizes: Sequence[tuple[float, float]], edges: Sequence[tuple[int, int]]
) -> DotResult:
    """Run ``dot`` once, writing SVG (the time users know) and plain geometry
    (for counting), and return its wall time and crossings.
    """
    source = _dot_source(sizes, edges)
    cpu_before = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        ["dot", "-Tsvg", "-o", "/dev/null", "-Tplain"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - start
    cpu = _children_cpu() - cpu_before
    return DotResult(seconds=seconds, cpu_seconds=cpu, crossings=_crossings_of_plain(done.stdout))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def our_crossings(
    layout: _engine.Layout, edges: Sequence[tuple[int, int]], direction: str = "LR"
) -> int:
    """Our layout's crossings by the same rule as :func:`layout_with_dot`:
    polylines from centre to centre through the routes, rank lines at the rank
    centres. Equals ``layout.crossings``; recomputed to prove the rule is shared.
    """
    lr = direction == "LR"

    def along(x: float, y: float) -> Point:
        return (x, y) if lr else (y, x)

    levels: dict[int, float] = {}
    for rank, x, y in zip(layout.ranks, layout.x, layout.y, strict=True):
        levels[rank] = x if lr else y
    polylines = []
    for (a, b), route in zip(edges, layout.routes, strict=True):
        line = [along(layout.x[a], layout.y[a])]
        line += [along(x, y) for x, y in route]
        line.append(along(layout.x[b], layout.y[b]))
        polylines.append(line)
    return int(_engine.count_crossings(polylines, sorted(levels.values())))
