"""Colours of the node states, and the state of a group of steps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["STATES", "Palette", "group_state", "palette"]

# The engine's NodeState names, in the order a legend lists them.
STATES: tuple[str, ...] = (
    "pending",
    "ready",
    "running",
    "retrying",
    "succeeded",
    "cached",
    "failed",
    "upstream_failed",
    "not_started",
    "cancelled",
    "excluded",
)


@dataclass(frozen=True)
class Palette:
    """How a step is filled, outlined and lettered."""

    fill: str
    stroke: str
    text: str
    label: str  # the state's name for people, in the legend


_PALETTES: dict[str, Palette] = {
    "pending": Palette("#f1f5f9", "#94a3b8", "#334155", "pending"),
    "ready": Palette("#e0f2fe", "#0284c7", "#0c4a6e", "ready"),
    "running": Palette("#dbeafe", "#2563eb", "#1e3a8a", "running"),
    "retrying": Palette("#ffedd5", "#ea580c", "#7c2d12", "retrying"),
    "succeeded": Palette("#dcfce7", "#16a34a", "#14532d", "succeeded"),
    "cached": Palette("#ccfbf1", "#0d9488", "#134e4a", "cached"),
    "failed": Palette("#fee2e2", "#dc2626", "#7f1d1d", "failed"),
    "upstream_failed": Palette("#fdf2f8", "#db2777", "#831843", "upstream failed"),
    "not_started": Palette("#fafafa", "#a1a1aa", "#52525b", "not started"),
    "cancelled": Palette("#e5e7eb", "#4b5563", "#1f2937", "cancelled"),
    "excluded": Palette("#ffffff", "#d4d4d8", "#a1a1aa", "excluded"),
}
_NO_STATE = Palette("#ffffff", "#475569", "#0f172a", "")


def palette(state: str | None) -> Palette:
    """The colours for a state name, or the neutral ones for ``None``.

    Raises ValueError for a name that is not a state.
    """
    if state is None:
        return _NO_STATE
    try:
        return _PALETTES[state]
    except KeyError:
        raise ValueError(
            f"unknown node state {state!r}; expected one of {', '.join(STATES)}"
        ) from None


# What a group shows when its members differ: whatever most needs attention.
_GROUP_PRIORITY: tuple[str, ...] = (
    "failed",
    "running",
    "retrying",
    "upstream_failed",
    "cancelled",
    "ready",
    "pending",
    "not_started",
    "succeeded",
    "cached",
    "excluded",
)


def group_state(states: Iterable[str | None]) -> str | None:
    """One state for a group: the most urgent among its members' states, except
    that a mix of succeeded and cached steps counts as succeeded.
    """
    present = {s for s in states if s is not None}
    if not present:
        return None
    if present <= {"succeeded", "cached"}:
        return "cached" if present == {"cached"} else "succeeded"
    return next(s for s in _GROUP_PRIORITY if s in present)
