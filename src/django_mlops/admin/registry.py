"""The admin of the model registry: models, versions, aliases and the alias trail.

Read-only like every record: a version is what a run registered, and an alias
moves only through ``set_alias`` (the CLI, the API, the site), which writes the
audit trail the admin could not.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from ..models import AliasChange, ModelAlias, ModelVersion, RegisteredModel
from .base import RecordAdmin

__all__ = ["AliasChangeAdmin", "ModelAliasAdmin", "ModelVersionAdmin", "RegisteredModelAdmin"]


@admin.register(RegisteredModel)
class RegisteredModelAdmin(RecordAdmin):
    """Registered models, with how many versions each has."""

    list_display = ("name", "version_count", "updated_at", "created_at")
    search_fields = ("name", "description")

    def get_queryset(self, request: HttpRequest) -> QuerySet[RegisteredModel]:
        """Count versions in the list query."""
        return super().get_queryset(request).annotate(version_total=Count("versions"))

    @admin.display(description="versions", ordering="version_total")
    def version_count(self, obj: RegisteredModel) -> int:
        """How many versions the model has."""
        return int(getattr(obj, "version_total", 0))


@admin.register(ModelVersion)
class ModelVersionAdmin(RecordAdmin):
    """Every registered version, with its hash, run and node."""

    list_display = ("id", "model", "version", "format", "short_sha", "run", "node", "created_at")
    list_filter = ("format", "model")
    search_fields = ("model__name", "^sha256", "node")
    list_select_related = ("model", "run")
    list_defer = ("signature", "libraries", "metrics", "source", "run__packages", "run__params")

    @admin.display(description="SHA-256")
    def short_sha(self, obj: ModelVersion) -> str:
        """The first 12 hex digits of the artifact's hash."""
        return obj.sha256[:12]


@admin.register(ModelAlias)
class ModelAliasAdmin(RecordAdmin):
    """Where each alias points now."""

    list_display = ("model", "name", "version", "updated_by", "updated_at")
    list_filter = ("name",)
    search_fields = ("model__name", "name")
    list_select_related = ("model", "version", "version__model", "updated_by")


@admin.register(AliasChange)
class AliasChangeAdmin(RecordAdmin):
    """The audit trail of alias moves."""

    list_display = ("changed_at", "model", "alias", "from_number", "to_number", "user", "comment")
    list_filter = ("alias",)
    search_fields = ("model__name", "alias", "comment")
    list_select_related = ("model", "user")
