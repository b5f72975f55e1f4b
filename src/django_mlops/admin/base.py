"""What every record admin shares: no add or change, bounded tables, small deletion pages."""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst

__all__ = [
    "PREVIEW_ROWS",
    "RUN_HEAVY",
    "TASK_HEAVY",
    "Cell",
    "RecordAdmin",
    "RecordChangeList",
    "bounded_table",
    "deletion_summary",
    "first_line",
    "under",
]

#: The most related rows a change page lists; the rest are one link away.
PREVIEW_ROWS = 50
# Rows that keep a record from being deleted, shown as examples of why.
_PROTECTED_EXAMPLES = 10
# Columns that can be large (captured output, environments, JSON maps) and that no
# changelist shows: left out of list queries, on the row and on joined rows.
RUN_HEAVY = ("packages", "params", "selection", "error")
TASK_HEAVY = (
    "stdout",
    "stderr",
    "log",
    "traceback",
    "error",
    "input_keys",
    "reads",
    "reason_detail",
)
# Cascades deeper than this are not followed (ours are two levels deep).
_MAX_CASCADE_DEPTH = 5


@dataclass(frozen=True)
class Cell:
    """One cell of a bounded table: its text, and the page it links to (if any)."""

    text: Any
    url: str = ""


def under(prefix: str, fields: tuple[str, ...]) -> tuple[str, ...]:
    """``fields`` of the relation ``prefix`` (for ``defer`` on joined rows)."""
    return tuple(f"{prefix}__{name}" for name in fields)


def first_line(text: str, limit: int = 200) -> str:
    """The first line of ``text``, cut to ``limit`` characters."""
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def bounded_table(
    headers: Sequence[str], rows: Sequence[Sequence[Cell]], total: int, see_all_url: str, noun: str
) -> SafeString:
    """A table of a few related rows with a "see all N" link, from an overridable template."""
    context = {
        "headers": headers,
        "rows": rows,
        "total": total,
        "total_text": f"{total:,}",
        "see_all_url": see_all_url,
        "noun": noun,
    }
    return mark_safe(render_to_string("admin/django_mlops/bounded_table.html", context))


class RecordChangeList(ChangeList):
    """A changelist that leaves the admin's ``list_defer`` columns out of its query."""

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet[Any]:
        """The filtered rows, without the columns no list shows."""
        queryset = super().get_queryset(request, exclude_parameters)
        deferred: tuple[str, ...] = getattr(self.model_admin, "list_defer", ())
        return queryset.defer(*deferred) if deferred else queryset


class RecordAdmin(admin.ModelAdmin):
    """A record's admin: viewable with the view permission, never added or changed.

    Subclasses may allow deleting with ``deletable = True``; the confirmation page
    then summarises what goes with the record as counts (``deletion_summary``)
    rather than listing every row.
    """

    #: Columns (``field`` or ``relation__field``) left out of the changelist query.
    list_defer: tuple[str, ...] = ()
    # On a filtered list, Django counts the whole table a second time to show "of N":
    # a full scan of millions of task rows on every page.
    show_full_result_count = False
    #: Whether rows may be deleted (with Django's delete permission). Off by default:
    #: deleting one row of a run would leave the rest telling a wrong story.
    deletable = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Records are written by runs, never by hand."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Records are history: nobody edits them, superusers included."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Django's delete permission, on the admins whose records may go (``deletable``)."""
        return self.deletable and super().has_delete_permission(request, obj)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        """A changelist honouring ``list_defer``."""
        return RecordChangeList

    def bounded(self, queryset: QuerySet[Any]) -> tuple[list[Any], int]:
        """At most ``PREVIEW_ROWS`` rows of ``queryset``, and how many it has in all.

        One query when everything fits, two otherwise (the count).
        """
        rows = list(queryset[: PREVIEW_ROWS + 1])
        if len(rows) <= PREVIEW_ROWS:
            return rows, len(rows)
        return rows[:PREVIEW_ROWS], queryset.count()

    def change_url(self, model: type[models.Model], pk: Any) -> str:
        """The admin page of one row of ``model``."""
        opts = model._meta
        name = f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change"
        return reverse(name, args=[pk])

    def changelist_url(self, model: type[models.Model], **lookups: Any) -> str:
        """The admin changelist of ``model`` filtered by ``lookups`` (query-string filters)."""
        opts = model._meta
        url = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_changelist")
        return f"{url}?{urlencode(lookups)}" if lookups else url

    def get_deleted_objects(
        self, objs: Sequence[Any] | QuerySet[Any], request: HttpRequest
    ) -> tuple[list[str], dict[str, int], set[str], list[str]]:
        """What deleting ``objs`` takes with it, as counts, and what prevents it.

        Django's own version lists every cascaded row (30,000 lines for a
        10,000-task run) and asks for the delete permission on each of their
        models; here the records go with the row on its own delete permission
        (checked by the view), and the page stays the same size for any run.
        """
        opts = self.model._meta
        if isinstance(objs, QuerySet):
            roots = objs
        else:
            roots = self.model._base_manager.filter(pk__in=[obj.pk for obj in objs])
        shown, total = self.bounded(roots.order_by("pk"))
        to_delete: list[str] = [
            format_html(
                '{}: <a href="{}">{}</a>',
                capfirst(opts.verbose_name),
                self.change_url(self.model, obj.pk),
                obj,
            )
            for obj in shown
        ]
        if total > len(shown):
            to_delete.append(f"… and {total - len(shown):,} more {opts.verbose_name_plural}")
        counts, protected = deletion_summary(self.model, roots, self.admin_site.name)
        to_delete += [f"{count:,} {name}" for name, count in counts.items()]
        model_count = {str(opts.verbose_name_plural): total, **counts}
        return to_delete, model_count, set(), protected


