"""The admin of runs and their tasks, with each task's outputs and failed attempts."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.safestring import SafeString

from ..models import (
    Artifact,
    LoggedArtifact,
    Metric,
    Run,
    TaskAttempt,
    TaskOutput,
    TaskRun,
    TaskState,
)
from .base import RUN_HEAVY, TASK_HEAVY, Cell, RecordAdmin, bounded_table, first_line, under

__all__ = ["RunAdmin", "TaskAttemptAdmin", "TaskOutputAdmin", "TaskRunAdmin"]


@admin.register(Run)
class RunAdmin(RecordAdmin):
    """Runs: their tasks as counts by state, failures, latest metrics; deletable with their rows."""

    list_display = (
        "id",
        "pipeline",
        "status",
        "executor",
        "created_at",
        "duration",
        "tasks_total",
        "created_by",
        "git_commit_short",
    )
    list_filter = ("status", "pipeline", "executor", "git_dirty")
    search_fields = ("pipeline", "source", "git_commit", "host", "error")
    date_hierarchy = "created_at"
    list_select_related = ("created_by",)
    list_defer = RUN_HEAVY
    # A run goes with all its rows, for whoever has Django's delete permission on runs.
    deletable = True
    fieldsets = (
        (None, {"fields": ("pipeline", "source", "status", "error", "params", "selection")}),
        ("Tasks", {"fields": ("tasks_total", "task_counts", "failed_tasks")}),
        ("Results", {"fields": ("latest_metrics", "logged_artifacts")}),
        (
            "Timing",
            {"fields": ("created_at", "started_at", "finished_at", "heartbeat_at", "duration")},
        ),
        (
            "How it ran",
            {"fields": ("executor", "no_cache", "cancel_requested", "created_by", "host", "pid")},
        ),
        ("Related runs", {"fields": ("reproduces", "retry_of")}),
        (
            "Environment",
            {"fields": ("git_commit", "git_dirty", "python_version", "packages")},
        ),
    )
    readonly_fields = ("task_counts", "failed_tasks", "latest_metrics", "logged_artifacts")

    @admin.display(description="commit")
    def git_commit_short(self, obj: Run) -> str:
        """The first 10 characters of the commit, with a * when the tree was dirty."""
        return obj.git_commit[:10] + ("*" if obj.git_dirty else "")

    @admin.display(description="tasks by state")
    def task_counts(self, obj: Run) -> SafeString:
        """How many tasks are in each state (one grouped query), each linked to those tasks."""
        tasks = self.changelist_url(TaskRun, run__id__exact=obj.pk)
        grouped = obj.task_runs.order_by().values("state").annotate(n=Count("id"))
        counts: dict[str, int] = dict(grouped.values_list("state", "n"))
        rows = [
            [
                Cell(
                    state.label,
                    self.changelist_url(TaskRun, run__id__exact=obj.pk, state__exact=state),
                ),
                Cell(f"{counts[state]:,}"),
            ]
            for state in TaskState
            if counts.get(state)
        ]
        return bounded_table(["state", "tasks"], rows, sum(counts.values()), tasks, "tasks")

    @admin.display(description="failed tasks")
    def failed_tasks(self, obj: Run) -> SafeString:
        """The first failed tasks with the first line of their error."""
        failed = obj.task_runs.filter(state=TaskState.FAILED).order_by("id")
        rows, total = self.bounded(failed.values_list("id", "node", "attempts", "error"))
        cells = [
            [Cell(node, self.change_url(TaskRun, pk)), Cell(attempts), Cell(first_line(error))]
            for pk, node, attempts, error in rows
        ]
        url = self.changelist_url(TaskRun, run__id__exact=obj.pk, state__exact=TaskState.FAILED)
        return bounded_table(["node", "attempts", "error"], cells, total, url, "failed tasks")

    @admin.display(description="latest metrics")
    def latest_metrics(self, obj: Run) -> SafeString:
        """Each metric's latest value (as ``Run.metrics`` has it) and how many values it has."""
        keys = obj.metric_records.order_by("key").values("key").annotate(n=Count("id"))
        rows, total = self.bounded(keys.values_list("key", "n"))
        # One pass over the run's metrics, numbered per key from the latest: a
        # correlated "latest value" subquery per row took 15 s for 10,000 values.
        newest_first = Window(
            RowNumber(), partition_by=[F("key")], order_by=[F("timestamp").desc(), F("id").desc()]
        )
        latest = dict(
            obj.metric_records.filter(key__in=[key for key, _ in rows])
            .annotate(rank=newest_first)
            .filter(rank=1)
            .values_list("key", "value")
        )
        url = self.changelist_url(Metric, run__id__exact=obj.pk)
        cells = [
            [
                Cell(key, self.changelist_url(Metric, run__id__exact=obj.pk, key__exact=key)),
                Cell(latest.get(key, "")),
                Cell(f"{n:,}"),
            ]
            for key, n in rows
        ]
        return bounded_table(["metric", "latest value", "values"], cells, total, url, "metrics")

    @admin.display(description="logged artifacts")
    def logged_artifacts(self, obj: Run) -> SafeString:
        """The artifacts logged with ``log_artifact`` during the run."""
        logged = obj.logged_artifacts.order_by("id").values_list(
            "name", "artifact_id", "artifact__type_name", "artifact__size", "task_id", "task__node"
        )
        rows, total = self.bounded(logged)
        cells = [
            [
                Cell(name, self.change_url(Artifact, artifact)),
                Cell(type_name),
                Cell(filesizeformat(size)),
                Cell(node or "", self.change_url(TaskRun, task) if task else ""),
            ]
            for name, artifact, type_name, size, task, node in rows
        ]
        url = self.changelist_url(LoggedArtifact, run__id__exact=obj.pk)
        headers = ["name", "type", "size", "task"]
        return bounded_table(headers, cells, total, url, "logged artifacts")


