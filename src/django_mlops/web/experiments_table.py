"""The experiments page: runs as a table of params and final metrics, across or per pipeline.

One URL serves the page and its CSV (``?format=csv``), so the export always has the
filter, sort and columns the user sees. Columns are chosen with a form whose choice is
remembered per user and pipeline (``ColumnChoice``). Sweep metrics are folded into one
column per group until the user opens the group (``?open=<group>``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from html import escape
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from ..experiments.final import final_metrics
from ..models import ColumnChoice, Run
from ..templatetags.mlops import duration, state_label
from ..templatetags.mlops_experiments import experiment_cell
from .access import VIEW_PERMISSION, requires
from .experiments_filter import FilterProblem, filter_runs
from .experiments_rows import (
    Column,
    SortError,
    available_columns,
    cell_value,
    chosen,
    sorted_runs,
)

__all__ = ["RUNS_PER_PAGE", "experiment_columns", "experiment_list"]

RUNS_PER_PAGE = 50
#: Rows read per query while the CSV streams (bounded memory for 10,000 runs).
CSV_BATCH = 500
DEFAULT_SORT = "-start"


def _remembered(request: HttpRequest, pipeline: str) -> list[str] | None:
    choice = ColumnChoice.objects.filter(user=request.user.pk, pipeline=pipeline).first()
    return list(choice.columns) if choice else None


def _shown(columns: list[Column], open_groups: set[str]) -> list[Column]:
    """Groups the user opened become their member metric columns, in place."""
    by_key = {c.key: c for c in columns}
    shown: list[Column] = []
    for column in columns:
        if column.kind == "group" and column.group in open_groups:
            for member in column.members:
                label = member.removeprefix("metrics.")
                shown.append(by_key.get(member) or Column(member, label, "metric", column.group))
        else:
            shown.append(column)
    return shown


def _group_summary(column: Column, metrics: dict[str, float]) -> str:
    found = (metrics.get(m.removeprefix("metrics.")) for m in column.members)
    values = [v for v in found if v is not None]
    if not values:
        return "—"
    return f"{min(values):.4g} … {max(values):.4g}"


def _cell(column: Column, value: Any) -> str:
    """One cell's HTML, every value escaped. Built here: 2,500 cells a page through the
    template language (or format_html's lazy wrappers) took most of the page's time."""
    if column.key == "status":
        state, label = escape(str(value)), escape(state_label(value))
        return (
            f'<td><span class="badge state-{state}" data-state="{state}"><span class="icon" '
            f'aria-hidden="true"></span><span class="label">{label}</span></span></td>'
        )
    if column.key == "duration":
        return f'<td class="num">{escape(duration(value))}</td>'
    if column.key == "git_commit":
        commit = escape(value or "")
        return f'<td><code title="{commit}">{escape((value or "—")[:10])}</code></td>'
    css = "nowrap" if column.kind == "fixed" else "num"
    return f'<td class="{css}">{escape(experiment_cell(value))}</td>'


def _rows(runs: list[Run], shown: list[Column]) -> list[dict[str, Any]]:
    metrics = final_metrics(r.pk for r in runs)
    rows = []
    for run in runs:
        values = metrics.get(run.pk, {})
        cells = []
        for column in shown:
            if column.kind == "group":
                cells.append(f'<td class="num">{escape(_group_summary(column, values))}</td>')
            else:
                cells.append(_cell(column, cell_value(run, values, column.key)))
        # Safe: every piece above went through html.escape.
        rows.append({"id": run.pk, "pipeline": run.pipeline, "cells": mark_safe("".join(cells))})
    return rows


def _runs(pipeline: str) -> QuerySet[Run]:
    runs = Run.objects.select_related("created_by")
    return runs.filter(pipeline=pipeline) if pipeline else runs


@require_GET
@requires(VIEW_PERMISSION)
def experiment_list(
    request: HttpRequest, pipeline: str = ""
) -> HttpResponse | StreamingHttpResponse:
    """The runs table (or its CSV): filter, sort, chosen columns, pages of 50."""
    base = _runs(pipeline)
    text = request.GET.get("filter", "").strip()
    sort = request.GET.get("sort") or DEFAULT_SORT
    open_groups = {g for g in request.GET.getlist("open") if g}
    columns = available_columns(base)
    choice = _remembered(request, pipeline)
    picked = chosen(columns, choice)
    shown = _shown(picked, open_groups)
    context: dict[str, Any] = {
        "nav": "experiments",
        "pipeline": pipeline,
        "filter": text,
        "sort": sort,
        "open_groups": sorted(open_groups),
        "columns": columns,
        "picked": {c.key for c in picked},
        "shown": shown,
        "problem": None,
    }
    try:
        runs = sorted_runs(filter_runs(base, text), sort)
    except FilterProblem as problem:
        context["problem"] = problem
        return render(request, "mlops/experiments/list.html", context, status=400)
    except SortError as exc:
        context["sort_error"] = str(exc)
        return render(request, "mlops/experiments/list.html", context, status=400)
    if request.GET.get("format") == "csv":
        return _csv(runs, [c for c in shown if c.kind != "group"], pipeline)
    page = Paginator(runs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    context["page"] = page
    context["rows"] = _rows(list(page.object_list), shown)
    # Links built once, not by {% url %} in every row.
    context["run_base"] = reverse("mlops:runs")
    context["experiments_base"] = reverse("mlops:experiments")
    return render(request, "mlops/experiments/list.html", context)


class _Echo:
    """A file-like object whose write returns the line (csv.writer into a stream)."""

    def write(self, value: str) -> str:
        return value


def _csv(runs: QuerySet[Run], shown: list[Column], pipeline: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(["run", "pipeline", *[c.key for c in shown]])
        ids = list(runs.values_list("id", flat=True))
        for start in range(0, len(ids), CSV_BATCH):
            batch = ids[start : start + CSV_BATCH]
            by_id = Run.objects.select_related("created_by").in_bulk(batch)
            metrics = final_metrics(batch)
            for run_id in batch:
                run = by_id[run_id]
                values = [cell_value(run, metrics[run_id], c.key) for c in shown]
                yield writer.writerow(
                    [run.pk, run.pipeline, *["" if v is None else v for v in values]]
                )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    name = f"experiments-{pipeline}.csv" if pipeline else "experiments.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
@requires(VIEW_PERMISSION)
def experiment_columns(request: HttpRequest, pipeline: str = "") -> HttpResponse:
    """Remember the columns the user ticked for this pipeline (a reset forgets them)."""
    if request.POST.get("reset"):
        ColumnChoice.objects.filter(user=request.user.pk, pipeline=pipeline).delete()
    else:
        known = {c.key for c in available_columns(_runs(pipeline))}
        keys = [k for k in request.POST.getlist("columns") if k in known]
        ColumnChoice.objects.update_or_create(
            user_id=request.user.pk, pipeline=pipeline, defaults={"columns": keys}
        )
    target = (
        reverse("mlops:experiments-pipeline", args=[pipeline])
        if pipeline
        else reverse("mlops:experiments")
    )
    query = request.POST.get("query", "")
    return redirect(f"{target}?{query}" if query else target)
