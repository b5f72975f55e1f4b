"""The admin of artifacts: size, preview, the records that use them; deletable when unused."""

from __future__ import annotations

import functools
import json
import operator
from typing import Any

from django.contrib import admin
from django.db import router, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ..models import Artifact, LoggedArtifact, Run, TaskOutput, TaskRun
from .base import Cell, RecordAdmin, bounded_table

__all__ = ["ArtifactAdmin", "InUseFilter"]


class InUseFilter(admin.SimpleListFilter):
    """Artifacts that a record uses (so cannot be deleted), or that none uses."""

    title = "in use"
    parameter_name = "in_use"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        """Yes or no."""
        return [("yes", "yes"), ("no", "no")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """Filter on the existence of any row pointing at it (task outputs, logged artifacts,
        and whatever model comes to reference artifacts later)."""
        if self.value() not in ("yes", "no"):
            return queryset
        references = [
            Exists(rel.related_model._base_manager.filter(**{rel.field.name: OuterRef("pk")}))
            for rel in Artifact._meta.related_objects
            if not rel.many_to_many and isinstance(rel.related_model, type)
        ]
        used = functools.reduce(operator.or_, references)
        return queryset.filter(used if self.value() == "yes" else ~used)


@admin.register(Artifact)
class ArtifactAdmin(RecordAdmin):
    """Content-addressed values: their preview and the tasks that produced or reused them."""

    list_display = ("sha256", "type_name", "serializer", "size_text", "is_inline", "created_at")
    list_filter = ("serializer", InUseFilter)
    search_fields = ("^sha256", "type_name")
    list_defer = ("preview",)
    # With Django's delete permission; one in use is refused on the confirmation page.
    deletable = True
    fields = (
        *("sha256", "type_name", "serializer", "size_text", "is_inline", "storage_name"),
        *("created_at", "preview_text", "used_by", "logged_as"),
    )
    readonly_fields = ("size_text", "is_inline", "preview_text", "used_by", "logged_as")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Artifact]:
        """The payload bytes are never shown: never loaded."""
        return super().get_queryset(request).defer("data")

    def delete_model(self, request: HttpRequest, obj: Artifact) -> None:
        """Delete the row, and its file once the deletion is committed."""
        self.delete_queryset(request, Artifact.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Artifact]) -> None:
        """Delete the rows, then (after the commit) their files in the artifact storage."""
        from ..artifacts.store import artifact_storage  # here: it loads numpy

        names = [n for n in queryset.values_list("storage_name", flat=True) if n]
        queryset.delete()
        storage = artifact_storage()

        def remove_files() -> None:
            for name in names:
                storage.delete(name)

        transaction.on_commit(remove_files, using=router.db_for_write(Artifact))

    @admin.display(description="size", ordering="size")
    def size_text(self, obj: Artifact) -> str:
        """The size in readable units and in bytes."""
        return f"{filesizeformat(obj.size)} ({obj.size:,} bytes)"

    @admin.display(boolean=True, description="inline")
    def is_inline(self, obj: Artifact) -> bool:
        """Whether the bytes live in the row (``data`` is deferred: test it in the database)."""
        return not obj.storage_name

    @admin.display(description="preview")
    def preview_text(self, obj: Artifact) -> SafeString:
        """The stored preview (bounded by construction), as indented JSON."""
        return format_html("<pre>{}</pre>", json.dumps(obj.preview, indent=2, sort_keys=True))

    @admin.display(description="used by tasks")
    def used_by(self, obj: Artifact) -> SafeString:
        """The task outputs that reference the artifact, newest first, linked."""
        uses = TaskOutput.objects.filter(artifact=obj).order_by("-id")
        rows, total = self.bounded(
            uses.values_list(
                "dataset", "task_id", "task__node", "task__run_id", "task__run__pipeline"
            )
        )
        cells = [
            [
                Cell(dataset),
                Cell(node, self.change_url(TaskRun, task)),
                Cell(f"{pipeline} #{run}", self.change_url(Run, run)),
            ]
            for dataset, task, node, run, pipeline in rows
        ]
        url = self.changelist_url(TaskOutput, artifact__id__exact=obj.pk)
        return bounded_table(["dataset", "task", "run"], cells, total, url, "task outputs")

    @admin.display(description="logged as")
    def logged_as(self, obj: Artifact) -> SafeString:
        """The ``log_artifact`` records that reference the artifact."""
        uses = LoggedArtifact.objects.filter(artifact=obj).order_by("-id")
        rows, total = self.bounded(uses.values_list("name", "run_id", "run__pipeline"))
        cells = [
            [Cell(name), Cell(f"{pipeline} #{run}", self.change_url(Run, run))]
            for name, run, pipeline in rows
        ]
        url = self.changelist_url(LoggedArtifact, artifact__id__exact=obj.pk)
        return bounded_table(["name", "run"], cells, total, url, "logged artifacts")
