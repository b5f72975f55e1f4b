"""Runs: one execution of a pipeline, and the states of runs and tasks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import models
from django.utils import timezone

from .fields import NAME_LENGTH

if TYPE_CHECKING:
    from .tasks import TaskQuerySet


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


class Run(models.Model):
    """One execution of a pipeline, with what is needed to reproduce it.

    While a process runs it, ``heartbeat_at`` is renewed every
    ``MLOPS["HEARTBEAT_SECONDS"]``; a ``running`` run whose heartbeat is older than
    ``MLOPS["RUN_STALE_SECONDS"]`` has lost its runner (see ``records.liveness``).
    A run from the queue (``claims`` > 0) that lost its worker goes back to the
    queue instead, for another worker to resume (see ``docs/queue.md``).
    """

    pipeline = models.CharField(max_length=NAME_LENGTH)
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
        return cast("TaskQuerySet", self.task_runs.order_by("id"))

    @property
    def metrics(self) -> dict[str, float]:
        """The latest value of each metric of this run (one query), reused ones included."""
        from ..records.results import run_metrics

        return run_metrics(self)

    def output(self, dataset: str) -> Any:
        """The value a node of this run produced for ``dataset`` (verified when loaded)."""
        from ..records.results import run_output

        return run_output(self, dataset)
