"""Planning a run: resolve params, hash code, fingerprint, and ask the engine what to run.

Nothing here executes user code or writes records. The database is read (which
keys have stored outputs, and the previous run of each node to explain why a
node runs again) through callables the runner passes in, so an in-memory run
plans the same way with an empty store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .. import _engine
from ..errors import UnknownParamError
from ..pipeline import Node, Pipeline

__all__ = [
    "PreviousTask",
    "RunPlan",
    "explain_rerun",
    "make_plan",
    "param_digest",
    "resolve_params",
]

_REASON_WORDS = {
    "forced": "caching turned off for this run",
    "not_cacheable": "the node has cache=False",
    "cached": "outputs stored under the same key",
    "outside_selection": "outside the selection; its stored outputs are needed",
    "not_needed": "outside the selection",
    "concept": "a concept step (no code yet)",
    "upstream_concept": "downstream of a concept step",
    "not_stored": "",  # explained per node: what changed since its last run
}
# Nothing recorded to compare with: every node that runs for lack of a stored
# output is, as far as this run knows, running for the first time.
_FIRST_RUN_WORDS = {**_REASON_WORDS, "not_stored": "first run"}


def resolve_params(pipeline: Pipeline, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The pipeline's default params overlaid by ``given``; unknown names are an error."""
    params = dict(pipeline.params)
    for key, value in (given or {}).items():
        if key not in params:
            known = ", ".join(sorted(params)) or "none"
            raise UnknownParamError(
                f"pipeline '{pipeline.name}' has no param '{key}' (known: {known})"
            )
        params[key] = value
    return params


def param_digest(value: Any) -> str:
    """SHA-256 of the value's canonical JSON (repr for values JSON cannot express)."""
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True)
    except (TypeError, ValueError):
        text = "repr:" + repr(value)
    return str(_engine.sha256_hex(text))


def code_hashes(funcs: Sequence[Callable[..., Any] | None]) -> list[str]:
    """One code hash per node function; concept steps (``None``) hash to "".

    Computed per distinct function for this call only: a helper module reloaded
    between runs must change the hash of an unchanged node function that uses it.
    """
    from ..codehash import code_hash

    try:
        # Functions hash by identity: one code_hash per distinct function, then a
        # C-level map over the nodes (10k nodes often share a handful of functions).
        digest_of: dict[Any, str] = {f: code_hash(f) for f in dict.fromkeys(funcs) if f is not None}
    except TypeError:  # an unhashable callable object: by identity instead
        by_id = {id(f): code_hash(f) for f in funcs if f is not None}
        return [by_id[id(f)] if f is not None else "" for f in funcs]
    digest_of[None] = ""
    return list(map(digest_of.__getitem__, funcs))


@dataclass(slots=True)
class PreviousTask:
    """What the latest earlier run of a node recorded, to say why it runs again."""

    code_hash: str
    key: str
    input_keys: dict[str, str]
    params: dict[str, Any]


@dataclass
class RunPlan:
    """Everything decided before the first node runs; lists are indexed by node id."""

    pipeline: Pipeline
    params: dict[str, Any]
    code_hashes: list[str]
    keys: list[str]
    # Per node id, {input dataset: its producer's key}; empty for an unrecorded plan.
    input_keys: list[dict[str, str]]
    initial: list[str]  # NodeState names the scheduler starts each node in
    reasons: list[str]  # engine Reason names
    details: list[str]  # words for the reason
    order: list[int]  # topological order of node ids
    engine_plan: Any  # the engine's Plan, which a Scheduler starts from


def explain_rerun(
    node: Node,
    code_hash: str,
    input_keys: Mapping[str, str],
    params: Mapping[str, Any],
    previous: PreviousTask | None,
) -> str:
    """Words for why a node with no stored outputs runs: what changed since its last run."""
    if previous is None:
        return "first run"
    changes = []
    if previous.code_hash != code_hash:
        changes.append("code changed")
    for name in node.params:
        if name not in previous.params or param_digest(previous.params[name]) != param_digest(
            params[name]
        ):
            changes.append(f"param {name} changed")
    for dataset, key in input_keys.items():
        if previous.input_keys.get(dataset) != key:
            changes.append(f"input '{dataset}' changed")
    return ", ".join(changes) if changes else "no cache entry"


def make_plan(
    pipeline: Pipeline,
    *,
    params: Mapping[str, Any] | None = None,
    only: Sequence[str] = (),
    from_nodes: Sequence[str] = (),
    to_nodes: Sequence[str] = (),
    tags: Sequence[str] = (),
    no_cache: bool = False,
    fingerprints: bool = True,
    stored_keys: Callable[[Sequence[str]], Iterable[str]] | None = None,
    previous_tasks: Callable[[Sequence[str]], Mapping[str, PreviousTask]] | None = None,
) -> RunPlan:
    """Decide what a run does: per node its key, starting state and the reason for it.

    ``stored_keys(keys)`` returns the keys with stored outputs;
    ``previous_tasks(names)`` the latest earlier record of those nodes. Both default
    to "nothing stored".
    With ``fingerprints=False`` (unrecorded runs) code hashes and keys are left empty.
    """
    pipeline.validate()
    resolved = resolve_params(pipeline, params)
    nodes = pipeline.nodes
    graph = pipeline.graph
    if fingerprints:
        hashes = code_hashes(pipeline.columns.funcs)
        digests = {name: param_digest(value) for name, value in resolved.items()}
        keys, per_input = _engine.fingerprint(graph, hashes, digests)
        # The engine gives input keys in the order of each node's dataset inputs.
        input_keys = [
            dict(zip(node.datasets, found, strict=True))
            for node, found in zip(nodes, per_input, strict=True)
        ]
    else:
        # Nothing is stored or compared: keys would cost more than the run itself.
        hashes = keys = [""] * len(nodes)
        input_keys = []
    # With no_cache only a selection can reuse anything (the outputs of unselected
    # nodes it reads), so the store is read only then.
    selected = bool(only or from_nodes or to_nodes or tags)
    read_store = stored_keys is not None and (selected or not no_cache)
    stored = list(stored_keys(keys)) if read_store and stored_keys is not None else []
    plan = _engine.plan(
        graph,
        keys,
        stored,
        pipeline.columns.cacheable,
        only=list(only),
        from_nodes=list(from_nodes),
        to_nodes=list(to_nodes),
        tags=list(tags),
        force=no_cache,
    )
    # Names straight from the engine (one shared str per name) and mapped with C
    # loops: these lists have one entry per node, and an unrecorded 10k-node run
    # costs well under a microsecond per node in all.
    initial = plan.initial_state_names
    reasons = plan.reason_names
    words = _REASON_WORDS if previous_tasks is not None else _FIRST_RUN_WORDS
    details = list(map(words.__getitem__, reasons))
    run_plan = RunPlan(
        pipeline=pipeline,
        params=resolved,
        code_hashes=hashes,
        keys=list(keys),
        input_keys=input_keys,
        initial=initial,
        reasons=reasons,
        details=details,
        order=list(graph.topological_order()),
        engine_plan=plan,
    )
    if previous_tasks is not None and "not_stored" in reasons:
        rerun = [i for i, reason in enumerate(reasons) if reason == "not_stored"]
        previous = previous_tasks([nodes[i].name for i in rerun])
        for i in rerun:
            before = previous.get(nodes[i].name)
            if before is None:  # never ran: nothing to compare, no input keys to parse
                details[i] = "first run"
                continue
            details[i] = explain_rerun(nodes[i], hashes[i], input_keys[i], resolved, before)
    return run_plan
