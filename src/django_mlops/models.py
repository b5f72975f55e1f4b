"""The records: runs, their tasks (with outputs and failed attempts), artifacts, params, metrics.

The schema follows docs/architecture.md ("Records") and is shaped for reading:
date-times are ``DateTimeField``s, outputs are rows that reference their
``Artifact``. Rows the runner writes in bulk (``records.sql``) take their
timestamps from ``default=`` rather than ``auto_now_add``, because bulk writers
fill missing columns from field defaults.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = [
    "AliasChange",
    "Artifact",
    "LoggedArtifact",
    "Metric",
    "ModelAlias",
    "ModelVersion",
    "Param",
    "RecordJSONField",
    "RegisteredModel",
    "Run",
    "RunStatus",
    "Serializer",
    "ShareLink",
    "TaskAttempt",
    "TaskOutput",
    "TaskQuerySet",
    "TaskRun",
    "TaskState",
    "Token",
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
    SKOPS = "skops", "skops"


class Run(models.Model):
    """One execution of a pipeline, with what is needed to reproduce it.

    While a process runs it, ``heartbeat_at`` is renewed every
    ``MLOPS["HEARTBEAT_SECONDS"]``; a ``running`` run whose heartbeat is older than
    ``MLOPS["RUN_STALE_SECONDS"]`` has lost its runner (see ``records.liveness``).
    A run from the queue (``claims`` > 0) that lost its worker goes back to the
    queue instead, for another worker to resume (see ``docs/queue.md``).
    """

    pipeline = models.CharField(max_length=_NAME_LENGTH)
    source = models.CharField(
        max_length=1000,
        blank=True,
        help_text="Where the pipeline was defined: MODULE:NAME or /path/to/file.py:NAME "
        "(blank when it was defined interactively).",
    )
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
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the process running it."
    )
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
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries"
    )
    cancel_requested = models.BooleanField(default=False)
    priority = models.IntegerField(
        default=0, help_text="Queued runs with a higher priority start first."
    )
    tasks_total = models.PositiveIntegerField(default=0)
    worker = models.CharField(
        max_length=255,
        blank=True,
        help_text="The queue worker that holds (or last held) the run: its name or host:pid.",
    )
    claims = models.PositiveIntegerField(
        default=0,
        help_text="How many times a worker took the run from the queue (0: not from the "
        "queue). Also the lease's fencing token: a worker writes only while it is its own.",
    )
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker last took the run from the queue."
    )
    resumed_from = models.CharField(
        max_length=255,
        blank=True,
        help_text="The worker that held the run before it was taken over or handed back "
        "(blank: never resumed).",
    )

    class Meta:
        """Ordering, indexes and constraints."""

        ordering = ["-created_at", "-id"]
        indexes = [
            # The claim query: queued runs, highest priority first, then oldest.
            models.Index(
                fields=["-priority", "created_at", "id"],
                condition=models.Q(status="queued"),
                name="mlops_run_queue_idx",
            ),
            # Each ends with -id: lists are ordered (-created_at, -id), and an index
            # that has both serves a deep page (OFFSET) without a sort.
            models.Index(fields=["pipeline", "-created_at", "-id"], name="mlops_run_pipeline_idx"),
            models.Index(fields=["status", "-created_at", "-id"], name="mlops_run_status_idx"),
            models.Index(fields=["-created_at", "-id"], name="mlops_run_created_idx"),
        ]
        # promote_model and predict are declared by the registry (RegisteredModel).
        permissions = [("run_pipeline", "Can run pipelines")]

    def __str__(self) -> str:
        return f"{self.pipeline} #{self.pk} ({self.status})"

    @property
    def tasks(self) -> TaskQuerySet:
        """The run's tasks in topological order, as a lazy query (``run.tasks["fit"]`` works)."""
        return cast(TaskQuerySet, self.task_runs.order_by("id"))

    @property
    def metrics(self) -> dict[str, float]:
        """The latest value of each metric of this run (one query), reused ones included."""
        from .records.results import run_metrics

        return run_metrics(self)

    def output(self, dataset: str) -> Any:
        """The value a node of this run produced for ``dataset`` (verified when loaded)."""
        from .records.results import run_output

        return run_output(self, dataset)


class RecordJSONField(models.JSONField):
    """A JSON column written by the recorder, whose texts are valid by construction.

    Django adds ``CHECK (JSON_VALID(col))`` to JSON columns on SQLite, which makes
    SQLite parse every value on insert. The recorder writes ``json.dumps`` output
    only, so the check is left out; everything else about ``JSONField`` is unchanged.
    """

    def db_check(self, connection: Any) -> str | None:
        """No CHECK constraint."""
        return None


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
    node = models.CharField(max_length=_NAME_LENGTH)
    state = models.CharField(max_length=20, choices=TaskState.choices, default=TaskState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True, help_text="Start of the last attempt.")
    finished_at = models.DateTimeField(null=True, blank=True, help_text="End of the last attempt.")
    duration = models.FloatField(null=True, blank=True, help_text="Seconds of the last attempt.")
    host = models.CharField(max_length=255, blank=True)
    pid = models.IntegerField(null=True, blank=True)
    code_hash = models.CharField(max_length=_SHA_LENGTH, blank=True)
    key = models.CharField(max_length=_SHA_LENGTH, blank=True, help_text="The node's fingerprint.")
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
    dataset = models.CharField(max_length=_NAME_LENGTH)
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
    reused = models.BooleanField(
        default=False, help_text="Logged when a cached task's producer ran, in an earlier run."
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

    # No index of its own: the (run, key) index starts with run.
    run = models.ForeignKey(
        Run, on_delete=models.CASCADE, related_name="metric_records", db_index=False
    )
    task = models.ForeignKey(
        TaskRun, null=True, blank=True, on_delete=models.CASCADE, related_name="metric_records"
    )
    key = models.CharField(max_length=_NAME_LENGTH)
    value = models.FloatField()
    step = models.BigIntegerField(null=True, blank=True)
    timestamp = models.DateTimeField(default=timezone.now)
    reused = models.BooleanField(
        default=False, help_text="Logged when a cached task's producer ran, in an earlier run."
    )

    class Meta:
        """Ordering, indexes and constraints."""

        ordering = ["run", "key", "step", "id"]
        indexes = [models.Index(fields=["run", "key"], name="mlops_metric_run_key_idx")]

    def __str__(self) -> str:
        step = "" if self.step is None else f"@{self.step}"
        return f"{self.key}{step}={self.value}"


class ShareLink(models.Model):
    """A read-only, no-login view of one pipeline's picture, reached by a signed link.

    The link carries ``token`` signed with the project's ``SECRET_KEY`` (see
    ``django_mlops.web.share``); it shows the DAG, the steps' descriptions and the
    latest run's states, never data, logs or params. ``revoked_at`` ends it.
    """

    pipeline = models.CharField(max_length=_NAME_LENGTH)
    token = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=200, blank=True, help_text="Who or what it is for.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mlops_share_links",
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        """Ordering, indexes and constraints."""

        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["pipeline", "-created_at"], name="mlops_share_pipeline_idx")
        ]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"share link #{self.pk} of {self.pipeline} ({state})"

    @property
    def active(self) -> bool:
        """Whether the link still opens its page."""
        return self.revoked_at is None


# The API token model lives in its own module (one job each); importing it here
# registers it with the app like the records above.
# The registry's models live with the registry; Django finds them through this module.
from .registry.records import AliasChange, ModelAlias, ModelVersion, RegisteredModel  # noqa: E402
from .tokens import Token  # noqa: E402
