"""The runs filter language: every operator on every kind of field, and every mistake's place."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from django_mlops.experiments.query import FilterError, apply_filter, parse_filter
from django_mlops.models import Metric, Run
from tests.conftest import API

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]


@pytest.fixture
def runs() -> dict[str, Run]:
    """Five runs: a sweep over C with accuracy curves, one without metrics, one failed."""
    ada = User.objects.create_user("ada")
    day = timezone.make_aware(dt.datetime(2026, 11, 2, 9, 30), timezone.get_current_timezone())
    made: dict[str, Run] = {}
    specs = [
        ("c01", "iris", "succeeded", {"C": 0.1, "solver": "lbfgs"}, [0.5, 0.80], ada),
        ("c1", "iris", "succeeded", {"C": 1, "solver": "liblinear"}, [0.6, 0.95], None),
        ("c10", "iris", "succeeded", {"C": 10.0, "solver": "lbfgs", "fit": True}, [0.97], ada),
        ("bare", "iris", "failed", {"C": 2}, [], None),
        ("other", "digits", "succeeded", {"gamma": 0.01}, [0.91], None),
    ]
    for offset, (name, pipeline, status, params, curve, user) in enumerate(specs):
        run = Run.objects.create(
            pipeline=pipeline,
            status=status,
            params=params,
            created_by=user,
            started_at=day + dt.timedelta(days=offset),
            duration=10.0 * (offset + 1),
            git_commit=f"abc{offset}",
        )
        Metric.objects.bulk_create(
            Metric(run=run, key="accuracy", value=v, step=s) for s, v in enumerate(curve)
        )
        made[name] = run
    return made


def _names(runs: dict[str, Run], text: str) -> set[str]:
    ids = set(apply_filter(Run.objects.all(), text).values_list("pk", flat=True))
    return {name for name, run in runs.items() if run.pk in ids}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.accuracy > 0.9", {"c1", "c10", "other"}),  # the final value: c01 ends at 0.80
        ("metrics.accuracy >= 0.95", {"c1", "c10"}),
        ("metrics.accuracy < 0.9", {"c01"}),
        ("metrics.accuracy <= 0.8", {"c01"}),
        ("metrics.accuracy = 0.97", {"c10"}),
        ("metrics.accuracy != 0.97", {"c01", "c1", "other"}),  # runs without it never match
        ("metrics.accuracy in (0.8, 0.97)", {"c01", "c10"}),
        ("metrics.accuracy not in (0.8, 0.97)", {"c1", "other"}),
        ("params.C <= 1", {"c01", "c1"}),  # 1 and 0.1 as numbers, not texts
        ("params.C > 1", {"c10", "bare"}),
        ("params.C = 10", {"c10"}),
        ("params.solver = 'lbfgs'", {"c01", "c10"}),
        ("params.solver != lbfgs", {"c1"}),  # without the param: no match
        ("params.solver in ('liblinear', \"lbfgs\")", {"c01", "c1", "c10"}),
        ("params.solver like 'LIB%'", {"c1"}),  # ignoring case
        ("params.solver like 'lbfg_'", {"c01", "c10"}),
        ("params.solver not like 'lib%'", {"c01", "c10"}),
        ("params.fit = true", {"c10"}),
        ("status = succeeded", {"c01", "c1", "c10", "other"}),
        ("status != succeeded", {"bare"}),
        ("status in (failed, cancelled)", {"bare"}),
        ("pipeline = digits", {"other"}),
        ("pipeline like 'ir%'", {"c01", "c1", "c10", "bare"}),
        ("started_by = ada", {"c01", "c10"}),
        ("git_commit = abc4", {"other"}),
        ("duration >= 30", {"c10", "bare", "other"}),
        ("started = 2026-11-03", {"c1"}),  # a date alone is its whole day
        ("started <= 2026-11-03", {"c01", "c1"}),
        ("started > 2026-11-03", {"c10", "bare", "other"}),
        ("started < 2026-11-03", {"c01"}),
        ("started >= 2026-11-03T09:30", {"c1", "c10", "bare", "other"}),
        ("started != 2026-11-03", {"c01", "c10", "bare", "other"}),
        ("started in (2026-11-02, 2026-11-06)", {"c01", "other"}),
        ("metrics.accuracy > 0.9 and params.C <= 1 and status = succeeded", {"c1"}),
        ("params.C = 2 or pipeline = digits", {"bare", "other"}),
        ("not status = succeeded", {"bare"}),
        ("(params.C < 1 or params.C > 5) and metrics.accuracy > 0.5", {"c01", "c10"}),
        ("STATUS = succeeded AND params.C < 1", {"c01"}),  # keywords and fixed fields any case
        ("", {"c01", "c1", "c10", "bare", "other"}),
    ],
)
def test_every_operator_on_every_kind_of_field(
    runs: dict[str, Run], text: str, expected: set[str]
) -> None:
    assert _names(runs, text) == expected


def test_the_same_metric_twice_is_one_annotation(runs: dict[str, Run]) -> None:
    text = "metrics.accuracy > 0.5 and metrics.accuracy < 0.96"
    assert _names(runs, text) == {"c01", "c1", "other"}
    assert len(apply_filter(Run.objects.all(), text).query.annotations) == 1


def test_a_parsed_filter_can_be_applied_again(runs: dict[str, Run]) -> None:
    parsed = parse_filter("params.C <= 1")
    once = set(apply_filter(Run.objects.all(), parsed).values_list("pk", flat=True))
    again = set(
        apply_filter(Run.objects.filter(pipeline="iris"), parsed).values_list("pk", flat=True)
    )
    assert once == again == {runs["c01"].pk, runs["c1"].pk}


@pytest.mark.parametrize(
    ("text", "message", "position", "length"),
    [
        ("metrics.accuracy => 0.9", "unknown operator '=>' — did you mean '>='?", 17, 2),
        ("params.C == 1", "unknown operator '==' — did you mean '='?", 9, 2),
        ("status = a && status = b", "unknown operator '&&' — did you mean 'and'?", 11, 2),
        ("metric.acc > 1", "unknown field 'metric.acc' (did you mean 'metrics.acc'?)", 0, 10),
        ("statsu = failed", "unknown field 'statsu' (did you mean 'status'?)", 0, 6),
        ("status in (failed", "expected ',' or ')' in the list at the end", 17, 0),
        ("status in failed", "expected '(' after 'in', found 'failed'", 10, 6),
        ("status in ()", "expected a value in the list, found ')'", 11, 1),
        ("params.C <", "expected a value after '<' at the end", 10, 0),
        (
            "params.C 1",
            "expected an operator (=, !=, <, <=, >, >=, in, like) after 'params.C'",
            9,
            1,
        ),
        (
            "params.C < 1 and",
            "expected a field (params.NAME, metrics.NAME, status, ...) at the end",
            16,
            0,
        ),
        ("(params.C < 1", "this '(' is never closed", 0, 1),
        ("params.C < 1)", "expected 'and', 'or' or the end, found ')'", 12, 1),
        ("params.solver = 'lbfgs", "this string has no closing '", 16, 6),
        (
            "params.solver like lbfgs",
            "expected a quoted pattern after 'like', found 'lbfgs'",
            19,
            5,
        ),
        ("params.C not = 1", "expected 'in' or 'like' after 'not', found '='", 13, 1),
        ("status = succeded", "unknown status 'succeded' (did you mean 'succeeded'?)", 9, 8),
        ("metrics.accuracy > high", "metrics.accuracy is a number, not 'high'", 19, 4),
        ("duration > 'long'", "duration is a number, not 'long'", 11, 6),
        ("metrics.loss like '1%'", "'like' compares text; metrics are numbers", 0, 12),
        ("started > yesterday", "started takes a date such as 2026-11-01", 10, 9),
        ("started like '2026%'", "'like' compares text; started is a date", 0, 7),
        ("params.C < 1 ; drop", "unexpected character ';'", 13, 1),
        ("pipeline = 'a\x00b'", "NUL characters and lone surrogates are not allowed", 13, 1),
    ],
)
def test_every_mistake_says_what_and_where(
    runs: dict[str, Run], text: str, message: str, position: int, length: int
) -> None:
    with pytest.raises(FilterError) as caught:
        apply_filter(Run.objects.all(), text)
    assert caught.value.message.startswith(message), caught.value.message
    assert (caught.value.position, caught.value.length) == (position, length)
    assert f"at character {position + 1}" in str(caught.value)


def test_the_api_lists_runs_by_filter(runs: dict[str, Run], reader: Any) -> None:
    answer = reader.get(
        f"{API}/runs", {"filter": "metrics.accuracy > 0.9 and params.C <= 1", "ordering": "id"}
    )
    assert answer.status_code == 200, answer.content
    assert [item["id"] for item in answer.json()["items"]] == [runs["c1"].pk]
    both = reader.get(f"{API}/runs", {"filter": "params.C < 5", "pipeline": "iris"})
    assert {item["id"] for item in both.json()["items"]} == {
        runs["c01"].pk,
        runs["c1"].pk,
        runs["bare"].pk,
    }


def test_a_bad_api_filter_is_a_422_pointing_at_the_mistake(
    runs: dict[str, Run], reader: Any
) -> None:
    answer = reader.get(f"{API}/runs", {"filter": "metrics.accuracy => 0.9"})
    assert answer.status_code == 422
    (entry,) = answer.json()["detail"]
    assert entry["loc"] == ["query", "filter"]
    assert entry["msg"] == "unknown operator '=>' — did you mean '>='?"
    assert entry["ctx"] == {"position": 17, "length": 2}


def test_the_api_filter_needs_the_view_permission(
    runs: dict[str, Run], make_api_user: Any, token_client: Any
) -> None:
    nobody = token_client(make_api_user("nobody"))
    assert nobody.get(f"{API}/runs", {"filter": "params.C < 5"}).status_code == 403
