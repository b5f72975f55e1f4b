"""The drawable graph of a pipeline: boxes (steps, groups, datasets,
parameters) and the edges between them, before any geometry.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from .grouping import Group, find_groups
from .protocols import NodeLike, PipelineLike
from .states import group_state, palette

__all__ = ["Box", "Scene", "build_scene"]

PARAM_PREFIX = "params:"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class Box:
    """One box of the picture."""

    key: str  # unique within the scene
    element_id: str  # the SVG id: node-…, group-…, data-…, param-…
    kind: str  # "step", "group", "dataset" or "param"
    label: str
    detail: str = ""  # a second, smaller line
    names: tuple[str, ...] = ()  # the steps or datasets it stands for
    concept: bool = False
    tooltip: str = ""
    state: str | None = None


@dataclass
class Scene:
    """Boxes and edges (box indices, deduplicated, in first-seen order)."""

    boxes: list[Box] = field(default_factory=list)
    edges: list[tuple[int, int]] = field(default_factory=list)
    _index: dict[str, int] = field(default_factory=dict)
    _edge_set: set[tuple[int, int]] = field(default_factory=set)
    _ids: set[str] = field(default_factory=set)

    def add(self, box: Box) -> int:
        """Add ``box`` unless its key is known; return its index either way."""
        known = self._index.get(box.key)
        if known is not None:
            return known
        box.element_id = self._unique_id(box.element_id)
        self._index[box.key] = len(self.boxes)
        self.boxes.append(box)
        return len(self.boxes) - 1

    def index(self, key: str) -> int:
        """The index of the box with ``key``."""
        return self._index[key]

    def connect(self, a: int, b: int) -> None:
        """Add the edge a -> b once; an edge within one box is dropped."""
        if a != b and (a, b) not in self._edge_set:
            self._edge_set.add((a, b))
            self.edges.append((a, b))

    def _unique_id(self, wanted: str) -> str:
        candidate, n = wanted, 2
        while candidate in self._ids:
            candidate = f"{wanted}-{n}"
            n += 1
        self._ids.add(candidate)
        return candidate


def slug(name: str) -> str:
    """``name`` made safe for an XML id: runs of other characters become '-'."""
    return _UNSAFE.sub("-", name).strip("-") or "x"


def _step_box(node: NodeLike, states: Mapping[str, str]) -> Box:
    state = states.get(node.name)
    palette(state)  # fail early on a misspelt state
    tooltip = node.name
    if node.description:
        tooltip += f": {node.description}"
    return Box(
        key=f"step:{node.name}",
        element_id=f"node-{slug(node.name)}",
        kind="step",
        label=node.name,
        detail="planned step" if node.is_concept else "",
        names=(node.name,),
        concept=node.is_concept,
        tooltip=tooltip,
        state=state,
    )


def _group_box(group: Group, by_name: Mapping[str, NodeLike], states: Mapping[str, str]) -> Box:
    members = group.members
    shown = ", ".join(members[:5]) + (", …" if len(members) > 5 else "")
    what = f"tag {group.name}" if group.kind == "tag" else group.name
    member_states = [states.get(m) for m in members]
    for s in member_states:
        palette(s)
    return Box(
        key=f"group:{group.name}",
        element_id=f"group-{slug(group.name)}",
        kind="group",
        label=group.name,
        detail=f"{len(members)} steps",
        names=members,
        concept=all(by_name[m].is_concept for m in members),
        tooltip=f"{what}: {len(members)} steps ({shown})",
        state=group_state(member_states),
    )


def _dataset_box(key: str, datasets: list[str]) -> Box:
    if len(datasets) == 1:
        label, tooltip = datasets[0], f"dataset {datasets[0]}"
    else:
        prefix = _common_prefix(datasets)
        label = f"{prefix}* \u00d7{len(datasets)}" if prefix else f"{len(datasets)} datasets"
        tooltip = f"{len(datasets)} datasets: " + ", ".join(datasets[:5])
    return Box(
        key=key,
        element_id=f"data-{slug(label)}",
        kind="dataset",
        label=label,
        names=tuple(datasets),
        tooltip=tooltip,
    )


def _common_prefix(names: Sequence[str]) -> str:
    first, last = min(names), max(names)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size].rstrip()


def build_scene(
    pipeline: PipelineLike,
    *,
    states: Mapping[str, str],
    show_datasets: bool,
    group_threshold: int | None,
    group_by_tag: bool,
    expand: Collection[str],
) -> Scene:
    """Turn a pipeline into boxes and edges, grouping and folding as asked."""
    steps = list(pipeline.nodes)
    by_name = {s.name: s for s in steps}
    producer: dict[str, str] = {}
    for s in steps:
        for d in s.outputs:
            producer.setdefault(d, s.name)
    parents: dict[str, list[str]] = {s.name: [] for s in steps}
    children: dict[str, list[str]] = {s.name: [] for s in steps}
    for s in steps:
        for d in s.inputs:
            p = producer.get(d)
            if p is not None and p != s.name and p not in parents[s.name]:
                parents[s.name].append(p)
                children[p].append(s.name)
    groups = find_groups(
        steps, parents, children, threshold=group_threshold, by_tag=group_by_tag, expand=expand
    )

    scene = Scene()
    box_key: dict[str, str] = {}
    group_key: dict[str, str] = {}  # a group's box is built once, at its first member
    for s in steps:
        group = groups.get(s.name)
        if group is None:
            box_key[s.name] = scene.boxes[scene.add(_step_box(s, states))].key
        else:
            if group.name not in group_key:
                box = _group_box(group, by_name, states)
                group_key[group.name] = scene.boxes[scene.add(box)].key
            box_key[s.name] = group_key[group.name]

    if not show_datasets:
        for s in steps:
            for p in parents[s.name]:
                scene.connect(scene.index(box_key[p]), scene.index(box_key[s.name]))
        return scene

    # Datasets touching a group are merged per (producer box, consumer boxes),
    # so a fan-out's 2,000 outputs become one box too.
    consumers: dict[str, list[str]] = {}
    order: list[str] = []
    for s in steps:
        for d in [*s.inputs, *s.outputs]:
            if d not in consumers:
                consumers[d] = []
                order.append(d)
        for d in s.inputs:
            if box_key[s.name] not in consumers[d]:
                consumers[d].append(box_key[s.name])
    merged: dict[str, list[str]] = {}
    data_key: dict[str, str] = {}
    for d in order:
        made_by = box_key[producer[d]] if d in producer else ""
        used_by = sorted(consumers[d])
        if d.startswith(PARAM_PREFIX):
            data_key[d] = f"param:{d}"
        elif made_by.startswith("group:") or any(k.startswith("group:") for k in used_by):
            data_key[d] = f"data:{made_by}->{'|'.join(used_by)}"
        else:
            data_key[d] = f"data:{d}"
        merged.setdefault(data_key[d], []).append(d)
    for key, names in merged.items():
        if key.startswith("param:"):
            name = names[0][len(PARAM_PREFIX) :]
            scene.add(
                Box(
                    key=key,
                    element_id=f"param-{slug(name)}",
                    kind="param",
                    label=f"param: {name}",
                    names=(names[0],),
                    tooltip=f"parameter {name}",
                )
            )
        else:
            scene.add(_dataset_box(key, names))
    for s in steps:
        me = scene.index(box_key[s.name])
        for d in s.inputs:
            scene.connect(scene.index(data_key[d]), me)
        for d in s.outputs:
            scene.connect(me, scene.index(data_key[d]))
    return scene
