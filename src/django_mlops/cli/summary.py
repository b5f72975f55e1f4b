"""The few lines printed after a run ends: status, time, task counts, metrics, what next."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from .base import EXIT_FAILED, EXIT_OK, Console
from .formatting import STATE_COLOURS, format_duration, format_mapping, paint

if TYPE_CHECKING:
    from ..models import Run

__all__ = ["STATE_ORDER", "exit_code", "print_summary", "state_counts"]

# The order states are listed in: outcomes first, then what did not happen.
STATE_ORDER = (
    "succeeded",
    "cached",
    "failed",
    "upstream_failed",
    "cancelled",
    "not_started",
    "excluded",
    "retrying",
    "running",
    "ready",
    "pending",
)


SUMMARY_METRICS = 8  # metrics printed after a run; `mlops status` lists all


def state_counts(run: Run) -> str:
    """``4 succeeded, 1 cached, 1 not started``: the run's tasks counted by state."""
    counts = Counter(run.task_runs.values_list("state", flat=True))
    order = {s: i for i, s in enumerate(STATE_ORDER)}
    parts = [
        f"{counts[s]} {s.replace('_', ' ')}"
        for s in sorted(counts, key=lambda s: order.get(s, len(order)))
    ]
    return ", ".join(parts) or "no tasks"


def exit_code(run: Run) -> int:
    """0 when the run succeeded, 1 otherwise."""
    return EXIT_OK if run.status == "succeeded" else EXIT_FAILED


def print_summary(run: Run, console: Console) -> None:
    """Status line, failed tasks with their error, metrics, and how to look closer."""
    status = paint(run.status, STATE_COLOURS.get(run.status), console.colour)
    console.line(
        f"Run {run.pk} of {run.pipeline} {status} in {format_duration(run.duration)}: "
        f"{state_counts(run)}"
    )
    failed = list(run.task_runs.filter(state="failed").values_list("node", "error"))
    for node, error in failed:
        console.line(f"  {node} failed: {error or 'no error recorded'}")
    if run.error and not failed:
        console.line(f"  error: {run.error}")
    metrics = run.metrics
    if metrics:
        # A sweep logs one metric per grid point: show the first few here and
        # leave the full list to `mlops status`.
        shown = dict(list(metrics.items())[:SUMMARY_METRICS])
        more = len(metrics) - len(shown)
        suffix = f" (+{more} more)" if more else ""
        console.line(f"  metrics: {format_mapping(shown)}{suffix}")
    console.line(f"  inspect: {console.prog} status {run.pk}")
