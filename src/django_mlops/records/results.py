"""Reading a run's results: its tasks, latest metrics and outputs.

``run_metrics`` and ``run_output`` back ``Run.metrics`` and ``Run.output()``. The
Run object the runner returns serves its outputs from memory; any other (a row
read from the database) loads them from the artifact store, verified against their hash.
``InMemoryRun`` is what ``run_pipeline(record=False)`` returns: the same reading
surface with no database behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..models import Run

__all__ = [
    "InMemoryRun",
    "InMemoryTask",
    "InMemoryTasks",
    "remember_outputs",
    "run_metrics",
    "run_output",
    "run_output_ids",
]

# The attribute under which a Run object returned by the runner carries the values
# its nodes produced in this process: reading them back from the store right after
# the run would cost a read and a hash for nothing. Kept on the object, not in a
# table by id, so a Run row re-read from the database (or an id reused after a
# rollback) always goes through the verified store.
_VALUES_ATTR = "_mlops_values"


def remember_outputs(run: Run, values: dict[str, Any]) -> None:
    """Attach a finished run's in-memory dataset values to its Run object."""
    setattr(run, _VALUES_ATTR, values)


def run_metrics(run: Run) -> dict[str, float]:
    """The last value logged for each metric of the run (reused ones, from cached tasks, too)."""
    latest: dict[str, float] = {}
    for key, value in run.metric_records.order_by("timestamp", "id").values_list("key", "value"):
        latest[key] = value
    return latest


def run_output(run: Run, dataset: str) -> Any:
    """The value of ``dataset`` in ``run``: from memory if the run happened here, else the store.

    Raises KeyError when the run has no such output; the store raises when the
    artifact's bytes no longer match its SHA-256.
    """
    values: dict[str, Any] | None = getattr(run, _VALUES_ATTR, None)
    if values is not None and dataset in values and not dataset.startswith("params:"):
        return values[dataset]
    from ..artifacts import ArtifactStore
    from ..models import Artifact

    artifact_id = run_output_ids(run).get(dataset)
    if artifact_id is None:
        raise KeyError(f"run {run.pk} has no output '{dataset}'")
    return ArtifactStore().get(Artifact.objects.get(pk=artifact_id))


def run_output_ids(run: Run) -> dict[str, int]:
    """Dataset -> artifact id of every output of the run (a cached task's: what it reused)."""
    from ..models import TaskOutput

    rows = TaskOutput.objects.filter(task__run=run).order_by("id")
    return dict(rows.values_list("dataset", "artifact_id"))


@dataclass(slots=True)
class InMemoryTask:
    """One node's outcome in an unrecorded run (the fields of TaskRun that apply)."""

    node: str
    state: str
    reason: str = ""
    reason_detail: str = ""
    code_hash: str = ""
    key: str = ""
    attempts: int = 0
    duration: float | None = None
    error: str = ""
    traceback: str = ""
    stdout: str = ""
    stderr: str = ""
    log: str = ""


class InMemoryTasks(dict[str, InMemoryTask]):
    """An unrecorded run's tasks by node name, read like ``Run.tasks`` (``by_node()``)."""

    def by_node(self) -> dict[str, InMemoryTask]:
        """The tasks as {node name: task}, in topological order."""
        return dict(self)


class InMemoryRun:
    """The result of ``run_pipeline(record=False)``: like a Run, with nothing in a database.

    ``tasks`` is built on first access: a notebook or benchmark that only reads
    ``status`` and ``output()`` does not pay for 10k task objects.
    """

    id = None
    pk = None

    def __init__(
        self,
        pipeline: str,
        params: dict[str, Any],
        status: str,
        *,
        duration: float,
        values: dict[str, Any],
        metrics: dict[str, float],
        logged_params: dict[str, Any],
        task_builder: Callable[[], InMemoryTasks],
    ) -> None:
        self.pipeline = pipeline
        self.params = params
        self.status = status
        self.duration = duration
        self.metrics = metrics
        self.logged_params = logged_params
        self.error = ""
        self._values = values
        self._task_builder = task_builder
        self._tasks: InMemoryTasks | None = None

    def __repr__(self) -> str:
        return f"<InMemoryRun {self.pipeline!r} {self.status}>"

    @property
    def tasks(self) -> InMemoryTasks:
        """Each node's outcome by name, in topological order."""
        if self._tasks is None:
            self._tasks = self._task_builder()
        return self._tasks

    def output(self, dataset: str) -> Any:
        """The value a node produced for ``dataset`` in this run."""
        if dataset.startswith("params:") or dataset not in self._values:
            raise KeyError(f"this run has no output '{dataset}'")
        return self._values[dataset]
