"""Our layered layout against Graphviz dot on the same graphs, side by side.

For 100, 1,000 and 5,000-node random layered DAGs: our layout time (through
the Python bindings), dot's time (one ``dot -Tsvg`` run, also writing plain
geometry for counting), the speed ratio, each as wall and as CPU time, and
both crossing counts by the same rule. Then the crossing ratio over the
whole comparison corpus (trees, diamonds, fan-outs, random layered graphs up
to 2,000 nodes) and the 10,000-node layout time.

Run: .venv/bin/python bench/bench_layout_vs_dot.py [--skip-5000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from django_mlops import _engine as engine
from django_mlops.picture.corpus import Case, random_layered, standard_corpus
from django_mlops.picture.graphviz import dot_available, layout_with_dot

SIZES = ((100, 10), (1000, 30), (5000, 70))
REPEATS = 5  # ours is timed as the best of these; dot once (it is slow enough)


def our_time(case: Case) -> tuple[float, float, int]:
    """Best wall and best CPU time of REPEATS layouts, and the crossings."""
    best_wall = best_cpu = float("inf")
    crossings = 0
    for _ in range(REPEATS):
        wall, cpu = time.perf_counter(), time.process_time()
        layout = engine.layout(case.sizes, case.edges, direction="TB")
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
        crossings = layout.crossings
    return best_wall, best_cpu, crossings


def side_by_side(skip_big: bool) -> None:
    print("wall time, and CPU time (ours: this process; dot: its child process's user+sys)")
    print(
        f"{'nodes':>6} {'edges':>6} {'ours ms':>8} {'dot ms':>8} {'faster':>7} "
        f"{'ours cpu':>9} {'dot cpu':>8} {'faster':>7} "
        f"{'our crossings':>14} {'dot crossings':>14} {'ratio':>6}"
    )
    for n, width in SIZES:
        if skip_big and n > 1000:
            continue
        case = random_layered(n, width, seed=0)
        wall, cpu, our_crossings = our_time(case)
        dot = layout_with_dot(case.sizes, case.edges)
        print(
            f"{n:>6} {len(case.edges):>6} {wall * 1e3:>8.1f} {dot.seconds * 1e3:>8.0f} "
            f"{dot.seconds / wall:>6.0f}x {cpu * 1e3:>9.1f} {dot.cpu_seconds * 1e3:>8.0f} "
            f"{dot.cpu_seconds / cpu:>6.0f}x {our_crossings:>14} {dot.crossings:>14} "
            f"{our_crossings / max(1, dot.crossings):>6.2f}",
            flush=True,
        )


def corpus_ratio() -> None:
    ratios = []
    for case in standard_corpus(max_nodes=2000):
        ours = engine.layout(case.sizes, case.edges, direction="TB").crossings
        theirs = layout_with_dot(case.sizes, case.edges).crossings
        ratio = (1.0 if ours == 0 else ours + 1.0) if theirs == 0 else ours / theirs
        ratios.append(ratio)
        print(f"  {case.name:<18} ours {ours:>8} dot {theirs:>8}  {ratio:.3f}", flush=True)
    layered = [
        r
        for c, r in zip(standard_corpus(2000), ratios, strict=True)
        if c.name.startswith("layered")
    ]
    print(
        f"corpus median crossing ratio (ours/dot): {statistics.median(ratios):.3f} "
        f"over {len(ratios)} graphs; random layered only: {statistics.median(layered):.3f}"
    )


def ten_thousand() -> None:
    case = random_layered(10_000, 100, seed=0)
    wall, cpu, _ = our_time(case)
    print(
        f"10,000 nodes, {len(case.edges)} edges: {wall * 1e3:.0f} ms wall, "
        f"{cpu * 1e3:.0f} ms CPU (best of {REPEATS})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-5000", action="store_true", help="leave out the slow dot run")
    args = parser.parse_args()
    if not dot_available():
        sys.exit("Graphviz dot is not on the PATH (apt install graphviz)")
    side_by_side(args.skip_5000)
    corpus_ratio()
    ten_thousand()


if __name__ == "__main__":
    main()
