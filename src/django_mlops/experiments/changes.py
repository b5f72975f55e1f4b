"""What changed between two runs, so a metric's change can be traced to its cause.

For runs A (before) and B (after): the params, package versions, Python and git
commit that differ, and per node what changed in what decides its outputs (its
code hash, the files it declares it reads, the params it reads, the keys of its
inputs), with whether each run computed it or reused it. Two queries for the
task rows of both runs, however many nodes. The website's "what changed" panel,
``GET api/experiments/changes`` and ``mlops reproduce`` all read this.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..models import Run, TaskRun
from ..pipeline import Pipeline, registered
from ..run.planning import param_digest

__all__ = ["Difference", "NodeChange", "RunChanges", "run_changes"]

# Task states in which the node's function ran in that run.
_RAN = frozenset({"succeeded", "failed", "retrying", "running"})
# What a run did with a node that left it outputs (or tried to).
_PRODUCED = frozenset({"ran", "reused"})


@dataclass(frozen=True)
class Difference:
    """One named value that differs: its value in A and in B (None: absent there)."""

    name: str
    before: Any
    after: Any


@dataclass(frozen=True)
class NodeChange:
    """One node across the two runs: what changed in it, and what each run did with it.

    ``before``/``after`` say what each run did: "ran", "reused" (its outputs came from
    the cache) or the task's state ("not_started", "excluded"...); "absent" when the
    run has no task for it. ``function`` is ``module.qualname`` when the pipeline is
    loaded in this process, else "".
    """

    node: str
    function: str
    before: str
    after: str
    code: Difference | None = None
    inputs: tuple[Difference, ...] = ()
    reads: tuple[Difference, ...] = ()
    params: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Something that decides the node's outputs differs, and a run has its outputs.

        A node neither run executed nor reused (a concept step, one outside both
        selections) has no outputs that could differ, whatever its inputs' keys.
        """
        produced = {self.before, self.after} & _PRODUCED
        return bool(produced) and bool(self.code or self.inputs or self.reads or self.params)

    @property
    def cause(self) -> bool:
        """The node itself changed (code, files or params), not only what it was given."""
        return bool(self.code or self.reads or self.params)


@dataclass(frozen=True)
class RunChanges:
    """Everything that differs between run A (``before``) and run B (``after``)."""

    before: Run
    after: Run
    params: tuple[Difference, ...]
    packages: tuple[Difference, ...]
    environment: tuple[Difference, ...]
    nodes: tuple[NodeChange, ...] = field(default=())

    @property
    def changed_nodes(self) -> list[str]:
        """Nodes whose outputs may differ (their code, files, params or inputs changed)."""
        return [n.node for n in self.nodes if n.changed]

    @property
    def recomputed(self) -> list[str]:
        """Nodes B ran itself."""
        return [n.node for n in self.nodes if n.after == "ran"]

    @property
    def reused(self) -> list[str]:
        """Nodes B took from the cache."""
        return [n.node for n in self.nodes if n.after == "reused"]

    def lines(self) -> list[str]:
        """One line per difference, for a terminal; empty when nothing differs."""
        lines = [f"param {d.name}: {_shown(d.before)} -> {_shown(d.after)}" for d in self.params]
        lines += [f"{d.name}: {_shown(d.before)} -> {_shown(d.after)}" for d in self.environment]
        lines += [
            f"package {d.name}: {d.before or 'absent'} -> {d.after or 'absent'}"
            for d in self.packages
        ]
        for node in self.nodes:
            if node.code:
                lines.append(f"code of node '{node.node}' changed")
            lines += [f"node '{node.node}': file {d.name} {_file_change(d)}" for d in node.reads]
            if node.params:
                lines.append(f"node '{node.node}': params changed: {', '.join(node.params)}")
            if node.inputs:
                names = ", ".join(d.name for d in node.inputs)
                lines.append(f"node '{node.node}': inputs changed: {names}")
        return lines


def _shown(value: Any) -> str:
    return "absent" if value is None else repr(value)


def _file_change(difference: Difference) -> str:
    if difference.before is None:
        return "added"
    if difference.after is None:
        return "removed"
    return "changed"


