"""Planning a run: resolve params, hash code, fingerprint, and ask the engine what to run.

Nothing here executes user code or writes records. The database is read (which
keys have stored outputs, and the previous run of each node to explain why a
node runs again) through callables the runner passes in, so an in-memory run
plans the same way with an empty store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import _engine
from ..datafiles import read_fingerprints, with_reads
from ..params import validate_params
from ..pipeline import Node, Pipeline

# A str as JSON (what json.dumps does with ensure_ascii), the C function itself.
_json_quote = json.encoder.encode_basestring_ascii

__all__ = [
    "PreviousTask",
    "RunPlan",
    "explain_rerun",
    "input_keys_texts",
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
# A node with no outputs is not cacheable by default (pipeline.py): say why.
_SIDE_EFFECTS_WORDS = "no outputs: runs for its side effects (cache=True to reuse)"
# Nothing recorded to compare with: every node that runs for lack of a stored
# output is, as far as this run knows, running for the first time.
_FIRST_RUN_WORDS = {**_REASON_WORDS, "not_stored": "first run"}


def resolve_params(pipeline: Pipeline, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The pipeline's default params overlaid by ``given``, each coerced to its type.

    Raises :class:`~django_mlops.errors.ParamValidationError` (an
    ``UnknownParamError``) listing every refused field; see
    :func:`django_mlops.params.validate_params`.
    """
    return validate_params(pipeline, given)


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
    reads: dict[str, str] = field(default_factory=dict)  # {path: sha256} of its read files


@dataclass
class RunPlan:
    """Everything decided before the first node runs; lists are indexed by node id."""

    pipeline: Pipeline
    params: dict[str, Any]
    code_hashes: list[str]  # of the functions alone (what records show as "code")
    keys: list[str]
    # Per node id, the JSON text of {input dataset: its producer's key}, as the
    # records keep it; empty for an unrecorded plan.
    input_keys_json: list[str]
    initial: list[str]  # NodeState names the scheduler starts each node in
    reasons: list[str]  # engine Reason names
    details: list[str]  # words for the reason
    order: list[int]  # topological order of node ids
    engine_plan: Any  # the engine's Plan, which a Scheduler starts from
    # {node id: {path: sha256}} of the nodes that declare reads (part of their keys).
    reads: dict[int, dict[str, str]] = field(default_factory=dict)

    def input_keys(self, node_id: int) -> dict[str, str]:
        """{input dataset: its producer's key} of a node ({} for an unrecorded plan)."""
        return json.loads(self.input_keys_json[node_id]) if self.input_keys_json else {}


def explain_rerun(
    node: Node,
    code_hash: str,
    input_keys: Mapping[str, str],
    params: Mapping[str, Any],
    previous: PreviousTask | None,
    reads: Mapping[str, str] | None = None,
) -> str:
    """Words for why a node with no stored outputs runs: what changed since its last run.

    ``reads`` are the node's read files now ({path: sha256}), compared with those
    the previous run recorded: "file data/raw.csv changed".
    """
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
    now = reads or {}
    for path in sorted(now.keys() | previous.reads.keys()):
        before, after = previous.reads.get(path), now.get(path)
        if before is None:
            changes.append(f"file {path} added")
        elif after is None:
            changes.append(f"file {path} removed")
        elif before != after:
            changes.append(f"file {path} changed")
    return ", ".join(changes) if changes else "no cache entry"


def input_keys_texts(nodes: Sequence[Node], keys: Sequence[str]) -> list[str]:
    """Per node, the JSON text of ``{input dataset: its producer's key}``, each dataset once.

    The producer's key stands for the input: with the dataset name it decides
    the input's content. Every input has a producer (the pipeline is validated).
    """
    # One text fragment per dataset, however many nodes read it.
    fragment = {
        dataset: f'{_json_quote(dataset)}: "{key}"'
        for node, key in zip(nodes, keys, strict=True)
        for dataset in node.outputs
    }
    return [
        "{" + ", ".join([fragment[i] for i in dict.fromkeys(node.inputs) if i in fragment]) + "}"
        for node in nodes
    ]


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
    # No node may be added while the plan reads the definition: the node list,
    # its columns, the engine graph and the keys must all describe one pipeline.
    with pipeline.definition_lock:
        return _make_plan(
            pipeline,
            params=params,
            only=only,
            from_nodes=from_nodes,
            to_nodes=to_nodes,
            tags=tags,
            no_cache=no_cache,
            fingerprints=fingerprints,
            stored_keys=stored_keys,
            previous_tasks=previous_tasks,
        )


def _make_plan(
    pipeline: Pipeline,
    *,
    params: Mapping[str, Any] | None,
    only: Sequence[str],
    from_nodes: Sequence[str],
    to_nodes: Sequence[str],
    tags: Sequence[str],
    no_cache: bool,
    fingerprints: bool,
    stored_keys: Callable[[Sequence[str]], Iterable[str]] | None,
    previous_tasks: Callable[[Sequence[str]], Mapping[str, PreviousTask]] | None,
) -> RunPlan:
    pipeline.validate()
    resolved = resolve_params(pipeline, params)
    nodes = pipeline.nodes
    graph = pipeline.graph
    # Declared read files are checked (a missing one fails here, before anything
    # runs) and hashed; unrecorded runs only check them.
    reads = read_fingerprints(pipeline, hash_files=fingerprints)
    code_only: list[str]
    if fingerprints:
        code_only = code_hashes(pipeline.columns.funcs)
        # The engine fingerprints a file-reading node's code and files as one hash;
        # the record keeps the code hash alone, so "code changed" stays precise.
        hashes = with_reads(code_only, reads)
        digests = {name: param_digest(value) for name, value in resolved.items()}
        keys = _engine.fingerprint_keys(graph, hashes, digests)
        input_keys_json = input_keys_texts(nodes, keys)
    else:
        # Nothing is stored or compared: keys would cost more than the run itself.
        code_only = hashes = keys = [""] * len(nodes)
        input_keys_json = []
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
        code_hashes=code_only,
        keys=list(keys),
        input_keys_json=input_keys_json,
        initial=initial,
        reasons=reasons,
        details=details,
        order=list(graph.topological_order()),
        engine_plan=plan,
        reads=reads if fingerprints else {},
    )
    for i in pipeline.columns.uncacheable:  # only these can be not_cacheable
        if reasons[i] == "not_cacheable" and not nodes[i].outputs and not nodes[i].is_concept:
            details[i] = _SIDE_EFFECTS_WORDS
    if previous_tasks is not None and "not_stored" in reasons:
        rerun = [i for i, reason in enumerate(reasons) if reason == "not_stored"]
        previous = previous_tasks([nodes[i].name for i in rerun])
        for i in rerun:
            before = previous.get(nodes[i].name)
            if before is None:  # never ran: nothing to compare, no input keys to parse
                details[i] = "first run"
                continue
            details[i] = explain_rerun(
                nodes[i], code_only[i], run_plan.input_keys(i), resolved, before, reads.get(i)
            )
    return run_plan
