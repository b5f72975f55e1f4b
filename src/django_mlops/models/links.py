"""Signed, read-only stakeholder links to a pipeline's picture."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .fields import NAME_LENGTH


class ShareLink(models.Model):
    """A read-only, no-login view of one pipeline's picture, reached by a signed link.

    The link carries ``token`` signed with the project's ``SECRET_KEY`` (see
    ``django_mlops.web.share``); it shows the DAG, the steps' descriptions and the
    latest run's states, never data, logs or params. ``revoked_at`` ends it.
    """

    pipeline = models.CharField(max_length=NAME_LENGTH)
    token = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=200, blank=True, help_text="Who or what it is for.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mlops_share_links",
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        """Ordering, indexes and constraints."""

        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["pipeline", "-created_at"], name="mlops_share_pipeline_idx")
        ]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"share link #{self.pk} of {self.pipeline} ({state})"

    @property
    def active(self) -> bool:
        """Whether the link still opens its page."""
        return self.revoked_at is None


# The API token model lives in its own module (one job each); importing it here
