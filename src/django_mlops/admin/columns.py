"""Users' remembered experiments-table columns in the admin (listed, deletable to reset)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ..models import ColumnChoice

__all__ = ["ColumnChoiceAdmin"]


@admin.register(ColumnChoice)
class ColumnChoiceAdmin(admin.ModelAdmin):
    """Choices are made on the experiments page; deleting one resets that user's columns."""

    list_display = ("user", "pipeline", "updated_at")
    list_filter = ("pipeline",)
    search_fields = ("user__username", "pipeline")
    readonly_fields = ("user", "pipeline", "columns", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Columns are chosen on the page, where the available keys are known."""
        return False

    def get_queryset(self, request: HttpRequest) -> Any:
        """With the user, in one query."""
        return super().get_queryset(request).select_related("user")
