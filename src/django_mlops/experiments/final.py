"""A run's final metric values: the last value logged per key (the end of a curve)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Max, OuterRef, Subquery

from ..models import Metric

__all__ = ["final_metrics", "final_value"]


def final_value(key: str) -> Subquery:
    """The final value of metric ``key`` of the outer run, as a subquery (None when absent).

    "Last logged" is the highest id: rows are written in the order they were logged,
    so for a curve that is its last step and for a single value, that value.
    """
    latest = Metric.objects.filter(run=OuterRef("pk"), key=key).order_by("-id")
    return Subquery(latest.values("value")[:1])


def final_metrics(run_ids: Iterable[int]) -> dict[int, dict[str, float]]:
    """Each run's final metrics (the last value logged per key), in one query."""
    ids = list(run_ids)
    if not ids:
        return {}
    last_ids = (
        Metric.objects.filter(run_id__in=ids)
        .values("run_id", "key")
        .annotate(last=Max("id"))
        .values("last")
    )
    result: dict[int, dict[str, float]] = {i: {} for i in ids}
    rows = Metric.objects.filter(id__in=Subquery(last_ids)).values_list("run_id", "key", "value")
    for run_id, key, value in rows:
        result[run_id][key] = value
    return result