def _differences(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    same: Callable[[Any, Any], bool] = operator.eq,
) -> list[Difference]:
    """The names whose values differ (absent on one side counts), sorted by name."""
    return [
        Difference(name, before.get(name), after.get(name))
        for name in sorted(before.keys() | after.keys())
        if name not in before or name not in after or not same(before[name], after[name])
    ]


def _same_param(old: Any, new: Any) -> bool:
    # Compared as the cache compares them, so 1 and 1.0 of a float param are equal.
    return param_digest(old) == param_digest(new)


def _environment(before: Run, after: Run) -> list[Difference]:
    found = []
    for label, attribute in (("python", "python_version"), ("git commit", "git_commit")):
        old, new = getattr(before, attribute) or None, getattr(after, attribute) or None
        if old != new:
            found.append(Difference(label, old, new))
    if before.git_dirty != after.git_dirty and before.git_commit == after.git_commit:
        found.append(Difference("uncommitted changes", before.git_dirty, after.git_dirty))
    return found


def _outcome(row: Mapping[str, Any] | None) -> str:
    if row is None:
        return "absent"
    state = row["state"]
    if state == "cached":
        return "reused"
    return "ran" if state in _RAN else str(state)


def _function_of(pipeline: Pipeline | None, node: str) -> tuple[str, frozenset[str]]:
    """``module.qualname`` of the node's function and the params it reads, when known."""
    if pipeline is None:
        return "", frozenset()
    if node not in pipeline:
        return "", frozenset()
    found = pipeline[node]
    if found.func is None:
        return "", frozenset(found.params)
    func = found.func
    name = f"{getattr(func, '__module__', '')}.{getattr(func, '__qualname__', node)}"
    return name.lstrip("."), frozenset(found.params)


def _node_change(
    node: str,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any] | None,
    pipeline: Pipeline | None,
    changed_params: set[str],
) -> NodeChange:
    function, reads_params = _function_of(pipeline, node)
    code = inputs = reads = None
    params: tuple[str, ...] = ()
    if old is not None and new is not None:
        if old["code_hash"] and new["code_hash"] and old["code_hash"] != new["code_hash"]:
            code = Difference("code", old["code_hash"], new["code_hash"])
        inputs = _differences(old["input_keys"] or {}, new["input_keys"] or {})
        reads = _differences(old["reads"] or {}, new["reads"] or {})
        params = tuple(sorted(reads_params & changed_params))
    return NodeChange(
        node,
        function,
        _outcome(old),
        _outcome(new),
        code,
        tuple(inputs or ()),
        tuple(reads or ()),
        params,
    )


def run_changes(before: Run, after: Run) -> RunChanges:
    """What differs between ``before`` and ``after`` (any two runs, usually of one pipeline)."""
    rows = (
        TaskRun.objects.filter(run_id__in=[before.pk, after.pk])
        .order_by("id")
        .values("run_id", "node", "state", "code_hash", "input_keys", "reads")
    )
    tasks: dict[int, dict[str, Mapping[str, Any]]] = {before.pk: {}, after.pk: {}}
    for row in rows:
        tasks[row["run_id"]][row["node"]] = row
    old_tasks, new_tasks = tasks[before.pk], tasks[after.pk]
    params = _differences(before.params or {}, after.params or {}, _same_param)
    changed_params = {d.name for d in params}
    pipeline = registered(after.pipeline)
    if pipeline is not None and before.pipeline != after.pipeline:
        pipeline = None  # node names of two pipelines are not one node
    # B's order (topological, as its rows were written), then nodes only A had.
    names = list(dict.fromkeys([*new_tasks, *old_tasks]))
    nodes = tuple(
        _node_change(n, old_tasks.get(n), new_tasks.get(n), pipeline, changed_params) for n in names
    )
    return RunChanges(
        before=before,
        after=after,
        params=tuple(params),
        packages=tuple(_differences(before.packages or {}, after.packages or {})),
        environment=tuple(_environment(before, after)),
        nodes=nodes,
    )
