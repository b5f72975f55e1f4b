"""Types every resource's schemas share: names, ids, times, pages."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

from django.utils import timezone
from ninja import Field, Schema
from pydantic import AfterValidator, StringConstraints

__all__ = [
    "MAX_ID",
    "MAX_PAGE",
    "Name",
    "PageIn",
    "PageOut",
    "RunId",
    "UtcDateTime",
    "finite_or_none",
    "storable_text",
]

#: The largest id any database here stores (a signed 64-bit integer).
MAX_ID = 2**63 - 1
#: The deepest page a client may ask for (keeps OFFSET within 64 bits at any page size).
MAX_PAGE = 1_000_000


def _not_a_path_part(value: str) -> str:
    if value in (".", ".."):
        raise ValueError(f"'{value}' is not a name")
    return value


#: A pipeline, node, dataset, tag or user name as it appears in a URL or a filter.
#: Never a path: no slash, backslash or control character (a NUL would also
#: break PostgreSQL's text type), not "." or "..", at most 200 characters (the
#: columns' size). Names are only ever looked up, never joined to a path.
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f/\\]+$"),
    AfterValidator(_not_a_path_part),
]

RunId = Annotated[int, Field(ge=1, le=MAX_ID, description="A run id.")]


def _in_utc(value: dt.datetime) -> dt.datetime:
    """An aware UTC datetime (a naive one is taken as UTC); out of range is a ValueError."""
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("date-time out of range") from None


UtcDateTime = Annotated[dt.datetime, AfterValidator(_in_utc)]


def storable_text(value: Any, where: str = "value") -> Any:
    """``value`` unchanged, unless a string in it (key or item) no database can store.

    That is a NUL character (PostgreSQL's text and jsonb refuse it) or a lone
    surrogate such as ``"\ud800"`` (not encodable as UTF-8; jsonb refuses the escape).
    """
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{where} must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{where} must be valid Unicode text (no lone surrogates)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            storable_text(key, where)
            storable_text(item, where)
    elif isinstance(value, list):
        for item in value:
            storable_text(item, where)
    return value


def finite_or_none(value: float | None) -> float | None:
    """A float JSON can carry: NaN and infinities become null."""
    return value if value is not None and math.isfinite(value) else None


class PageIn(Schema):
    """Which page of a list: ``page`` from 1, ``page_size`` capped at ``API_MAX_PAGE_SIZE``."""

    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    page_size: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="Items per page (default MLOPS['API_PAGE_SIZE']; larger values are "
        "capped at MLOPS['API_MAX_PAGE_SIZE']).",
    )


class PageOut(Schema):
    """Where a page is in its list; subclasses add ``items``."""

    count: int = Field(description="Items in the whole list (see count_exact).")
    count_exact: bool = Field(
        description="False when the list is long and count is the database's estimate."
    )
    page: int
    page_size: int = Field(description="Items per page, after capping.")
    pages: int = Field(description="Number of pages (0 for an empty list).")
    next_page: int | None = None
    previous_page: int | None = None
