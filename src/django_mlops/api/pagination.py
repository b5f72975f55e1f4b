"""Pages of a queryset: bounded size, a bounded count, and deep pages served by an index.

Two costs grow with history, and both are kept bounded:

- **The count.** An exact ``COUNT(*)`` of 100,000 runs reads the whole index on
  every request. Rows are counted up to :data:`EXACT_COUNT_LIMIT`; past that, on
  PostgreSQL, the planner's estimate is given with ``count_exact: false`` (other
  databases count exactly). Whether there is a next page is always exact: the
  page query reads one row more than it shows.
- **A deep page.** ``OFFSET 99950`` over full rows reads (or sorts) every row
  before it. The page's ids are found first, on the list's index alone (an
  index-only scan of ``(-created_at, -id)`` or ``(status, -created_at, -id)``),
  and only those rows are read: the "deferred join".
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from ..records.sql import estimated_count
from .schemas.common import PageIn

__all__ = ["EXACT_COUNT_LIMIT", "effective_page_size", "paginate"]

#: Lists with more rows than this get an estimated count (PostgreSQL).
EXACT_COUNT_LIMIT = 10_000

M = TypeVar("M", bound=Model)


def effective_page_size(asked: int | None) -> int:
    """The page size to use: the client's, capped, or the default."""
    from ..conf import mlops_settings

    config = mlops_settings()
    return min(asked or config.API_PAGE_SIZE, config.API_MAX_PAGE_SIZE)


def _count(queryset: QuerySet[Any], limit: int | None) -> tuple[int, bool]:
    """(count, exact): exact up to ``limit`` rows, an estimate beyond where one is cheap."""
    if limit is None:
        return queryset.count(), True
    bounded = queryset.order_by().values("pk")[: limit + 1].count()
    if bounded <= limit:
        return bounded, True
    estimate = estimated_count(queryset)
    if estimate is None:
        return queryset.count(), True
    return max(estimate, bounded), False


def paginate(
    queryset: QuerySet[M],
    page_in: PageIn,
    *,
    fields: tuple[str, ...],
    exact_count: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One page of ``queryset`` (ordered, ending with a unique key) as ``values(*fields)``.

    Returns the rows and the fields of :class:`~.schemas.common.PageOut`. Three
    queries: the bounded count (exact with ``exact_count``), the page's ids, its rows.
    """
    size = effective_page_size(page_in.page_size)
    page = page_in.page
    count, exact = _count(queryset, None if exact_count else EXACT_COUNT_LIMIT)
    offset = (page - 1) * size
    rows: list[dict[str, Any]] = []
    has_next = False
    if not exact or offset < count:
        ids = list(queryset.values_list("pk", flat=True)[offset : offset + size + 1])
        has_next = len(ids) > size
        ids = ids[:size]
        if ids:
            by_id = {row["pk"]: row for row in queryset.filter(pk__in=ids).values("pk", *fields)}
            rows = [by_id[pk] for pk in ids if pk in by_id]
    pages = math.ceil(count / size)
    if has_next:
        pages = max(pages, page + 1)
    meta = {
        "count": count,
        "count_exact": exact,
        "page": page,
        "page_size": size,
        "pages": pages,
        "next_page": page + 1 if has_next else None,
        "previous_page": min(page - 1, max(pages, 1)) if page > 1 else None,
    }
    return rows, meta
