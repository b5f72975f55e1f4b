"""Admin for every record. Run records are history: most fields are read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Artifact, LoggedArtifact, Metric, Param, Run, TaskRun

__all__ = [
    "ArtifactAdmin",
    "LoggedArtifactAdmin",
    "MetricAdmin",
    "ParamAdmin",
    "RunAdmin",
    "TaskRunAdmin",
]


class ReadOnlyInline(admin.TabularInline):
    """An inline that shows records without letting them be added or changed."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Records are written by runs, never by hand."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Records are history."""
        return False


class TaskRunInline(ReadOnlyInline):
    """The tasks of a run."""

    model = TaskRun
    fields = ("node", "state", "attempts", "duration", "reason", "error")
    readonly_fields = fields


class MetricInline(ReadOnlyInline):
    """The metrics of a run."""

    model = Metric
    fields = ("key", "value", "step", "task", "timestamp")
    readonly_fields = fields


class ParamInline(ReadOnlyInline):
    """The params of a run."""

    model = Param
    fields = ("key", "value")
    readonly_fields = fields


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    """Runs: searchable by pipeline, filterable by status; only the error note is editable."""

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
    search_fields = ("pipeline", "git_commit", "host", "error")
    date_hierarchy = "created_at"
    list_select_related = ("created_by",)
    readonly_fields = (
        "pipeline",
        "status",
        "params",
        "selection",
        "executor",
        "no_cache",
        "created_at",
        "started_at",
        "finished_at",
        "duration",
        "created_by",
        "git_commit",
        "git_dirty",
        "python_version",
        "packages",
        "host",
        "pid",
        "reproduces",
        "retry_of",
        "cancel_requested",
        "tasks_total",
    )
    inlines = (ParamInline, TaskRunInline, MetricInline)

    @admin.display(description="commit")
    def git_commit_short(self, obj: Run) -> str:
        """The first 10 characters of the commit, with a * when the tree was dirty."""
        return obj.git_commit[:10] + ("*" if obj.git_dirty else "")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Runs are created by running a pipeline."""
        return False


@admin.register(TaskRun)
class TaskRunAdmin(admin.ModelAdmin):
    """Task runs: one node of one run."""

    list_display = ("id", "run", "node", "state", "attempts", "started_at", "duration", "reason")
    list_filter = ("state", "reason", "run__pipeline")
    search_fields = ("node", "key", "code_hash", "error")
    list_select_related = ("run",)
    readonly_fields = tuple(f.name for f in TaskRun._meta.concrete_fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Task runs are created by runs."""
        return False


@admin.register(Artifact)
class ArtifactAdmin(admin.ModelAdmin):
    """Artifacts are content-addressed: nothing about them may change."""

    list_display = ("sha256", "type_name", "serializer", "size", "is_inline", "created_at")
    list_filter = ("serializer",)
    search_fields = ("sha256", "type_name")
    exclude = ("data",)
    readonly_fields = (
        "sha256",
        "size",
        "serializer",
        "type_name",
        "storage_name",
        "preview",
        "created_at",
    )

    @admin.display(boolean=True, description="inline")
    def is_inline(self, obj: Artifact) -> bool:
        """Whether the bytes live in the row."""
        return obj.inline

    def get_queryset(self, request: HttpRequest) -> Any:
        """Leave the payload bytes out of list queries."""
        return super().get_queryset(request).defer("data")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Artifacts are created by the store."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never by hand: task records name artifacts by id, and one artifact serves many."""
        return False


@admin.register(LoggedArtifact)
class LoggedArtifactAdmin(admin.ModelAdmin):
    """Artifacts logged with ``log_artifact``."""

    list_display = ("id", "run", "task", "name", "artifact", "created_at")
    search_fields = ("name", "artifact__sha256")
    list_select_related = ("run", "task", "artifact")
    readonly_fields = ("run", "task", "name", "artifact", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Logged by runs."""
        return False


@admin.register(Param)
class ParamAdmin(admin.ModelAdmin):
    """Parameter values of runs."""

    list_display = ("id", "run", "key", "value")
    list_filter = ("key",)
    search_fields = ("key", "run__pipeline")
    list_select_related = ("run",)
    readonly_fields = ("run", "key", "value")


@admin.register(Metric)
class MetricAdmin(admin.ModelAdmin):
    """Metric values of runs."""

    list_display = ("id", "run", "task", "key", "value", "step", "timestamp")
    list_filter = ("key",)
    search_fields = ("key", "run__pipeline")
    list_select_related = ("run", "task")
    readonly_fields = ("run", "task", "key", "value", "step", "timestamp")
