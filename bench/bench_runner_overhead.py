"""Per-node overhead of ``Pipeline.run`` with the inline executor on no-op nodes.

Run: .venv/bin/python bench/bench_runner_overhead.py [--sizes 1000 10000]
     [--shapes chain wide random] [--repeats 5]

For every shape, size and ``record`` setting a fresh subprocess is started with
the standalone settings and a temporary ``MLOPS_HOME`` (its own SQLite file and
artifact folder), builds the pipeline, runs it once to warm up, then ``repeats``
times with ``no_cache=True`` (every node executes and, when recorded, writes its
TaskRun row, its outputs on it). The figure is the median wall time of a whole
``run()`` (planning, records, environment capture included) divided by the node
count; the CPU time of the process (``time.process_time``) is shown beside it,
as it moves less when other work shares the machine. Shapes:

- chain: node i reads node i-1's output;
- wide: one source node, every other node reads it;
- random: layers of about sqrt(n) nodes, each reading 1 to 3 outputs of the
  previous two layers (seeded, so the same graph every time).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def noop(*args: Any) -> None:
    """A node that does nothing: what is measured is everything around it."""
    return None


def build(shape: str, n: int) -> Any:
    """A pipeline of ``n`` no-op nodes in the given shape."""
    from django_mlops import Pipeline

    pipeline = Pipeline(f"{shape}-{n}")
    if shape == "chain":
        for i in range(n):
            inputs = [f"d{i - 1}"] if i else []
            pipeline.node(inputs=inputs, outputs=f"d{i}", name=f"n{i}")(noop)
    elif shape == "wide":
        pipeline.node(inputs=[], outputs="d0", name="n0")(noop)
        for i in range(1, n):
            pipeline.node(inputs=["d0"], outputs=f"d{i}", name=f"n{i}")(noop)
    elif shape == "random":
        rng = random.Random(0)
        width = max(1, int(n**0.5))
        layers: list[list[str]] = []
        made = 0
        while made < n:
            layer = []
            earlier = [d for previous in layers[-2:] for d in previous]
            for _ in range(min(width, n - made)):
                inputs = rng.sample(earlier, min(len(earlier), rng.randint(1, 3)))
                name = f"d{made}"
                pipeline.node(inputs=inputs, outputs=name, name=f"n{made}")(noop)
                layer.append(name)
                made += 1
            layers.append(layer)
    else:
        raise SystemExit(f"unknown shape {shape!r}")
    return pipeline


def child(shape: str, n: int, record: bool, repeats: int) -> None:
    """Measure one configuration in this (fresh) process and print us/node."""
    import django

    sys.path.insert(0, os.path.join(ROOT, "src"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "django_mlops.standalone.settings"
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    pipeline = build(shape, n)
    pipeline.run(record=record, no_cache=True, executor="inline")  # warm-up
    times, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        run = pipeline.run(record=record, no_cache=True, executor="inline")
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        assert run.status == "succeeded", run.status
    print(f"{statistics.median(times) / n * 1e6:.2f} {statistics.median(cpu) / n * 1e6:.2f}")


def main() -> None:
    """Start one subprocess per configuration and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--shapes", nargs="+", default=["chain", "wide", "random"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", nargs=4, metavar=("SHAPE", "N", "RECORD", "REPEATS"))
    args = parser.parse_args()
    if args.child:
        shape, n, record, repeats = args.child
        child(shape, int(n), record == "1", int(repeats))
        return
    print(f"median of {args.repeats} runs, us per node (inline executor, no-op nodes)")
    print("wall time, and in brackets this process's CPU time (steadier on a busy machine)")
    print(f"{'shape':<8}{'nodes':>8}{'record=False':>20}{'record=True':>20}")
    for shape in args.shapes:
        for n in args.sizes:
            cells = []
            repeats = str(args.repeats)
            for record in ("0", "1"):
                with tempfile.TemporaryDirectory(prefix="mlops-bench-") as home:
                    done = subprocess.run(
                        [sys.executable, __file__, "--child", shape, str(n), record, repeats],
                        env={**os.environ, "MLOPS_HOME": home},
                        capture_output=True,
                        text=True,
                        check=False,
                    )
                if done.returncode != 0:
                    raise SystemExit(done.stderr)
                wall, cpu = done.stdout.split()[-2:]
                cells.append(f"{wall} ({cpu})")
            print(f"{shape:<8}{n:>8}{cells[0]:>20}{cells[1]:>20}", flush=True)


if __name__ == "__main__":
    main()
