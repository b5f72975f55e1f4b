"""The columns a user chose for a pipeline's experiments table (remembered between visits)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .fields import NAME_LENGTH


class ColumnChoice(models.Model):
    """One user's chosen columns of the runs table for one pipeline.

    ``pipeline`` is blank for the table across pipelines. ``columns`` is a list of
    column keys as the filter language spells them (``params.C``, ``metrics.accuracy``,
    ``status``); keys that no longer exist are skipped when the table is drawn.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mlops_column_choices"
    )
    pipeline = models.CharField(max_length=NAME_LENGTH, blank=True)
    columns = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        """Ordering, indexes and constraints."""

        ordering = ["user", "pipeline"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "pipeline"], name="mlops_columnchoice_user_pipeline_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.pipeline or 'all pipelines'}: {len(self.columns)} columns"
