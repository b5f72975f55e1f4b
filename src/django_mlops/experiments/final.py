"""A run's final metric value: the last value logged for the key (the end of a curve)."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery

from ..models import Metric

__all__ = ["final_value"]


def final_value(key: str) -> Subquery:
    """The final value of metric ``key`` of the outer run, as a subquery (None when absent).

    "Last logged" is the highest id: rows are written in the order they were logged,
    so for a curve that is its last step and for a single value, that value.
    """
    latest = Metric.objects.filter(run=OuterRef("pk"), key=key).order_by("-id")
    return Subquery(latest.values("value")[:1])
