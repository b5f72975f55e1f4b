"""Generated DAGs for comparing layouts: trees, diamonds, wide fan-outs and
random layered graphs, each with box sizes like those of real labels.

Deterministic: a case is rebuilt identically from its name and parameters,
so the tests and the benchmark compare the same graphs with ``dot``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Case", "diamonds", "fan_out", "random_layered", "standard_corpus", "tree"]

Edge = tuple[int, int]


@dataclass(frozen=True)
class Case:
    """One graph: a name, box sizes (width, height) and edges by index."""

    name: str
    sizes: list[tuple[float, float]]
    edges: list[Edge]

    @property
    def node_count(self) -> int:
        """Number of boxes."""
        return len(self.sizes)


def _sizes(n: int, seed: int) -> list[tuple[float, float]]:
    # Label-like widths (60-170 px) and the two heights the picture uses.
    rng = random.Random(seed)
    return [
        (60.0 + rng.randrange(12) * 10.0, 34.0 if rng.random() < 0.8 else 46.0) for _ in range(n)
    ]


def tree(n: int, branching: int = 3, seed: int = 0) -> Case:
    """An out-tree: every box after the first has one parent among earlier ones."""
    rng = random.Random(seed)
    edges = [(max(0, (v - 1) // branching - rng.randrange(2)), v) for v in range(1, n)]
    return Case(f"tree-{n}", _sizes(n, seed), edges)


def diamonds(count: int, width: int = 3, seed: int = 0) -> Case:
    """A chain of diamonds: each splits into ``width`` branches that join again."""
    edges: list[Edge] = []
    top = 0
    n = 1
    for _ in range(count):
        branches = list(range(n, n + width))
        bottom = n + width
        edges += [(top, b) for b in branches] + [(b, bottom) for b in branches]
        top, n = bottom, bottom + 1
    return Case(f"diamonds-{n}", _sizes(n, seed), edges)


def fan_out(width: int, seed: int = 0) -> Case:
    """load -> split -> ``width`` parallel two-step branches -> pick, plus a
    shared test set read by every second step: the hyper-parameter sweep shape.
    """
    edges: list[Edge] = [(0, 1)]
    pick = 2 + 2 * width
    for i in range(width):
        train, score = 2 + i, 2 + width + i
        edges += [(1, train), (train, score), (1, score), (score, pick)]
    return Case(f"fanout-{pick + 1}", _sizes(pick + 1, seed), edges)


def random_layered(n: int, layer_width: int, reach: int = 3, seed: int = 0) -> Case:
    """``n`` boxes in layers of ``layer_width``; each box after the first layer
    reads one to three boxes from the ``reach`` layers before its own.
    """
    rng = random.Random(seed)
    edges: set[Edge] = set()
    for v in range(layer_width, n):
        layer = v // layer_width
        low = max(0, layer - reach) * layer_width
        high = layer * layer_width
        for _ in range(1 + rng.randrange(3)):
            edges.add((rng.randrange(low, high), v))
    return Case(f"layered-{n}-s{seed}", _sizes(n, seed), sorted(edges))


def standard_corpus(max_nodes: int) -> list[Case]:
    """The comparison corpus up to ``max_nodes`` boxes (2,000 for the full one)."""
    cases = [
        tree(60),
        tree(400, branching=4, seed=1),
        diamonds(12),
        diamonds(40, width=4, seed=2),
        fan_out(24),
        fan_out(250, seed=3),
    ]
    for n, width in ((100, 10), (300, 15), (500, 20), (1000, 30), (2000, 40)):
        cases += [random_layered(n, width, seed=s) for s in range(3)]
    return [c for c in cases if c.node_count <= max_nodes]
