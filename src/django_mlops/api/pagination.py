"""Pages of a queryset: bounded size, an exact count, no query for a page past the end."""

from __future__ import annotations

import math
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from .schemas.common import PageIn

__all__ = ["effective_page_size", "paginate"]

M = TypeVar("M", bound=Model)


def effective_page_size(asked: int | None) -> int:
    """The page size to use: the client's, capped, or the default."""
    from ..conf import mlops_settings

    config = mlops_settings()
    return min(asked or config.API_PAGE_SIZE, config.API_MAX_PAGE_SIZE)


def paginate(queryset: QuerySet[M], page_in: PageIn) -> tuple[list[M], dict[str, Any]]:
    """One page of ``queryset`` (already ordered) and the fields of :class:`PageOut`.

    Two queries: the count and the page. The count uses the same filters as the
    page, and the page is an ``OFFSET ... LIMIT`` that the list's index serves.
    """
    size = effective_page_size(page_in.page_size)
    page = page_in.page
    count = queryset.count()
    pages = math.ceil(count / size)
    offset = (page - 1) * size
    items = list(queryset[offset : offset + size]) if offset < count else []
    meta = {
        "count": count,
        "page": page,
        "page_size": size,
        "pages": pages,
        "next_page": page + 1 if page < pages else None,
        "previous_page": min(page - 1, pages) if page > 1 and pages else None,
    }
    return items, meta
