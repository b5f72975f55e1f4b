"""Nodes added from one thread while another plans: each plan is one consistent snapshot."""

from __future__ import annotations

import threading
import time

from django_mlops import _engine as engine
from django_mlops.pipeline import Pipeline
from django_mlops.run.planning import make_plan


def _step(value: int) -> int:
    return value


def test_nodes_added_while_another_thread_plans() -> None:
    pipeline = Pipeline("threads_plan_while_adding", params={"p": 1})
    pipeline.node(_step, name="n0", inputs=["params:p"], outputs="d0")
    started = threading.Event()
    errors: list[BaseException] = []

    def add_nodes() -> None:
        started.wait()
        try:
            for i in range(1, 400):
                pipeline.node(_step, name=f"n{i}", inputs=[f"d{i - 1}"], outputs=f"d{i}")
                if i % 20 == 0:
                    time.sleep(0.002)  # lets the planner in between additions
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    writer = threading.Thread(target=add_nodes)
    writer.start()
    sizes = []
    try:
        while writer.is_alive() or not sizes:
            started.set()
            plan = make_plan(pipeline)
            n = len(plan.keys)
            # Every per-node list describes the same nodes.
            assert len(plan.code_hashes) == len(plan.initial) == len(plan.order) == n
            assert len(plan.keys) == len(plan.input_keys_json) == n
            assert plan.initial == ["pending"] * n
            sizes.append(n)
    finally:
        writer.join()
    assert not errors, errors
    assert sizes == sorted(sizes) and len(set(sizes)) > 1, sizes
    assert len(make_plan(pipeline).keys) == 400


def test_engine_planning_in_threads_while_a_graph_grows() -> None:
    # The engine's own lock: plan() and fingerprint_keys() release the GIL while
    # add_node runs in another thread.
    graph = engine.Graph()
    graph.add_node("n0", ["params:p"], ["d0"])
    done = threading.Event()

    def grow() -> None:
        for i in range(1, 3000):
            graph.add_node(f"n{i}", [f"d{i - 1}"], [f"d{i}"])
        done.set()

    writer = threading.Thread(target=grow)
    writer.start()
    try:
        while not done.is_set():
            # Without a lock of its own the caller's sizes may be one snapshot
            # behind: that is a clean ValueError, never a crash or torn result.
            try:
                keys = engine.fingerprint_keys(graph, ["h"] * len(graph), {"p": "x"})
                assert len(keys) == len(set(keys))
                plan = engine.plan(graph, keys, set())
                assert len(plan.to_run) == len(keys)
                assert len(engine.Scheduler(graph, plan).states()) == len(keys)
            except ValueError as exc:
                assert "entries" in str(exc), exc
    finally:
        writer.join()
    keys = engine.fingerprint_keys(graph, ["h"] * 3000, {"p": "x"})
    assert len(engine.plan(graph, keys, set()).to_run) == 3000
