"""Params and metrics of a run, as rows for querying."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .fields import NAME_LENGTH
from .runs import Run
from .tasks import TaskRun


class Param(models.Model):
    """One parameter value of a run (also in ``Run.params``; here for querying)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="param_records")
    key = models.CharField(max_length=NAME_LENGTH)
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
    key = models.CharField(max_length=NAME_LENGTH)
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
