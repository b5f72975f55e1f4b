"""The runs filter language: ``metrics.accuracy > 0.9 and params.C <= 1 and status = succeeded``.

One language for the experiments page's filter box and ``GET api/runs?filter=``::

    expr       := term ("or" term)*
    term       := factor ("and" factor)*
    factor     := "not" factor | "(" expr ")" | comparison
    comparison := field op value | field ["not"] "in" "(" value ("," value)* ")"
                | field ["not"] "like" string

``op`` is one of ``= != <> < <= > >=``; values are numbers, quoted strings, dates
(``2026-11-01``, ``2026-11-01T12:30``), ``true``/``false``/``null`` or a bare word
(``succeeded``). Fields are ``params.NAME`` (numbers compare as numbers), ``metrics.NAME``
(the run's final value of the metric), ``status``, ``pipeline``, ``started``,
``finished``, ``created``, ``duration`` (seconds), ``started_by`` (a username),
``git_commit`` and ``id``. ``like`` matches ``%`` (any text) and ``_`` (one
character), ignoring case. A date compared with ``=`` means that whole day, and
``<=``/``>`` a date include/exclude it. A run without the param or metric never
matches a comparison on it (``!=`` and ``not in`` included).

Every mistake is a :class:`FilterError` naming what is wrong and where.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.utils import timezone

from ..models import Run, RunStatus
from .final import final_value
from .grammar import FIXED_FIELDS, Comparison, Field, FilterExpr, Junction, Value, parse_filter
from .tokens import FilterError

__all__ = ["FilterError", "FilterExpr", "apply_filter", "parse_filter"]

_LOOKUPS = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}


def apply_filter(runs: QuerySet[Run], filter: str | FilterExpr | None) -> QuerySet[Run]:
    """``runs`` narrowed by a filter text or a parsed filter (unchanged when blank)."""
    expr = parse_filter(filter) if isinstance(filter, str) else filter
    if expr is None:
        return runs
    annotations = _Annotations()
    condition = _condition(expr, annotations)
    if annotations.expressions:
        runs = runs.annotate(**annotations.expressions)
    return runs.filter(condition)


# Applying -----------------------------------------------------------------------------


def _condition(expr: FilterExpr, annotations: _Annotations) -> Q:
    if isinstance(expr, Junction):
        parts = [_condition(part, annotations) for part in expr.parts]
        if expr.kind == "not":
            return ~parts[0]
        combined = parts[0]
        for part in parts[1:]:
            combined = combined | part if expr.kind == "or" else combined & part
        return combined
    return _comparison(expr, annotations)


def _comparison(comparison: Comparison, annotations: _Annotations) -> Q:
    field = comparison.field
    if field.kind == "metric":
        column = annotations.alias("metric", field.name, final_value(field.name))
        if comparison.op == "like":
            raise FilterError(
                "'like' compares text; metrics are numbers", field.position, field.length
            )
        values = [_number(v, field) for v in comparison.values]
        return _compare(column, comparison, values, required=True)
    if field.kind == "param":
        if comparison.op == "like":
            column = annotations.alias(
                "param_text", field.name, KeyTextTransform(field.name, "params")
            )
        else:
            column = annotations.alias("param", field.name, KeyTransform(field.name, "params"))
        values = [v.value for v in comparison.values]
        present = Q(params__has_key=field.name)
        return present & _compare(column, comparison, values, required=False)
    column, kind = FIXED_FIELDS[field.name]
    if kind == "date":
        return _dates(column, comparison)
    if kind == "number":
        return _compare(
            column, comparison, [_number(v, field) for v in comparison.values], required=True
        )
    return _compare(column, comparison, [_text(v, field) for v in comparison.values], required=True)


class _Annotations:
    """The annotations one filter needs: one per (kind, name), however often it is used."""

    def __init__(self) -> None:
        self.expressions: dict[str, Any] = {}
        self._aliases: dict[tuple[str, str], str] = {}

    def alias(self, kind: str, name: str, expression: Any) -> str:
        """The alias of ``expression`` for ``(kind, name)``, added on first use."""
        key = (kind, name)
        if key not in self._aliases:
            alias = f"_filter_{len(self._aliases)}"
            self._aliases[key] = alias
            self.expressions[alias] = expression
        return self._aliases[key]


def _compare(column: str, comparison: Comparison, values: list[Any], *, required: bool) -> Q:
    op = comparison.op
    if op == "in":
        condition = Q(**{f"{column}__in": values})
    elif op == "like":
        condition = Q(**{f"{column}__iregex": _like_regex(str(values[0]))})
    elif op == "!=":
        condition = ~Q(**{column: values[0]})
    elif values[0] is None and op == "=":
        condition = Q(**{f"{column}__isnull": True})
    else:
        condition = Q(**{f"{column}__{_LOOKUPS[op]}": values[0]})
    if comparison.negated:
        condition = ~condition
    if required and (comparison.negated or op == "!="):
        # A run without the value matches no comparison, negated ones included.
        condition &= Q(**{f"{column}__isnull": False})
    return condition


def _dates(column: str, comparison: Comparison) -> Q:
    """A date-time comparison; a date alone stands for its whole day."""
    if comparison.op == "like":
        field = comparison.field
        raise FilterError(
            f"'like' compares text; {field.name} is a date", field.position, field.length
        )
    spans = [_day_span(v, comparison.field) for v in comparison.values]
    op = comparison.op
    if op == "in":
        condition = Q()
        for start, end in spans:
            condition |= Q(**{f"{column}__gte": start, f"{column}__lt": end})
    else:
        start, end = spans[0]
        condition = {
            "=": Q(**{f"{column}__gte": start, f"{column}__lt": end}),
            "!=": ~Q(**{f"{column}__gte": start, f"{column}__lt": end}),
            "<": Q(**{f"{column}__lt": start}),
            "<=": Q(**{f"{column}__lt": end}),
            ">": Q(**{f"{column}__gte": end}),
            ">=": Q(**{f"{column}__gte": start}),
        }[op]
    if comparison.negated:
        condition = ~condition
    return condition & Q(**{f"{column}__isnull": False})


def _day_span(value: Value, field: Field) -> tuple[dt.datetime, dt.datetime]:
    """``[start, end)`` of a date (its day) or a date-time (that instant)."""
    text = str(value.value)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise FilterError(
            f"{field.name} takes a date such as 2026-11-01 or 2026-11-01T12:30, not {text!r}",
            value.position,
            value.length,
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_current_timezone())
    whole_day = len(text) == len("2026-11-01")
    return moment, moment + (dt.timedelta(days=1) if whole_day else dt.timedelta(0))


def _number(value: Value, field: Field) -> float | int | None:
    if value.value is None or (
        isinstance(value.value, int | float) and not isinstance(value.value, bool)
    ):
        return value.value
    label = f"metrics.{field.name}" if field.kind == "metric" else field.name
    raise FilterError(f"{label} is a number, not {value.value!r}", value.position, value.length)


def _text(value: Value, field: Field) -> str:
    text = str(value.value) if not isinstance(value.value, bool) else str(value.value).lower()
    if field.name == "status" and text not in RunStatus.values:
        statuses = ", ".join(RunStatus.values)
        close = difflib.get_close_matches(text, RunStatus.values, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise FilterError(
            f"unknown status '{text}'{hint} — statuses are {statuses}", value.position, value.length
        )
    return text


def _like_regex(pattern: str) -> str:
    """A LIKE pattern as an anchored regular expression (``%`` any text, ``_`` one character)."""
    parts = [".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern]
    return "^" + "".join(parts) + "$"
