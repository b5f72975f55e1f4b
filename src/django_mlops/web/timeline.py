"""The Gantt timeline of a run: one bar per task that ran, the critical path marked.

The critical path is the engine's (``Graph.critical_path``) over the tasks'
recorded durations: the chain of dependent steps that decided how long the run
took, i.e. where speeding up would shorten it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from ..pipeline import Pipeline

__all__ = ["Bar", "Timeline", "build_timeline"]

# Most bars a page draws: a 10,000-task run shows its longest tasks, not a wall of rows.
MAX_BARS = 400


@dataclass(frozen=True, slots=True)
class Bar:
    """One task on the timeline, as percentages of the run's span."""

    node: str
    state: str
    offset: float  # % from the left
    width: float  # % of the span
    seconds: float
    critical: bool


@dataclass(frozen=True, slots=True)
class Timeline:
    """The bars, the span they cover and the critical path's steps and length."""

    bars: list[Bar]
    span: float
    critical: list[str]
    critical_seconds: float
    hidden: int  # tasks left out beyond MAX_BARS

    @property
    def critical_summary(self) -> list[str]:
        """The critical path for a sentence: all of it, or its ends around "…" when long."""
        if len(self.critical) <= 12:
            return self.critical
        return [*self.critical[:6], "…", *self.critical[-4:]]


def _critical(pipeline: Pipeline | None, durations: dict[str, float]) -> tuple[float, list[str]]:
    if pipeline is None or not durations:
        return 0.0, []
    costs = [0.0] * len(pipeline)
    for node in pipeline.nodes:
        costs[node.id] = durations.get(node.name, 0.0)
    length, ids = pipeline.graph.critical_path(costs)
    names = [pipeline.graph.node_name(i) for i in ids]
    return float(length), [n for n in names if durations.get(n, 0.0) > 0.0]


def build_timeline(
    pipeline: Pipeline | None,
    rows: list[tuple[str, str, dt.datetime | None, dt.datetime | None, float | None]],
) -> Timeline:
    """The timeline of tasks given as (node, state, started_at, finished_at, duration)."""
    now = timezone.now()
    timed = [(n, s, start, end or now) for n, s, start, end, _ in rows if start is not None]
    durations = {n: float(d) for n, _, start, _, d in rows if start is not None and d}
    for n, _, start, end in timed:
        durations.setdefault(n, max(0.0, (end - start).total_seconds()))
    length, path = _critical(pipeline, durations)
    if not timed:
        return Timeline([], 0.0, path, length, 0)
    origin = min(start for _, _, start, _ in timed)
    finish = max(end for _, _, _, end in timed)
    span = max((finish - origin).total_seconds(), 1e-3)
    on_path = set(path)
    shown = timed
    if len(timed) > MAX_BARS:
        keep = set(sorted(timed, key=lambda t: t[3] - t[2], reverse=True)[:MAX_BARS])
        shown = [t for t in timed if t in keep]
    bars = [
        Bar(
            node=n,
            state=s,
            offset=100.0 * (start - origin).total_seconds() / span,
            width=max(0.4, 100.0 * (end - start).total_seconds() / span),
            seconds=durations.get(n, 0.0),
            critical=n in on_path,
        )
        for n, s, start, end in sorted(shown, key=lambda t: t[2])
    ]
    return Timeline(bars, span, path, length, len(timed) - len(shown))
