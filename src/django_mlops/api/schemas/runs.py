"""Runs as the API shows them, and what a client sends to start one."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict, field_validator

from .common import Name, PageIn, PageOut, UtcDateTime, finite_or_none, storable_text

if TYPE_CHECKING:
    from ...models import Run

__all__ = [
    "RUN_LIST_FIELDS",
    "RunDetail",
    "RunFilters",
    "RunPage",
    "RunRequest",
    "RunSummary",
    "TaskCounts",
    "run_detail",
    "run_summary",
]

RunStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]
RunOrdering = Literal[
    "created_at", "-created_at", "id", "-id", "started_at", "-started_at", "duration", "-duration"
]
_SELECTION_MAX = 1000

#: The Run columns a list reads (the heavy ones, such as ``packages``, stay in the table).
RUN_LIST_FIELDS = (
    "id",
    "pipeline",
    "status",
    "executor",
    "params",
    "created_at",
    "started_at",
    "finished_at",
    "duration",
    "tasks_total",
    "retry_of_id",
    "reproduces_id",
    "cancel_requested",
    "error",
    "created_by__username",
)


class RunRequest(Schema):
    """What to run: params and an optional selection of nodes (as ``mlops run``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    params: dict[str, Any] = Field(
        default_factory=dict, description="Param values, validated against the declaration."
    )
    only: list[Name] = Field(default_factory=list, max_length=_SELECTION_MAX)
    from_nodes: list[Name] = Field(
        default_factory=list, alias="from", max_length=_SELECTION_MAX, description="Run from."
    )
    to: list[Name] = Field(default_factory=list, max_length=_SELECTION_MAX)
    tags: list[Name] = Field(default_factory=list, max_length=_SELECTION_MAX)
    executor: Name | None = Field(None, description="Executor name (default: the worker's).")
    no_cache: bool = False
    priority: int = Field(0, ge=-1000, le=1000, description="Higher starts first.")

    @field_validator("params")
    @classmethod
    def _no_nul(cls, value: dict[str, Any]) -> dict[str, Any]:
        return storable_text(value, "params")


class RunFilters(PageIn):
    """Which runs to list, in which order."""

    pipeline: Name | None = None
    status: RunStatusName | None = None
    created_by: Name | None = Field(None, description="Username of who started the runs.")
    created_after: UtcDateTime | None = Field(None, description="Created at or after.")
    created_before: UtcDateTime | None = Field(None, description="Created before.")
    filter: str | None = Field(
        None,
        max_length=2000,
        description="The experiments filter language, e.g. "
        "`metrics.accuracy > 0.9 and params.C <= 1 and status = succeeded` (docs/experiments.md). "
        "A mistake answers 422 with its message and `ctx.position` (0-based) and `ctx.length`.",
    )
    ordering: RunOrdering = "-created_at"


class RunSummary(Schema):
    """A run as lists show it."""

    id: int
    pipeline: str
    status: RunStatusName
    executor: str
    params: dict[str, Any]
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration: float | None = Field(description="Seconds.")
    created_by: str | None = Field(description="Username of who started it.")
    tasks_total: int
    retry_of: int | None
    reproduces: int | None
    cancel_requested: bool
    error: str


class RunPage(PageOut):
    """A page of runs."""

    items: list[RunSummary]


class TaskCounts(Schema):
    """A run's tasks counted by state (one aggregate query, whatever the run's size)."""

    total: int
    by_state: dict[str, int]
    failed: list[str] = Field(description="Failed nodes (the first 20).")


class RunDetail(RunSummary):
    """One run: everything but its tasks' texts."""

    source: str
    selection: dict[str, list[str]]
    no_cache: bool
    priority: int
    heartbeat_at: dt.datetime | None
    git_commit: str
    git_dirty: bool | None
    python_version: str
    host: str
    metrics: dict[str, float | None] = Field(description="Latest value of each metric.")
    tasks: TaskCounts


def run_summary(run: Run | dict[str, Any]) -> dict[str, Any]:
    """The fields of :class:`RunSummary`, from a Run or from ``values(*RUN_LIST_FIELDS)``."""
    if isinstance(run, dict):
        row = dict(run)
        row["created_by"] = row.pop("created_by__username")
        row["retry_of"] = row.pop("retry_of_id")
        row["reproduces"] = row.pop("reproduces_id")
        row["params"] = row["params"] or {}
        return row
    return {
        "id": run.pk,
        "pipeline": run.pipeline,
        "status": run.status,
        "executor": run.executor,
        "params": run.params or {},
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration": run.duration,
        "created_by": run.created_by.get_username() if run.created_by else None,
        "tasks_total": run.tasks_total,
        "retry_of": run.retry_of_id,
        "reproduces": run.reproduces_id,
        "cancel_requested": run.cancel_requested,
        "error": run.error,
    }


def run_detail(run: Run, metrics: dict[str, float], tasks: dict[str, Any]) -> dict[str, Any]:
    """The fields of :class:`RunDetail`."""
    selection = run.selection or {}
    return {
        **run_summary(run),
        "source": run.source,
        "selection": {k: list(selection.get(k, ())) for k in ("only", "from", "to", "tags")},
        "no_cache": run.no_cache,
        "priority": run.priority,
        "heartbeat_at": run.heartbeat_at,
        "git_commit": run.git_commit,
        "git_dirty": run.git_dirty,
        "python_version": run.python_version,
        "host": run.host,
        "metrics": {k: finite_or_none(v) for k, v in metrics.items()},
        "tasks": tasks,
    }