@admin.register(TaskRun)
class TaskRunAdmin(RecordAdmin):
    """One node of one run: its outputs, failed attempts and metrics."""

    list_display = ("id", "run", "node", "state", "attempts", "started_at", "duration", "reason")
    list_filter = ("state", "reason", "run__pipeline")
    search_fields = ("node", "=key", "=code_hash", "run__pipeline")
    list_select_related = ("run",)
    list_defer = (*TASK_HEAVY, *under("run", RUN_HEAVY))
    fieldsets = (
        (None, {"fields": ("run", "node", "state", "attempts", "reason", "reason_detail")}),
        ("Failure", {"fields": ("error", "traceback", "failed_attempts")}),
        ("Results", {"fields": ("outputs", "metrics", "reused_from")}),
        ("Timing", {"fields": ("started_at", "finished_at", "duration", "host", "pid")}),
        ("Identity", {"fields": ("key", "code_hash", "input_keys", "reads")}),
        ("Captured output", {"fields": ("stdout", "stderr", "log")}),
    )
    readonly_fields = ("outputs", "failed_attempts", "metrics")

    def get_queryset(self, request: HttpRequest) -> QuerySet[TaskRun]:
        """The run is shown on every page: fetched with the task."""
        return super().get_queryset(request).select_related("run")

    @admin.display(description="outputs")
    def outputs(self, obj: TaskRun) -> SafeString:
        """The task's outputs, each linked to its artifact."""
        records = obj.output_records.order_by("id").values_list(
            "dataset", "artifact_id", "artifact__sha256", "artifact__type_name", "artifact__size"
        )
        rows, total = self.bounded(records)
        cells = [
            [
                Cell(dataset),
                Cell(sha[:12], self.change_url(Artifact, pk)),
                Cell(kind),
                Cell(filesizeformat(size)),
            ]
            for dataset, pk, sha, kind, size in rows
        ]
        url = self.changelist_url(TaskOutput, task__id__exact=obj.pk)
        headers = ["dataset", "artifact", "type", "size"]
        return bounded_table(headers, cells, total, url, "outputs")

    @admin.display(description="failed attempts")
    def failed_attempts(self, obj: TaskRun) -> SafeString:
        """The earlier attempts that failed (the last attempt is the task row itself)."""
        attempts = obj.failed_attempts.order_by("number").values_list(
            "id", "number", "started_at", "duration", "host", "error"
        )
        rows, total = self.bounded(attempts)
        cells = [
            [
                Cell(number, self.change_url(TaskAttempt, pk)),
                Cell(started),
                Cell(duration),
                Cell(host),
                Cell(first_line(error)),
            ]
            for pk, number, started, duration, host, error in rows
        ]
        url = self.changelist_url(TaskAttempt, task__id__exact=obj.pk)
        headers = ["attempt", "started at", "seconds", "host", "error"]
        return bounded_table(headers, cells, total, url, "failed attempts")

    @admin.display(description="metrics")
    def metrics(self, obj: TaskRun) -> SafeString:
        """The metric values the task logged, in order."""
        values = obj.metric_records.order_by("key", "step", "id").values_list(
            "key", "value", "step", "reused"
        )
        rows, total = self.bounded(values)
        cells = [
            [
                Cell(key),
                Cell(value),
                Cell("" if step is None else step),
                Cell("yes" if reused else ""),
            ]
            for key, value, step, reused in rows
        ]
        url = self.changelist_url(Metric, task__id__exact=obj.pk)
        return bounded_table(["metric", "value", "step", "reused"], cells, total, url, "metrics")


@admin.register(TaskOutput)
class TaskOutputAdmin(RecordAdmin):
    """Which artifact each task produced (or reused) for each dataset."""

    list_display = ("id", "dataset", "task", "artifact")
    search_fields = ("dataset", "^artifact__sha256", "task__node")
    list_select_related = ("task", "artifact")
    list_defer = (*under("task", TASK_HEAVY), "artifact__data", "artifact__preview")

    def lookup_allowed(self, lookup: str, value: str, request: Any = None) -> bool:
        """Also the outputs of one run (``?task__run__id__exact=N``), which Django refuses."""
        return lookup == "task__run__id__exact" or super().lookup_allowed(lookup, value, request)


@admin.register(TaskAttempt)
class TaskAttemptAdmin(RecordAdmin):
    """Failed attempts of tasks that were retried."""

    list_display = ("id", "task", "number", "started_at", "duration", "host", "error_line")
    search_fields = ("task__node", "error")
    list_select_related = ("task",)
    list_defer = ("traceback", *under("task", TASK_HEAVY))

    @admin.display(description="error")
    def error_line(self, obj: TaskAttempt) -> str:
        """The first line of the error."""
        return first_line(obj.error)
