"""The engine's Scheduler through its Python binding: no Django needed."""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence

import pytest

from django_mlops._engine import Graph, NodeState, Scheduler, StateError

STATE_NAMES = [
    "pending",
    "ready",
    "running",
    "succeeded",
    "cached",
    "failed",
    "retrying",
    "upstream_failed",
    "not_started",
    "cancelled",
    "excluded",
]


def graph_from_parents(parents: Sequence[Sequence[int]], costs: Sequence[float] = ()) -> Graph:
    """Node i is "n<i>", writes dataset "d<i>" and reads its parents' datasets."""
    graph = Graph()
    for node, node_parents in enumerate(parents):
        graph.add_node(
            f"n{node}",
            [f"d{p}" for p in node_parents],
            [f"d{node}"],
            cost=costs[node] if costs else 1.0,
        )
    return graph


def diamond() -> Graph:
    return graph_from_parents([[], [0], [0], [1, 2]])


def pending(graph: Graph) -> list[NodeState]:
    return [NodeState.pending] * graph.node_count


def test_node_state_names_are_the_stored_names() -> None:
    assert [state.name for state in NodeState] == STATE_NAMES


def test_diamond_runs_in_dependency_order() -> None:
    s = Scheduler(diamond(), pending(diamond()))
    assert s.states() == [NodeState.ready] + [NodeState.pending] * 3
    assert s.take_ready() == [0]
    assert s.running_count == 1
    assert s.take_ready() == []
    s.succeed(0)
    assert s.ready_count == 2
    assert s.take_ready() == [1, 2]
    s.succeed(1)
    assert s.state(3) is NodeState.pending
    s.succeed(2)
    assert s.state(3) is NodeState.ready
    assert not s.finished
    assert s.take_ready(limit=5) == [3]
    s.succeed(3)
    assert s.finished
    assert [state.name for state in s.states()] == ["succeeded"] * 4
    assert [s.attempts(node) for node in range(4)] == [1, 1, 1, 1]


def test_costs_and_concurrency_decide_the_hand_out() -> None:
    graph = graph_from_parents([[], [], [1]], costs=[3.0, 1.0, 1.0])
    s = Scheduler(graph, pending(graph), max_concurrency=1)
    assert s.take_ready() == [0]  # remaining path 3 beats 1 + 1
    assert s.take_ready() == []  # the one slot is taken
    s.succeed(0)
    assert s.take_ready() == [1]
    s2 = Scheduler(graph, pending(graph), costs=[1.0, 1.0, 5.0])
    assert s2.take_ready(1) == [1]


def test_cached_excluded_and_not_started_initial_states() -> None:
    graph = graph_from_parents([[], [0], [], [2], [3]])
    initial = [
        NodeState.cached,
        NodeState.pending,
        NodeState.not_started,
        NodeState.pending,
        NodeState.pending,
    ]
    s = Scheduler(graph, initial)
    assert s.state(1) is NodeState.ready
    assert s.state(3) is NodeState.not_started
    assert s.state(4) is NodeState.not_started
    assert s.take_ready() == [1]
    s.succeed(1)
    assert s.finished


def test_retries_then_success() -> None:
    graph = diamond()
    s = Scheduler(graph, pending(graph), retries=[2, 0, 0, 0])
    assert s.take_ready() == [0]
    assert s.fail(0) is True
    assert s.state(0) is NodeState.retrying
    assert s.ready_count == 1
    assert s.take_ready() == [0]
    assert s.fail(0) is True
    assert s.take_ready() == [0]
    assert s.attempts(0) == 3
    s.succeed(0)
    assert s.take_ready() == [1, 2]


def test_failure_spreads_to_descendants_only() -> None:
    # 0 -> 1 -> 2 fails down the chain; 3 -> 4 is independent and finishes.
    graph = graph_from_parents([[], [0], [1], [], [3]])
    s = Scheduler(graph, pending(graph), retries=[1, 0, 0, 0, 0])
    assert s.take_ready() == [0, 3]
    assert s.fail(0) is True
    assert s.take_ready() == [0]
    assert s.fail(0) is False
    assert [s.state(n).name for n in (0, 1, 2)] == ["failed", "upstream_failed", "upstream_failed"]
    s.succeed(3)
    assert s.take_ready() == [4]
    s.succeed(4)
    assert s.finished


