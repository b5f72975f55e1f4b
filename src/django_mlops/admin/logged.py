"""The admin of what runs logged: params, metrics and artifacts."""

from __future__ import annotations

from django.contrib import admin

from ..models import LoggedArtifact, Metric, Param
from .base import RUN_HEAVY, TASK_HEAVY, RecordAdmin, under

__all__ = ["LoggedArtifactAdmin", "MetricAdmin", "ParamAdmin"]


@admin.register(LoggedArtifact)
class LoggedArtifactAdmin(RecordAdmin):
    """Artifacts logged with ``log_artifact``."""

    list_display = ("id", "run", "task", "name", "artifact", "reused", "created_at")
    search_fields = ("name", "^artifact__sha256")
    list_select_related = ("run", "task", "artifact")
    list_defer = (
        *under("run", RUN_HEAVY),
        *under("task", TASK_HEAVY),
        "artifact__data",
        "artifact__preview",
    )


@admin.register(Param)
class ParamAdmin(RecordAdmin):
    """Parameter values of runs."""

    list_display = ("id", "run", "key", "value")
    list_filter = ("key",)
    search_fields = ("key", "run__pipeline")
    list_select_related = ("run",)
    list_defer = under("run", RUN_HEAVY)


@admin.register(Metric)
class MetricAdmin(RecordAdmin):
    """Metric values of runs."""

    list_display = ("id", "run", "task", "key", "value", "step", "reused", "timestamp")
    list_filter = ("key", "reused")
    search_fields = ("key", "run__pipeline")
    list_select_related = ("run", "task")
    list_defer = (*under("run", RUN_HEAVY), *under("task", TASK_HEAVY))
