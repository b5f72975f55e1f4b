"""Tasks: one node of one run, its outputs and its failed attempts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from .fields import NAME_LENGTH, SHA_LENGTH, RecordJSONField
from .runs import Run, TaskState

if TYPE_CHECKING:
    from .artifacts import Artifact


class TaskQuerySet(models.QuerySet["TaskRun"]):
    """Task rows; indexing by a node name gives that node's task (``run.tasks["fit"]``)."""

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, str):
            try:
                return self.get(node=item)
            except self.model.DoesNotExist:
                raise KeyError(f"no task for node '{item}'") from None
        return super().__getitem__(item)

    def by_node(self) -> dict[str, TaskRun]:
        """The tasks as {node name: TaskRun}, in query order (one query)."""
        return {task.node: task for task in self}


class TaskRun(models.Model):
    """One node of one run: its state, last attempt, identity, captured output and reason.

    A task's outputs are :class:`TaskOutput` rows; its earlier failed attempts are
    :class:`TaskAttempt` rows. Rows are written in batches by ``records.writer``
    (signals are not sent for them), in topological order, so id order is one.
    """

    # No index of its own: unique (run, node) starts with run and serves every by-run query.
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="task_runs", db_index=False)
    node = models.CharField(max_length=NAME_LENGTH)
    state = models.CharField(max_length=20, choices=TaskState.choices, default=TaskState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True, help_text="Start of the last attempt.")
    finished_at = models.DateTimeField(null=True, blank=True, help_text="End of the last attempt.")
    duration = models.FloatField(null=True, blank=True, help_text="Seconds of the last attempt.")
    host = models.CharField(max_length=255, blank=True)
    pid = models.IntegerField(null=True, blank=True)
    code_hash = models.CharField(max_length=SHA_LENGTH, blank=True)
    key = models.CharField(max_length=SHA_LENGTH, blank=True, help_text="The node's fingerprint.")
    input_keys = RecordJSONField(default=dict, blank=True, help_text="Dataset → key.")
    reads = RecordJSONField(
        default=dict,
        blank=True,
        help_text="File path → SHA-256 of the files the node declares it reads (part of its key).",
    )
    reason = models.CharField(max_length=32, blank=True, help_text="Why it ran, or did not.")
    reason_detail = models.TextField(blank=True)
    reused_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reused_by",
        db_index=False,
        help_text="For a cached task: the task whose outputs (and metrics) it reused.",
    )
    stdout = models.TextField(blank=True, default="", db_default="")
    stderr = models.TextField(blank=True, default="", db_default="")
    log = models.TextField(blank=True, default="", db_default="")
    error = models.TextField(blank=True, default="", db_default="")
    traceback = models.TextField(blank=True, default="", db_default="")

    objects = TaskQuerySet.as_manager()

    class Meta:
        """Ordering, indexes and constraints."""

        ordering = ["run", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "node"], name="mlops_taskrun_run_node_uniq")
        ]
        indexes = [
            # Cache lookups: "has a node with this key succeeded before?" Only
            # succeeded tasks produce outputs, so only they are indexed.
            models.Index(
                fields=["key"],
                condition=models.Q(state="succeeded"),
                name="mlops_taskrun_key_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.node} in run #{self.run_id} ({self.state})"

    def output_ids(self) -> dict[str, int]:
        """The task's outputs as {dataset: artifact id}, in one query."""
        return dict(self.output_records.values_list("dataset", "artifact_id"))

    def output_artifacts(self) -> dict[str, Artifact]:
        """The task's outputs as {dataset: Artifact}, in one query."""
        rows = self.output_records.select_related("artifact")
        return {row.dataset: row.artifact for row in rows}


class TaskOutput(models.Model):
    """One output of a task: the artifact it produced for a dataset (a cached task: reused).

    The foreign key protects artifacts in use, and "which runs used this artifact"
    is ``TaskOutput.objects.filter(artifact=a)``.
    """

    # No index of its own: unique (task, dataset) starts with task and serves every by-task query.
    task = models.ForeignKey(
        TaskRun, on_delete=models.CASCADE, related_name="output_records", db_index=False
    )
    dataset = models.CharField(max_length=NAME_LENGTH)
    artifact = models.ForeignKey(
        "Artifact", on_delete=models.PROTECT, related_name="task_outputs", db_index=False
    )

    class Meta:
        """Ordering, indexes and constraints."""

        ordering = ["task", "id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "dataset"], name="mlops_taskoutput_uniq")
        ]
        indexes = [models.Index(fields=["artifact"], name="mlops_taskoutput_artifact_idx")]

    def __str__(self) -> str:
        return f"{self.dataset} of task #{self.task_id}"


class TaskAttempt(models.Model):
    """A failed attempt of a task (the last attempt is also on the task row)."""

    # No index of its own: unique (task, number) starts with task.
    task = models.ForeignKey(
        TaskRun, on_delete=models.CASCADE, related_name="failed_attempts", db_index=False
    )
    number = models.PositiveIntegerField(help_text="Attempt number, from 1.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="Seconds.")
    host = models.CharField(max_length=255, blank=True)
    pid = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)

    class Meta:
        """Ordering, indexes and constraints."""

        ordering = ["task", "number"]
        constraints = [
            models.UniqueConstraint(fields=["task", "number"], name="mlops_taskattempt_uniq")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of task #{self.task_id}"
