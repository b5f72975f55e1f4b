"""The graph area of django_mlops._engine through its Python bindings (no Django needed)."""

from __future__ import annotations

import pytest

from django_mlops import _engine as engine
from tests.gil_probe import counts_while


def iris() -> engine.Graph:
    g = engine.Graph()
    g.add_node("load", [], ["frame"])
    g.add_node("split", ["frame", "params:test_size"], ["train", "test"], tags=["prep"])
    g.add_node("fit", ["train", "params:C"], ["model"])
    g.add_node("evaluate", ["model", "test"], ["scores"])
    g.add_node("explain", ["model", "test"], ["report"], concept=True, cost=5.0)
    return g


def layered(n: int) -> engine.Graph:
    g = engine.Graph()
    rows = [
        (f"n{v}", [f"d{(v * 7 + k) % v}" for k in range(3)] if v >= 3 else [], [f"d{v}"])
        for v in range(n)
    ]
    g.add_nodes(rows)
    return g


def test_accessors_and_orders() -> None:
    g = iris()
    assert (g.node_count, g.dataset_count, g.edge_count) == (5, 6, 6)
    assert g.node_names() == ["load", "split", "fit", "evaluate", "explain"]
    assert g.inputs(1) == ["frame"] and g.params(1) == ["test_size"] and g.tags(1) == ["prep"]
    assert g.producer("model") == "fit" and g.producer("nope") is None
    assert g.consumers("test") == ["evaluate", "explain"]
    assert g.parents(3) == [1, 2] and g.children(1) == [2, 3, 4]
    assert g.topological_order() == [0, 1, 2, 3, 4]
    assert g.levels() == [[0], [1], [2], [3, 4]]
    assert g.critical_path() == (8.0, [0, 1, 2, 4])
    assert g.select(from_nodes=["fit"]) == [2, 3, 4]
    assert g.select(to_nodes=["fit"], tags=["prep"]) == [1]


def test_exception_hierarchy() -> None:
    for cls in (
        engine.CycleError,
        engine.MissingInputError,
        engine.DuplicateOutputError,
        engine.DuplicateNodeError,
        engine.SelectionError,
    ):
        assert issubclass(cls, engine.PipelineError)
    assert issubclass(engine.PipelineError, ValueError)


def test_cycle_error() -> None:
    g = engine.Graph()
    g.add_node("a", ["z"], ["x"])
    g.add_node("b", ["x"], ["y"])
    with pytest.raises(engine.CycleError, match=r"^cycle: a -> b -> c -> a$") as info:
        g.add_node("c", ["y"], ["z"])
    assert info.value.cycle == ["a", "b", "c", "a"]
    assert g.node_count == 2


def test_missing_input_error() -> None:
    g = engine.Graph()
    g.add_node("fit", ["train"], ["model"])
    g.add_node("evaluate", ["model", "test"], ["scores"])
    with pytest.raises(engine.MissingInputError) as info:
        g.validate()
    assert str(info.value) == (
        "node 'fit' needs input 'train', which no node produces; "
        "node 'evaluate' needs input 'test', which no node produces"
    )
    assert (info.value.node, info.value.dataset) == ("fit", "train")


def test_duplicate_output_and_node_errors() -> None:
    g = iris()
    with pytest.raises(engine.DuplicateOutputError) as out:
        g.add_node("refit", [], ["model"])
    assert str(out.value) == "dataset 'model' is produced by both 'fit' and 'refit'"
    assert out.value.dataset == "model" and out.value.producers == ["fit", "refit"]
    with pytest.raises(engine.DuplicateNodeError) as dup:
        g.add_node("fit", [], ["other"])
    assert str(dup.value) == "node name 'fit' is used twice" and dup.value.node == "fit"


