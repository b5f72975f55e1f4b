"""A run's tasks as the API shows them: state, attempts, logs, error, output previews."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from .common import PageIn, PageOut

__all__ = [
    "TASK_LIST_FIELDS",
    "ArtifactOut",
    "AttemptOut",
    "OutputOut",
    "TaskDetail",
    "TaskFilters",
    "TaskPage",
    "TaskSummary",
]

TaskStateName = Literal[
    "pending",
    "ready",
    "running",
    "succeeded",
    "cached",
    "failed",
    "retrying",
    "upstream_failed",
    "not_started",
    "cancelled",
    "excluded",
]

#: The TaskRun columns a list reads: not the captured texts, which can be large.
TASK_LIST_FIELDS = (
    "node",
    "state",
    "attempts",
    "started_at",
    "finished_at",
    "duration",
    "reason",
    "reason_detail",
    "error",
    "reused_from__run_id",
)


class TaskFilters(PageIn):
    """Which tasks of the run to list (in pipeline order)."""

    state: TaskStateName | None = None


class TaskSummary(Schema):
    """A task as the list shows it."""

    node: str
    state: TaskStateName
    attempts: int
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration: float | None = Field(description="Seconds of the last attempt.")
    reason: str = Field(description="Why it ran, was reused or did not run (a short code).")
    reason_detail: str
    error: str
    reused_from_run: int | None = Field(description="For a cached task: the run it reused.")


class TaskPage(PageOut):
    """A page of a run's tasks."""

    items: list[TaskSummary]


class AttemptOut(Schema):
    """A failed attempt of a task (the last attempt is the task itself)."""

    number: int
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration: float | None
    host: str
    pid: int | None
    error: str
    traceback: str


class ArtifactOut(Schema):
    """A stored value: its address, size and a small preview (never its bytes)."""

    id: int
    sha256: str
    size: int
    serializer: str
    type_name: str
    preview: dict[str, Any]


class OutputOut(Schema):
    """One output of a task (a cached task's: the artifact it reused)."""

    dataset: str
    node: str
    artifact: ArtifactOut


class TaskDetail(TaskSummary):
    """One task with its logs, failure, attempts, outputs and metrics."""

    host: str
    pid: int | None
    code_hash: str
    key: str = Field(description="The node's fingerprint.")
    input_keys: dict[str, str]
    reads: dict[str, str]
    stdout: str
    stderr: str
    log: str
    traceback: str
    failed_attempts: list[AttemptOut]
    outputs: list[OutputOut]
    metrics: dict[str, float | None] = Field(description="Latest value of each metric it logged.")
    live: bool = Field(
        False,
        description="An attempt is running now: state, start and logs are what it printed so far.",
    )
