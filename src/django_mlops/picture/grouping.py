"""Which steps share one grouped box: big fan-outs, and steps sharing a tag.

A sweep of 24 (or 2,000) training steps drawn one box each buries the rest of
the pipeline and, at the top end, chokes a browser; one box with a count
keeps the picture readable, and ``expand`` opens any group again.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from .protocols import NodeLike

__all__ = ["Group", "find_groups", "topological_names"]

_DIGITS = re.compile(r"\d+(?:\.\d+)?")  # a number, decimals included: C1 and C0.3 look alike


@dataclass(frozen=True)
class Group:
    """Steps drawn as one box. ``name`` is what ``expand`` accepts."""

    name: str
    kind: str  # "fanout" or "tag"
    members: tuple[str, ...]


def topological_names(steps: Sequence[NodeLike], parents: Mapping[str, Sequence[str]]) -> list[str]:
    """Step names, parents first, ties in declaration order (Kahn's algorithm).

    Steps on a cycle, which a valid pipeline never has, come last.
    """
    waiting = {s.name: len(parents[s.name]) for s in steps}
    children: dict[str, list[str]] = {s.name: [] for s in steps}
    for s in steps:
        for p in parents[s.name]:
            children[p].append(s.name)
    ready = deque(s.name for s in steps if waiting[s.name] == 0)
    order: list[str] = []
    while ready:
        name = ready.popleft()
        order.append(name)
        for c in children[name]:
            waiting[c] -= 1
            if waiting[c] == 0:
                ready.append(c)
    placed = set(order)
    return order + [s.name for s in steps if s.name not in placed]


def _common_prefix(names: Sequence[str]) -> str:
    first, last = min(names), max(names)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate = f"{name} ({n})"
        n += 1
    taken.add(candidate)
    return candidate


def find_groups(
    steps: Sequence[NodeLike],
    parents: Mapping[str, Sequence[str]],
    children: Mapping[str, Sequence[str]],
    *,
    threshold: int | None,
    by_tag: bool,
    expand: Collection[str],
) -> dict[str, Group]:
    """Map each grouped step's name to its group.

    With ``by_tag``, two or more steps sharing a first tag form one group. Then, if
    ``threshold`` is set, at least that many steps that look alike form one:
    alike means the same parents and the same name once digit runs are
    ignored (``train_7`` after ``split``, ``score_7`` after ``train_7``),
    or, failing that, exactly the same parents and children. Steps are
    visited parents first, so a chain of sweeps (``train_i`` then
    ``score_i``) becomes a chain of groups. A group whose name or any
    member's name is in ``expand`` stays drawn step by step.
    """
    if threshold is not None and threshold < 2:
        raise ValueError(f"group_threshold must be at least 2 or None, not {threshold}")
    by_name = {s.name: s for s in steps}
    taken: set[str] = set()
    group_of: dict[str, Group] = {}

    opened: set[str] = set()  # members of expanded groups: never regrouped

    def adopt(name: str, kind: str, members: list[str]) -> None:
        if name in expand or any(m in expand for m in members):
            opened.update(members)
            return
        group = Group(_unique(name, taken), kind, tuple(members))
        for m in members:
            group_of[m] = group

    if by_tag:
        tagged: dict[str, list[str]] = {}
        for s in steps:
            if s.tags:
                tagged.setdefault(s.tags[0], []).append(s.name)
        for tag, members in tagged.items():
            if len(members) > 1:  # a box of one step would only hide its name
                adopt(tag, "tag", members)
    if threshold is None:
        return group_of

    def box_of(name: str) -> str:
        group = group_of.get(name)
        return f"group:{group.name}" if group else name

    def pattern_of(name: str) -> str:
        # Parents of one pattern count as one, grouped or not: expanding
        # train_* leaves score_1 (after train_1) and score_2 alike.
        group = group_of.get(name)
        return f"group:{group.name}" if group else _DIGITS.sub("#", name)

    order = topological_names(steps, parents)
    depth: dict[str, int] = {}
    for name in order:
        depth[name] = 1 + max((depth.get(p, 0) for p in parents[name]), default=-1)
    # Pass 1, one depth at a time so that a step's parents are already
    # grouped: the same parents (up to digits) and the same name pattern.
    levels: dict[int, list[str]] = {}
    for name in order:
        levels.setdefault(depth[name], []).append(name)
    for level in sorted(levels):
        classes: dict[tuple[object, ...], list[str]] = {}
        for name in levels[level]:
            if name in group_of or not _DIGITS.search(name):
                continue
            key = (
                frozenset(pattern_of(p) for p in parents[name]),
                _DIGITS.sub("#", name),
                by_name[name].is_concept,
            )
            classes.setdefault(key, []).append(name)
        for members in classes.values():
            if len(members) >= threshold:
                adopt(_DIGITS.sub("*", members[0]), "fanout", members)
    # Pass 2: exactly the same neighbours, whatever the names.
    alike: dict[tuple[object, ...], list[str]] = {}
    for name in order:
        if name in group_of or name in opened:
            continue
        neighbours = (
            frozenset(box_of(p) for p in parents[name]),
            frozenset(box_of(c) for c in children[name]),
            by_name[name].is_concept,
        )
        alike.setdefault(neighbours, []).append(name)
    for members in alike.values():
        if len(members) >= threshold:
            prefix = _common_prefix(members).rstrip("_-. ")
            adopt(f"{prefix}*" if prefix else f"{members[0]}…", "fanout", members)
    return group_of
