"""A run's tasks in the order of its pipeline, for ``status`` and ``logs``.

The pipeline's topological order (declaration order among independent nodes)
is what ``show`` prints and what a reader expects. It needs the pipeline; when
that cannot be loaded any more (a file since moved), row order is the fallback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models import Run, TaskRun
    from ..pipeline import Pipeline

__all__ = ["pipeline_of", "tasks_in_order"]


def pipeline_of(run: Run) -> Pipeline | None:
    """The pipeline ``run`` ran, if it is registered or can be imported again; else None."""
    from ..pipeline import registered

    pipeline = registered(run.pipeline)
    if pipeline is not None:
        return pipeline
    from .sources import resolve_name

    try:
        return resolve_name(run.pipeline)
    except Exception:  # an order is a nicety: a source that no longer loads must not fail status
        return None


def tasks_in_order(run: Run) -> list[TaskRun]:
    """The run's task rows, in pipeline order; nodes unknown to the pipeline come last."""
    tasks = list(run.task_runs.order_by("id"))
    pipeline = pipeline_of(run)
    if pipeline is None:
        return tasks
    nodes = pipeline.nodes
    position = {nodes[i].name: rank for rank, i in enumerate(pipeline.graph.topological_order())}
    last = len(position)
    return sorted(tasks, key=lambda t: position.get(t.node, last))
