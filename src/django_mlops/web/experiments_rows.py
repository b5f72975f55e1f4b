"""The experiments table's rows: which columns exist, sorting, and each run's final metrics.

Column keys are spelt as the filter language spells them, so one name works in the
filter box, the sort link, the column chooser and the CSV header: ``status``, ``start``,
``duration``, ``user``, ``git_commit``, ``params.<key>`` and ``metrics.<key>``.

The queries stay constant per page whatever the number of runs: the available keys come
from the newest ``KEY_SAMPLE_RUNS`` runs (an index range, not a scan of every metric
row, which matters when runs log 1,000-step curves), and the page's final metrics are
read for its runs only, in one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, QuerySet
from django.db.models.fields.json import KeyTransform

from ..experiments.final import final_value
from ..models import Metric, Param, Run

__all__ = [
    "FIXED_COLUMNS",
    "KEY_SAMPLE_RUNS",
    "Column",
    "SortError",
    "available_columns",
    "group_of",
    "sorted_runs",
]

#: How many of the newest runs the column keys are read from.
KEY_SAMPLE_RUNS = 50

#: The columns every run has, in their order: key, header.
FIXED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("status", "Status"),
    ("start", "Start"),
    ("duration", "Duration"),
    ("user", "Started by"),
    ("git_commit", "Commit"),
)
_FIXED_FIELDS = {
    "status": "status",
    "start": "started_at",
    "duration": "duration",
    "user": "created_by__username",
    "git_commit": "git_commit",
}


class SortError(ValueError):
    """The sort names a column that does not exist."""


@dataclass(frozen=True)
class Column:
    """One column of the table: its key, its header, and its sweep group (if any).

    A metric key with a slash (``val_accuracy/svc_C1_gamma0.01``) belongs to the group
    before the slash (``val_accuracy``); the table shows a group as one column until the
    user opens it.
    """

    key: str
    label: str
    kind: str  # "fixed", "param" or "metric"
    group: str = ""
    members: tuple[str, ...] = field(default=())


def group_of(metric_key: str) -> str:
    """The sweep group of a metric key: the part before its first slash (else blank)."""
    head, slash, _ = metric_key.partition("/")
    return head if slash else ""


def _sample_ids(runs: QuerySet[Run]) -> list[int]:
    return list(runs.order_by("-id").values_list("id", flat=True)[:KEY_SAMPLE_RUNS])


def available_columns(runs: QuerySet[Run]) -> list[Column]:
    """Every column the table can show for these runs, metric sweeps folded into groups."""
    ids = _sample_ids(runs)
    # DISTINCT in the database (the models' default ordering would defeat it): the sample's
    # metric rows include every step of its curves.
    param_keys = sorted(
        Param.objects.filter(run_id__in=ids).order_by().values_list("key", flat=True).distinct()
    )
    metric_keys = sorted(
        Metric.objects.filter(run_id__in=ids).order_by().values_list("key", flat=True).distinct()
    )
    columns = [Column(key, label, "fixed") for key, label in FIXED_COLUMNS]
    columns += [Column(f"params.{k}", k, "param") for k in param_keys]
    groups: dict[str, list[str]] = {}
    for key in metric_keys:
        group = group_of(key)
        if group:
            groups.setdefault(group, []).append(key)
        else:
            columns.append(Column(f"metrics.{key}", key, "metric"))
    for group, members in sorted(groups.items()):
        columns.append(
            Column(
                f"group.{group}",
                f"{group}/* ({len(members)})",
                "group",
                group=group,
                members=tuple(f"metrics.{m}" for m in members),
            )
        )
    return columns


def sorted_runs(runs: QuerySet[Run], sort: str) -> QuerySet[Run]:
    """The runs ordered by a column key (``-`` first for descending), newest first on ties.

    Params sort by their JSON value (numbers as numbers), metrics by their final value;
    runs without the value come last either way.
    """
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    if key in _FIXED_FIELDS:
        expression: Any = F(_FIXED_FIELDS[key])
    elif key.startswith("params.") and len(key) > len("params."):
        expression = KeyTransform(key.removeprefix("params."), "params")
    elif key.startswith("metrics.") and len(key) > len("metrics."):
        runs = runs.annotate(_sort_value=final_value(key.removeprefix("metrics.")))
        expression = F("_sort_value")
    else:
        raise SortError(f"cannot sort by '{key}': not a column of this table")
    ordered = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    return runs.order_by(ordered, "-id")


def cell_value(run: Run, metrics: dict[str, float], key: str) -> Any:
    """The value of one column key for a run (None when the run has none)."""
    if key == "status":
        return run.status
    if key == "start":
        return run.started_at
    if key == "duration":
        return run.duration
    if key == "user":
        return run.created_by.get_username() if run.created_by else None
    if key == "git_commit":
        return run.git_commit or None
    if key.startswith("params."):
        return (run.params or {}).get(key.removeprefix("params."))
    if key.startswith("metrics."):
        return metrics.get(key.removeprefix("metrics."))
    return None


def chosen(columns: Sequence[Column], keys: Sequence[str] | None) -> list[Column]:
    """The columns to show: the user's choice in its order (unknown keys dropped), else all."""
    if not keys:
        return list(columns)
    by_key = {c.key: c for c in columns}
    return [by_key[k] for k in keys if k in by_key]