def deletion_summary(
    model: type[models.Model], roots: QuerySet[Any], site_name: str = "admin"
) -> tuple[dict[str, int], list[str]]:
    """Rows a delete of ``roots`` cascades to (count per model), and those that forbid it.

    Follows the ``on_delete=CASCADE`` relations (with a constant number of count
    queries, however many rows there are); a ``PROTECT`` or ``RESTRICT`` reference
    to any deleted row is reported as up to ``_PROTECTED_EXAMPLES`` links and a
    count. ``RESTRICT`` is treated as ``PROTECT`` even where Django would allow the
    delete because the referencing row goes too: the records use neither that way.
    """
    cascaded: dict[type[models.Model], list[Q]] = {}
    protecting: dict[type[models.Model], list[Q]] = {}
    pending: list[tuple[type[models.Model], QuerySet[Any], int]] = [(model, roots, 0)]
    while pending:
        parent, rows, depth = pending.pop()
        for rel in parent._meta.related_objects:
            if rel.many_to_many or not rel.field.concrete:
                continue
            child = rel.related_model
            assert isinstance(child, type)  # a reverse relation of a loaded model: a class
            condition = Q(**{f"{rel.field.name}__in": rows})
            if rel.on_delete is models.CASCADE:
                cascaded.setdefault(child, []).append(condition)
                if depth < _MAX_CASCADE_DEPTH:
                    pending.append((child, child._base_manager.filter(condition), depth + 1))
            elif rel.on_delete in (models.PROTECT, models.RESTRICT):
                protecting.setdefault(child, []).append(condition)
    # A model reached by two paths (a metric through its run and through its task)
    # is counted once, through the union of both conditions.
    counts = {
        str(child._meta.verbose_name_plural): child._base_manager.filter(
            functools.reduce(operator.or_, conditions)
        ).count()
        for child, conditions in cascaded.items()
    }
    protected: list[str] = []
    for child, conditions in protecting.items():
        blockers = child._base_manager.filter(functools.reduce(operator.or_, conditions))
        protected += _protected_lines(child, blockers.order_by("pk"), site_name)
    return {name: n for name, n in counts.items() if n}, protected


def _protected_lines(model: type[models.Model], rows: QuerySet[Any], site_name: str) -> list[str]:
    opts = model._meta
    examples = list(rows[: _PROTECTED_EXAMPLES + 1])
    lines: list[str] = []
    for row in examples[:_PROTECTED_EXAMPLES]:
        try:
            url = reverse(f"{site_name}:{opts.app_label}_{opts.model_name}_change", args=[row.pk])
        except NoReverseMatch:  # not in this admin site: named without a link
            lines.append(f"{capfirst(opts.verbose_name)}: {row}")
            continue
        lines.append(format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), url, row))
    if len(examples) > _PROTECTED_EXAMPLES:
        more = rows.count() - _PROTECTED_EXAMPLES
        lines.append(f"… and {more:,} more {opts.verbose_name_plural}")
    return lines
