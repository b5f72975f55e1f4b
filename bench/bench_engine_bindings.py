"""Build and validate a 100,000-node graph through the bindings vs. plain Python dicts."""

from __future__ import annotations

import random
import statistics
import time
from collections import deque

from django_mlops import _engine as engine

NODES = 100_000
REPEATS = 7


def rows(n: int, seed: int = 7) -> list[tuple[str, list[str], list[str]]]:
    rng = random.Random(seed)
    out = []
    for v in range(n):
        layer_start = v - v % 1000
        inputs = sorted({f"d{rng.randrange(layer_start)}" for _ in range(3)}) if layer_start else []
        out.append((f"n{v}", inputs, [f"d{v}"]))
    return out


def engine_build(spec: list[tuple[str, list[str], list[str]]]) -> None:
    g = engine.Graph()
    g.add_nodes(spec)
    g.validate()
    g.topological_order()


def python_build(spec: list[tuple[str, list[str], list[str]]]) -> None:
    """The same checks in plain Python: names, producers, missing inputs, Kahn."""
    index: dict[str, int] = {}
    producer: dict[str, int] = {}
    for name, _inputs, outputs in spec:
        if name in index:
            raise ValueError(name)
        index[name] = len(index)
        for out in outputs:
            if out in producer:
                raise ValueError(out)
            producer[out] = index[name]
    children: list[list[int]] = [[] for _ in spec]
    indegree = [0] * len(spec)
    for v, (_name, inputs, _outputs) in enumerate(spec):
        for d in inputs:
            if d not in producer:
                raise ValueError(d)
            children[producer[d]].append(v)
            indegree[v] += 1
    queue = deque(v for v in range(len(spec)) if indegree[v] == 0)
    seen = 0
    while queue:
        u = queue.popleft()
        seen += 1
        for c in children[u]:
            indegree[c] -= 1
            if indegree[c] == 0:
                queue.append(c)
    if seen != len(spec):
        raise ValueError("cycle")


def median_seconds(fn, spec) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn(spec)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    spec = rows(NODES)
    ours = median_seconds(engine_build, spec)
    theirs = median_seconds(python_build, spec)
    print(f"{NODES} nodes, median of {REPEATS}")
    print(f"engine (add_nodes + validate + topological_order): {ours:.3f} s")
    print(f"plain Python dicts + Kahn:                          {theirs:.3f} s")
    print(f"ratio python/engine: {theirs / ours:.2f}x  (target: engine < 0.3 s)")


if __name__ == "__main__":
    main()
