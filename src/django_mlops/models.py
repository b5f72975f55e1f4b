"""The records: runs, task runs (with their outputs), artifacts, params and metrics.

The schema follows docs/architecture.md ("Records"). Rows that the runner writes
in bulk (``sqlbatch.TableWriter``) take their timestamps from ``default=``
rather than ``auto_now_add``, because bulk writers fill missing columns from
field defaults.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = [
    "Artifact",
    "LoggedArtifact",
    "Metric",
    "Param",
    "RecordJSONField",
    "Run",
    "RunStatus",
    "Serializer",
    "TaskRun",
    "TaskState",
]

_SHA_LENGTH = 64
_NAME_LENGTH = 200


class RunStatus(models.TextChoices):
    """The life of a run."""

    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"


class TaskState(models.TextChoices):
    """A task's state: the engine's ``NodeState`` member names."""

    PENDING = "pending", "pending"
    READY = "ready", "ready"
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    CACHED = "cached", "cached"
    FAILED = "failed", "failed"
    RETRYING = "retrying", "retrying"
    UPSTREAM_FAILED = "upstream_failed", "upstream failed"
    NOT_STARTED = "not_started", "not started"
    CANCELLED = "cancelled", "cancelled"
    EXCLUDED = "excluded", "excluded"


class Serializer(models.TextChoices):
    """How an artifact's bytes encode its value."""

    JSON = "json", "JSON"
    NPY = "npy", "NumPy .npy"
    PARQUET = "parquet", "Parquet"
    JOBLIB = "joblib", "joblib"
    BYTES = "bytes", "bytes"
    TEXT = "text", "text"


class Run(models.Model):
    """One execution of a pipeline, with what is needed to reproduce it."""

    pipeline = models.CharField(max_length=_NAME_LENGTH)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    params = models.JSONField(default=dict, blank=True)
    selection = models.JSONField(
        default=dict, blank=True, help_text="only/from/to/tags the run was limited to."
    )
    executor = models.CharField(max_length=64, blank=True)
    no_cache = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True, help_text="Seconds.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mlops_runs",
    )
    error = models.TextField(blank=True)
    git_commit = models.CharField(max_length=64, blank=True)
    git_dirty = models.BooleanField(null=True, blank=True)
    python_version = models.CharField(max_length=100, blank=True)
    packages = models.JSONField(default=dict, blank=True, help_text="Distribution name → version.")
    host = models.CharField(max_length=255, blank=True)
    pid = models.IntegerField(null=True, blank=True)
    reproduces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reproductions"
    )
    # Not in the original table: `mlops retry` and `mlops cancel` need them.
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    cancel_requested = models.BooleanField(default=False)
    tasks_total = models.PositiveIntegerField(default=0)

    class Meta:
        """Ordering, indexes and constraints."""

        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["pipeline", "-created_at"], name="mlops_run_pipeline_idx"),
            models.Index(fields=["status", "-created_at"], name="mlops_run_status_idx"),
            models.Index(fields=["-created_at"], name="mlops_run_created_idx"),
        ]
        permissions = [("run_pipeline", "Can run pipelines")]

    def __str__(self) -> str:
        return f"{self.pipeline} #{self.pk} ({self.status})"

    @property
    def tasks(self) -> dict[str, TaskRun]:
        """The task records by node name, in topological order."""
        from .records.results import run_tasks

        return run_tasks(self)

    @property
    def metrics(self) -> dict[str, float]:
        """The latest value of each metric logged in this run."""
        from .records.results import run_metrics

        return run_metrics(self)

    def output(self, dataset: str) -> Any:
        """The value a node of this run produced for ``dataset`` (verified when loaded)."""
        from .records.results import run_output

        return run_output(self, dataset)


class RecordJSONField(models.JSONField):
    """A JSON column written by the recorder, whose texts are valid by construction.

    Django adds ``CHECK (JSON_VALID(col))`` to JSON columns on SQLite, which makes
    SQLite parse every value on insert: two such columns per task row cost a
    tenth of the insert. Everything else about ``JSONField`` is unchanged.
    """

    def db_check(self, connection: Any) -> str | None:
        """No CHECK constraint."""
        return None


