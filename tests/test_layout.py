"""The layout engine through its Python bindings: geometry properties, errors,
GIL release, and crossings compared with Graphviz ``dot`` on a corpus."""

from __future__ import annotations

import os
import statistics

import pytest

from django_mlops import _engine as engine
from django_mlops.picture.corpus import (
    Case,
    diamonds,
    fan_out,
    random_layered,
    standard_corpus,
    tree,
)
from django_mlops.picture.graphviz import dot_available, layout_with_dot, our_crossings
from tests.gil_probe import counts_while

REQUIRE_SERVICES = os.environ.get("MLOPS_REQUIRE_SERVICES") == "1"


def needs_dot() -> None:
    if dot_available():
        return
    if REQUIRE_SERVICES:
        pytest.fail("MLOPS_REQUIRE_SERVICES=1 and Graphviz dot is not on the PATH")
    pytest.skip("Graphviz dot is not installed (apt install graphviz); crossings not compared")


def assert_no_overlap(case: Case, layout: engine.Layout) -> None:
    boxes = sorted(
        (x - w / 2, x + w / 2, y - h / 2, y + h / 2)
        for (w, h), x, y in zip(case.sizes, layout.x, layout.y, strict=True)
    )
    for i, (x0, x1, y0, y1) in enumerate(boxes):
        assert x0 >= -1e-6 and y0 >= -1e-6
        assert x1 <= layout.width + 1e-6 and y1 <= layout.height + 1e-6
        for a0, _a1, b0, b1 in boxes[i + 1 :]:
            if a0 >= x1 - 1e-6:
                break  # sorted by left edge: no later box reaches back
            assert b0 >= y1 - 1e-6 or b1 <= y0 + 1e-6, "boxes overlap"


def assert_with_the_flow(case: Case, layout: engine.Layout, direction: str) -> None:
    axis = 0 if direction == "LR" else 1
    for (a, b), route in zip(case.edges, layout.routes, strict=True):
        assert layout.ranks[a] < layout.ranks[b]
        flow = [p[axis] for p in route]
        assert flow == sorted(flow)
        assert len(route) == 2 + 2 * (layout.ranks[b] - layout.ranks[a] - 1)


@pytest.mark.parametrize("direction", ["LR", "TB"])
@pytest.mark.parametrize(
    "case",
    [tree(200), diamonds(10), fan_out(30), random_layered(400, 20, seed=5)],
    ids=lambda c: c.name,
)
def test_geometry_properties(case: Case, direction: str) -> None:
    layout = engine.layout(case.sizes, case.edges, direction=direction)
    assert len(layout.x) == case.node_count and len(layout.routes) == len(case.edges)
    assert_no_overlap(case, layout)
    assert_with_the_flow(case, layout, direction)
    again = engine.layout(case.sizes, case.edges, direction=direction)
    assert (again.x, again.y, again.routes) == (layout.x, layout.y, layout.routes)
    assert our_crossings(layout, case.edges, direction) == layout.crossings


def test_long_edges_get_virtual_points() -> None:
    # a -> b -> c -> d plus a -> d: the shortcut passes two ranks.
    layout = engine.layout([(50, 30)] * 4, [(0, 1), (1, 2), (2, 3), (0, 3)])
    assert layout.ranks == [0, 1, 2, 3]
    shortcut = layout.routes[3]
    assert len(shortcut) == 6
    for box, enter, leave in ((1, shortcut[1], shortcut[2]), (2, shortcut[3], shortcut[4])):
        # Straight through the band of box 1's rank, then box 2's ...
        assert enter[1] == leave[1]
        assert abs((enter[0] + leave[0]) / 2 - layout.x[box]) < 1e-9
        # ... beside that box, not through it.
        assert abs(enter[1] - layout.y[box]) >= 15


def test_bad_input_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="beyond"):
        engine.layout([(10, 10)], [(0, 1)])
    with pytest.raises(ValueError, match="self-loop"):
        engine.layout([(10, 10)], [(0, 0)])
    with pytest.raises(ValueError, match="direction"):
        engine.layout([(10, 10)], [], direction="RL")
    with pytest.raises(ValueError, match="positive"):
        engine.layout([(10, 10)], [], node_gap=0)
    with pytest.raises(ValueError, match="finite"):
        engine.layout([(float("nan"), 10)], [])


def test_cycles_are_drawn_not_refused() -> None:
    layout = engine.layout([(40, 20)] * 3, [(0, 1), (1, 2), (2, 0)])
    assert sorted(layout.ranks) == [0, 1, 2]
    assert layout.routes[2][0][0] > layout.routes[2][-1][0]  # drawn back against the flow


def test_count_crossings_rule() -> None:
    assert engine.count_crossings([[(0, 0), (10, 5)], [(0, 5), (10, 0)]], [0, 10]) == 1
    assert engine.count_crossings([[(0, 0), (10, 5)], [(0, 0), (10, 0)]], [0, 10]) == 0


def test_layout_releases_the_gil() -> None:
    case = random_layered(10_000, 100, seed=1)
    during, _ = counts_while(lambda: engine.layout(case.sizes, case.edges))
    # Held for the whole call, the GIL would freeze the counter (this thread
    # never reaches a bytecode boundary inside the call); released, it counts on.
    assert during > 1000, during


def crossing_ratio(ours: int, theirs: int) -> float:
    """ours / theirs, where a drawing without crossings counts as equal only
    to another without crossings."""
    if theirs == 0:
        return 1.0 if ours == 0 else float(ours + 1)
    return ours / theirs


@pytest.mark.graphviz
def test_crossings_against_dot_on_the_corpus() -> None:
    needs_dot()
    ratios = []
    layered = []
    for case in standard_corpus(max_nodes=500):
        ours = engine.layout(case.sizes, case.edges, direction="TB")
        theirs = layout_with_dot(case.sizes, case.edges)
        ratio = crossing_ratio(our_crossings(ours, case.edges, "TB"), theirs.crossings)
        ratios.append(ratio)
        if case.name.startswith("layered"):
            layered.append(ratio)
        # No single graph may be drawn much worse than dot draws it.
        assert ratio <= 1.3, (case.name, ours.crossings, theirs.crossings)
    assert statistics.median(ratios) <= 1.1
    # The random layered graphs alone, where crossings cannot all be avoided.
    assert statistics.median(layered) <= 1.1, layered
