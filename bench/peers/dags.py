"""Benchmark DAG shapes as plain data: ``[(node_name, [parent names]), ...]`` in topological order.

Pure Python with no dependency, so both benchmark environments import it.
Node ``n{i}`` produces the dataset of the same name.

- ``chain``: n0 -> n1 -> ... (no parallelism; the longest dependency path).
- ``wide``: n0 feeds every other node (maximum fan-out, every node ready at once).
- ``layered``: layers of ``width`` nodes; each node reads 1-3 random nodes of the layer
  above (seeded), like a real pipeline of independent branches that merge.
"""

from __future__ import annotations

import random

Dag = list[tuple[str, list[str]]]

SHAPES = ("chain", "wide", "layered")


def chain(n: int) -> Dag:
    return [(f"n{i}", [f"n{i - 1}"] if i else []) for i in range(n)]


def wide(n: int) -> Dag:
    return [("n0", [])] + [(f"n{i}", ["n0"]) for i in range(1, n)]


def layered(n: int, width: int = 100, seed: int = 0) -> Dag:
    rng = random.Random(seed)
    dag: Dag = []
    previous: list[str] = []
    for i in range(n):
        if i % width == 0 and i:
            previous = [name for name, _ in dag[i - width : i]]
        parents = sorted(rng.sample(previous, rng.randint(1, 3))) if previous else []
        dag.append((f"n{i}", parents))
    return dag


def make_dag(shape: str, n: int) -> Dag:
    """The DAG of ``shape`` with ``n`` nodes."""
    if shape == "chain":
        return chain(n)
    if shape == "wide":
        return wide(n)
    if shape == "layered":
        return layered(n)
    raise ValueError(f"unknown shape {shape!r}; choose from {SHAPES}")


def sinks(dag: Dag) -> list[str]:
    """Nodes nobody reads: what a run must produce so that every node executes."""
    read = {parent for _, parents in dag for parent in parents}
    return [name for name, _ in dag if name not in read]


def noop(*args: object) -> int:
    """The benchmarked node body: nothing, so the time measured is the framework's.

    It returns 0 rather than None because Kedro refuses to store a None output.
    """
    return 0


def nap(*args: object) -> int:
    """A node that sleeps 1 ms (releasing the GIL), for the threads speed-up."""
    import time

    time.sleep(0.001)
    return 0