class TaskRun(models.Model):
    """One node of one run: its state, attempts, timings, outputs, captured output and identity.

    Written in batches by the recorder (``taskrows``), a 10k-node run in one
    statement; the schema is kept to what that costs least to write: times as
    epoch seconds (no date-time text to format per row), outputs as a small
    {dataset: artifact id} object on the row itself (no second table), empty
    texts left to the database default, and the cache index on an integer.
    """

    # No index of its own: unique (run, node) starts with run and serves every
    # by-run query. Each index costs a B-tree insert per row, and a run writes 10k rows.
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="task_runs", db_index=False)
    node = models.CharField(max_length=_NAME_LENGTH)
    state = models.CharField(max_length=20, choices=TaskState.choices, default=TaskState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    started = models.FloatField(
        null=True, blank=True, help_text="When the last attempt started, in epoch seconds (UTC)."
    )
    finished = models.FloatField(
        null=True, blank=True, help_text="When the last attempt ended, in epoch seconds (UTC)."
    )
    duration = models.FloatField(null=True, blank=True, help_text="Seconds.")
    host = models.CharField(max_length=255, blank=True)
    pid = models.IntegerField(null=True, blank=True)
    code_hash = models.CharField(max_length=_SHA_LENGTH, blank=True)
    key = models.CharField(max_length=_SHA_LENGTH, blank=True, help_text="The node's fingerprint.")
    key_prefix = models.BigIntegerField(
        default=0, help_text="The key's first 8 bytes as a signed integer: what the cache indexes."
    )
    input_keys = RecordJSONField(default=dict, blank=True, help_text="Dataset → key.")
    reads = RecordJSONField(
        default=dict,
        blank=True,
        help_text="File path → SHA-256 of the files the node declares it reads (part of its key).",
    )
    reason = models.CharField(max_length=32, blank=True, help_text="Why it ran or was reused.")
    reason_detail = models.TextField(blank=True)
    outputs = RecordJSONField(
        default=dict,
        blank=True,
        help_text="Dataset → artifact id: what the task produced (or, cached, reused).",
    )
    stdout = models.TextField(blank=True, default="", db_default="")
    stderr = models.TextField(blank=True, default="", db_default="")
    log = models.TextField(blank=True, default="", db_default="")
    error = models.TextField(blank=True, default="", db_default="")
    traceback = models.TextField(blank=True, default="", db_default="")

    class Meta:
        """Ordering, indexes and constraints."""

        ordering = ["run", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "node"], name="mlops_taskrun_run_node_uniq")
        ]
        indexes = [
            # Cache lookups: "has a node with this key succeeded before?" Only
            # succeeded tasks are indexed (a cached task reuses, it stores nothing
            # new), and an 8-byte integer is cheaper to keep than 64 hex digits;
            # the full key is compared on the few rows a prefix finds.
            models.Index(
                fields=["key_prefix"],
                condition=models.Q(state="succeeded"),
                name="mlops_taskrun_key_prefix_idx",
            ),
            # A node's history ("why does it run again") is read through the run
            # (Run by pipeline, then unique (run, node)): no index on node alone.
        ]

    def __str__(self) -> str:
        return f"{self.node} in run #{self.run_id} ({self.state})"

    @property
    def started_at(self) -> dt.datetime | None:
        """``started`` as an aware UTC datetime."""
        return _from_epoch(self.started)

    @property
    def finished_at(self) -> dt.datetime | None:
        """``finished`` as an aware UTC datetime."""
        return _from_epoch(self.finished)

    def output_artifacts(self) -> dict[str, Artifact]:
        """The task's outputs as {dataset: Artifact}, in one query."""
        ids = {int(pk) for pk in self.outputs.values()}
        found = Artifact.objects.in_bulk(ids)
        return {dataset: found[int(pk)] for dataset, pk in self.outputs.items() if int(pk) in found}


def _from_epoch(value: float | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromtimestamp(value, tz=dt.UTC)


class Artifact(models.Model):
    """A stored value, addressed by the SHA-256 of its serialized bytes."""

    sha256 = models.CharField(max_length=_SHA_LENGTH, unique=True)
    size = models.PositiveBigIntegerField(help_text="Bytes.")
    serializer = models.CharField(max_length=16, choices=Serializer.choices)
    type_name = models.CharField(max_length=255, blank=True)
    storage_name = models.CharField(
        max_length=255, blank=True, help_text="Name in the artifact storage; blank when inline."
    )
    data = models.BinaryField(null=True, blank=True, help_text="The bytes of a small payload.")
    preview = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        """Ordering, indexes and constraints."""

        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.type_name}, {self.size} B)"

    @property
    def inline(self) -> bool:
        """Whether the bytes are kept in this row rather than in the storage."""
        return self.data is not None


class LoggedArtifact(models.Model):
    """A file or object attached to a run with ``log_artifact``."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="logged_artifacts")
    task = models.ForeignKey(
        TaskRun,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="logged_artifacts",
    )
    name = models.CharField(max_length=255)
    artifact = models.ForeignKey(
        Artifact, on_delete=models.PROTECT, related_name="logged_artifacts"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        """Ordering, indexes and constraints."""

        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.name} of run #{self.run_id}"


class Param(models.Model):
    """One parameter value of a run (also in ``Run.params``; here for querying)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="param_records")
    key = models.CharField(max_length=_NAME_LENGTH)
    value = models.JSONField(null=True, blank=True)

    class Meta:
        """Ordering, indexes and constraints."""

        ordering = ["run", "key"]
        constraints = [
            models.UniqueConstraint(fields=["run", "key"], name="mlops_param_run_key_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.key}={self.value!r}"


class Metric(models.Model):
    """One logged metric value, optionally at a step."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metric_records")
    task = models.ForeignKey(
        TaskRun, null=True, blank=True, on_delete=models.CASCADE, related_name="metric_records"
    )
    key = models.CharField(max_length=_NAME_LENGTH)
    value = models.FloatField()
    step = models.BigIntegerField(null=True, blank=True)
    timestamp = models.DateTimeField(default=timezone.now)

    class Meta:
        """Ordering, indexes and constraints."""

        ordering = ["run", "key", "step", "id"]
        indexes = [models.Index(fields=["run", "key"], name="mlops_metric_run_key_idx")]

    def __str__(self) -> str:
        step = "" if self.step is None else f"@{self.step}"
        return f"{self.key}{step}={self.value}"
