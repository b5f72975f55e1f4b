"""A run's tasks in the order of its pipeline, for ``status`` and ``logs``.

The pipeline's topological order (declaration order among independent nodes)
is what ``show`` prints and what a reader expects. The records writer inserts a
run's task rows in that order, so id order is it: no pipeline needs importing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models import Run, TaskRun

__all__ = ["tasks_in_order"]


def tasks_in_order(run: Run) -> list[TaskRun]:
    """The run's task rows, in pipeline (topological) order."""
    return list(run.task_runs.order_by("id"))
