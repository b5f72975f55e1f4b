"""Artifacts: content-addressed stored values, and those a node logged by name."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .fields import SHA_LENGTH
from .runs import Run
from .tasks import TaskRun


class Serializer(models.TextChoices):
    """How an artifact's bytes encode its value."""

    JSON = "json", "JSON"
    NPY = "npy", "NumPy .npy"
    PARQUET = "parquet", "Parquet"
    JOBLIB = "joblib", "joblib"
    BYTES = "bytes", "bytes"
    TEXT = "text", "text"
    SKOPS = "skops", "skops"


class Artifact(models.Model):
    """A stored value, addressed by the SHA-256 of its serialized bytes."""

    sha256 = models.CharField(max_length=SHA_LENGTH, unique=True)
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