def test_selection_errors() -> None:
    g = iris()
    with pytest.raises(engine.SelectionError, match="unknown node 'predict'"):
        g.select(only=["predict"])
    with pytest.raises(engine.SelectionError, match="unknown tag 'gpu'"):
        g.select(tags=["gpu"])
    with pytest.raises(engine.SelectionError, match="matches no node"):
        g.select(from_nodes=["evaluate"], to_nodes=["fit"])
    with pytest.raises(TypeError):
        g.select(["fit"])  # type: ignore[misc]


def test_add_nodes_is_all_or_nothing() -> None:
    g = engine.Graph()
    with pytest.raises(engine.DuplicateOutputError):
        g.add_nodes([("a", [], ["x"]), ("b", ["x"], ["y"]), ("c", [], ["y"])])
    assert g.node_count == 0


def test_sha256_fingerprint_and_plan() -> None:
    assert engine.sha256_hex(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert engine.sha256_hex("abc") == engine.sha256_hex(b"abc")
    g = iris()
    keys = engine.fingerprint_keys(g, ["l", "s", "f", "e", ""], {"test_size": "t", "C": "c"})
    assert len(keys) == 5 and all(len(k) == 64 and int(k, 16) >= 0 for k in keys)
    changed = engine.fingerprint_keys(g, ["l", "s", "f", "e", ""], {"test_size": "t", "C": "c2"})
    assert [a != b for a, b in zip(keys, changed, strict=True)] == [False, False, True, True, True]
    with pytest.raises(engine.PipelineError, match="node 'fit' reads parameter 'C'"):
        engine.fingerprint_keys(g, ["l", "s", "f", "e", ""], {"test_size": "t"})

    plan = engine.plan(g, keys, {keys[0], keys[1]})
    assert plan.actions == [
        engine.Action.reuse,
        engine.Action.reuse,
        engine.Action.run,
        engine.Action.run,
        engine.Action.not_started,
    ]
    assert plan.reasons[0] == engine.Reason.cached and plan.reasons[4] == engine.Reason.concept
    assert plan.to_run == [2, 3]
    only_fit = engine.plan(g, keys, {keys[1]}, only=["fit"])
    assert only_fit.reasons[1] == engine.Reason.outside_selection
    with pytest.raises(engine.SelectionError, match="from node 'split'"):
        engine.plan(g, keys, set(), only=["fit"])


def test_the_engine_returns_keys_not_storage_texts() -> None:
    # Storage formats (JSON texts, index prefixes) are Python's business.
    for name in ("fingerprint_records", "key_prefix", "json_quote", "fingerprint"):
        assert not hasattr(engine, name), name


def test_plan_names() -> None:
    g = iris()
    keys = engine.fingerprint_keys(g, ["l", "s", "f", "e", ""], {"test_size": "t", "C": "c"})
    plan = engine.plan(g, keys, {keys[0]})
    assert plan.action_names == [a.name for a in plan.actions]
    assert plan.reason_names == [r.name for r in plan.reasons]
    assert plan.reason_names[4] == "concept"
    # One name per member, in both directions.
    assert sorted(set(plan.action_names)) == ["not_started", "reuse", "run"]
    assert len(engine.Action.__members__) == 4 and len(engine.Reason.__members__) == 8


def _validate_many_missing(g: engine.Graph) -> None:
    with pytest.raises(engine.MissingInputError):
        g.validate()


def test_long_calls_release_the_gil() -> None:
    # validate() on a graph whose every node misses an input does real work
    # (it names all of them); fingerprint_keys() hashes every node.
    missing = engine.Graph()
    missing.add_nodes([(f"n{v}", [f"m{v}", f"k{v}"], [f"d{v}"]) for v in range(300_000)])
    g = layered(200_000)
    hashes = [f"h{v}" for v in range(g.node_count)]
    calls = (
        lambda: _validate_many_missing(missing),
        lambda: engine.fingerprint_keys(g, hashes, {}),
    )
    for call in calls:
        during, elapsed = counts_while(call)
        # Holding the GIL in one C++ call would freeze the counter for the
        # whole call; released, it keeps counting (well over 1000 increments).
        assert during > 1000, (during, elapsed)