def test_cancel_lets_running_nodes_finish() -> None:
    graph = graph_from_parents([[], [], [], [0]])
    s = Scheduler(graph, pending(graph), retries=[0, 5, 0, 0])
    assert s.take_ready(2) == [0, 1]
    s.cancel()
    assert s.cancelled
    assert s.take_ready() == []
    assert s.state(2) is NodeState.cancelled
    assert s.state(3) is NodeState.cancelled
    assert not s.finished
    s.succeed(0)
    assert s.fail(1) is False  # no retry once cancelled
    assert [state.name for state in s.states()] == ["succeeded", "failed", "cancelled", "cancelled"]
    assert s.finished


def test_state_error_names_the_node_and_its_state() -> None:
    graph = diamond()
    s = Scheduler(graph, pending(graph))
    with pytest.raises(StateError, match=r"^Scheduler\.succeed: node 3 is pending, not running$"):
        s.succeed(3)
    with pytest.raises(RuntimeError, match="node 0 is ready"):
        s.fail(0)
    with pytest.raises(StateError, match="no node 9"):
        s.state(9)


def test_bad_arguments() -> None:
    graph = diamond()
    with pytest.raises(ValueError, match="initial has 2 entries"):
        Scheduler(graph, [NodeState.pending] * 2)
    with pytest.raises(ValueError, match="retries"):
        Scheduler(graph, pending(graph), retries=[1])
    with pytest.raises(StateError, match="starts running"):
        Scheduler(graph, [NodeState.running] * 4)


def test_threads_drive_one_scheduler() -> None:
    rng = random.Random(7)
    width, layers, slots = 20, 10, 4
    parents = [
        [] if layer == 0 else rng.sample(range((layer - 1) * width, layer * width), 2)
        for layer in range(layers)
        for _ in range(width)
    ]
    graph = graph_from_parents(parents)
    retries = [1 if node % 7 == 0 else 0 for node in range(len(parents))]
    s = Scheduler(graph, pending(graph), max_concurrency=slots, retries=retries)
    lock = threading.Lock()
    done: set[int] = set()
    errors: list[str] = []
    in_flight = [0, 0]  # now, peak

    def worker() -> None:
        while not s.finished:
            taken = s.take_ready(1)
            if not taken:
                continue
            node = taken[0]
            with lock:
                in_flight[0] += 1
                in_flight[1] = max(in_flight[1], in_flight[0])
                if not done.issuperset(parents[node]):
                    errors.append(f"node {node} handed out before its parents")
            # Nodes with a retry fail their first attempt.
            first_try_fails = retries[node] == 1 and s.attempts(node) == 1
            with lock:
                in_flight[0] -= 1
                if not first_try_fails:
                    done.add(node)
            if first_try_fails:
                if not s.fail(node):
                    errors.append(f"node {node} was not retried")
            else:
                s.succeed(node)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert in_flight[1] <= slots
    assert set(s.states()) == {NodeState.succeeded}
    assert [s.attempts(n) for n in range(len(parents))] == [1 + r for r in retries]


def test_succeed_and_take_reports_a_batch_and_takes_the_next() -> None:
    s = Scheduler(diamond(), pending(diamond()))
    assert s.succeed_and_take([]) == [0]
    assert s.succeed_and_take([0], limit=1) == [1]
    assert s.state(2) is NodeState.ready
    assert s.succeed_and_take([1]) == [2]
    assert s.succeed_and_take([2]) == [3]
    assert s.succeed_and_take([3]) == []
    assert s.finished


def test_succeed_and_take_stops_at_a_node_that_is_not_running() -> None:
    s = Scheduler(diamond(), pending(diamond()))
    assert s.take_ready() == [0]
    with pytest.raises(StateError):
        s.succeed_and_take([0, 3])
    assert s.state(0) is NodeState.succeeded
    assert s.ready_count == 2
