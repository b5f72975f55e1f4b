"""Pipelines the runner, caching, recording and reproduce tests share.

Node functions live at module level so every executor can run them (process
pools pickle functions by reference). ``CALLS`` records which functions ran in
this process, to prove that cached nodes are not called; ``calls()`` reads it.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from pathlib import Path
from typing import Any

from django_mlops import Pipeline, log_artifact, log_metric, log_param

# A deque, not a list: code hashes include the contents of module-level lists
# (they may be constants a node reads), and this one changes as nodes run.
CALLS: deque[str] = deque()
log = logging.getLogger("tests.pipelines")


def calls() -> list[str]:
    """The node functions called in this process since CALLS was last cleared."""
    return list(CALLS)


# A small deterministic diamond: load -> (scale, shift) -> combine, plus a side branch.
def load() -> list[int]:
    CALLS.append("load")
    return [1, 2, 3]


def scale(x: list[int], a: int) -> list[int]:
    CALLS.append("scale")
    return [v * a for v in x]


def shift(x: list[int], b: int) -> list[int]:
    CALLS.append("shift")
    return [v + b for v in x]


def combine(y: list[int], z: list[int]) -> dict[str, int]:
    CALLS.append("combine")
    print("combining", len(y), "values")
    log.warning("combine saw %d values", len(y) + len(z))
    total = sum(y) + sum(z)
    for step in range(3):
        log_metric("partial", float(step * total), step=step)
    log_metric("total", float(total))
    log_param("combined", True)
    return {"total": total}


def describe(x: list[int]) -> str:
    CALLS.append("describe")
    return f"{len(x)} values"


def diamond(name: str = "diamond", loader: Any = load) -> Pipeline:
    """load -> scale(params:a), shift(params:b) -> combine; load -> describe."""
    p = Pipeline(name, description="A deterministic diamond", params={"a": 2, "b": 3})
    p.node(outputs="x", name="load")(loader)
    p.node(inputs=["x", "params:a"], outputs="y")(scale)
    p.node(inputs=["x", "params:b"], outputs="z")(shift)
    p.node(inputs=["y", "z"], outputs="result", tags=["final"])(combine)
    p.node(inputs=["x"], outputs="summary")(describe)
    return p


# Failure spread: source -> boom -> after; source -> fine (independent branch).
def source() -> int:
    return 1


def boom(v: int) -> int:
    raise ValueError(f"boom on {v}")


def after(v: int) -> int:
    return v


def fine(v: int) -> int:
    time.sleep(0.05)
    return v + 1


def failing(name: str = "failing") -> Pipeline:
    """A failing node with a descendant, and an independent branch that succeeds."""
    p = Pipeline(name)
    p.node(outputs="s")(source)
    p.node(inputs=["s"], outputs="b")(boom)
    p.node(inputs=["b"], outputs="a")(after)
    p.node(inputs=["s"], outputs="f")(fine)
    return p


# Retries: fails until the marker file has been touched `fail_times` times.
def flaky(marker: str, fail_times: int) -> str:
    path = Path(marker)
    count = int(path.read_text()) if path.exists() else 0
    path.write_text(str(count + 1))
    if count < fail_times:
        raise RuntimeError(f"attempt {count + 1} fails")
    return "ok"


def flaky_pipeline(marker: str, fail_times: int, retries: int) -> Pipeline:
    p = Pipeline("flaky", params={"marker": marker, "fail_times": fail_times})
    p.node(inputs=["params:marker", "params:fail_times"], outputs="out", retries=retries)(flaky)
    return p


def sleepy(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def slow_pipeline(seconds: float, timeout: float | None = None, name: str = "slow") -> Pipeline:
    p = Pipeline(name, params={"seconds": seconds})
    p.node(inputs=["params:seconds"], outputs="slept", timeout=timeout)(sleepy)
    return p


def chain_of_sleeps(n: int, seconds: float, name: str = "sleeps") -> Pipeline:
    """n nodes in a chain, each sleeping; for cancellation tests."""
    p = Pipeline(name, params={"seconds": seconds})
    previous = None
    for i in range(n):
        inputs = ["params:seconds"] if previous is None else [previous, "params:seconds"]
        p.node(inputs=inputs, outputs=f"d{i}", name=f"n{i}")(_sleep_step)
        previous = f"d{i}"
    return p


def _sleep_step(*args: Any) -> float:
    time.sleep(float(args[-1]))
    return float(args[-1])


def crash() -> int:
    os._exit(3)


def crashing_pipeline() -> Pipeline:
    p = Pipeline("crashing")
    p.node(outputs="never")(crash)
    p.node(outputs="other", name="other")(source)
    return p


def reversed_numbers() -> list[int]:
    return [3, 2, 1]


def chain_step(*args: Any) -> int:
    return len(args)


def with_artifact() -> int:
    log_artifact("notes", {"k": 1})
    return 1


def interrupt(v: int) -> int:
    raise KeyboardInterrupt  # what Ctrl-C does inside a running node
