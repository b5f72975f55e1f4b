"""Stakeholder links in the admin: listed, and revoked with an action (never edited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from ..models import ShareLink

__all__ = ["ShareLinkAdmin"]


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    """Links are made on a pipeline's Share page; here they are listed and revoked."""

    list_display = ("id", "pipeline", "label", "created_by", "created_at", "revoked_at")
    list_filter = ("pipeline",)
    search_fields = ("pipeline", "label")
    readonly_fields = ("pipeline", "token", "label", "created_by", "created_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Links are made from the site, where the signed address is shown."""
        return False

    @admin.action(description="Revoke the selected links", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ShareLink]) -> None:
        """Close the links for good."""
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} link(s) revoked.")

    def get_queryset(self, request: HttpRequest) -> Any:
        """With the creator, in one query."""
        return super().get_queryset(request).select_related("created_by")
