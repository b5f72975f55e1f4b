"""Lists and details cost a fixed number of queries, however many rows they show."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from django_mlops.models import Run, TaskRun
from tests.conftest import API

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]


def _runs(count: int, tasks_each: int, user: Any = None) -> None:
    runs = Run.objects.bulk_create(
        Run(pipeline="bulk", status="succeeded", params={"n": i}, created_by=user)
        for i in range(count)
    )
    TaskRun.objects.bulk_create(
        TaskRun(run=run, node=f"n{j}", state="succeeded" if j % 3 else "failed")
        for run in runs
        for j in range(tasks_each)
    )


def _queries(client: Client, url: str) -> int:
    client.get(url)  # warm: the token's last-used time is written on first use only
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


def test_a_page_of_50_runs_costs_the_same_queries_as_a_page_of_2(
    reader: Client, make_api_user: Any
) -> None:
    someone = make_api_user("someone")
    _runs(2, 3, someone)
    small = _queries(reader, f"{API}/runs?page_size=50")
    _runs(120, 3, someone)
    full = _queries(reader, f"{API}/runs?page_size=50")
    assert full == small
    # Token and user, the user's permissions (two), stale runs, count, page ids, page rows.
    assert full <= 7, full
    body = reader.get(f"{API}/runs?page_size=50").json()
    assert len(body["items"]) == 50 and body["items"][0]["created_by"] == "someone"


def test_run_detail_counts_tasks_in_one_aggregate(reader: Client) -> None:
    _runs(1, 5)
    small = Run.objects.get()
    few = _queries(reader, f"{API}/runs/{small.pk}")
    _runs(1, 3000)
    big = Run.objects.order_by("-id").first()
    assert big is not None
    with CaptureQueriesContext(connection) as captured:
        body = reader.get(f"{API}/runs/{big.pk}").json()
    assert len(captured.captured_queries) == few
    assert body["tasks"]["total"] == 3000
    assert body["tasks"]["by_state"] == {"succeeded": 2000, "failed": 1000}
    assert len(body["tasks"]["failed"]) == 20
    # No query reads the task rows themselves (only their count by state and 20 names).
    task_queries = [q["sql"] for q in captured.captured_queries if "taskrun" in q["sql"]]
    assert all("COUNT" in sql or "LIMIT 20" in sql for sql in task_queries), task_queries


def test_a_page_of_tasks_costs_the_same_queries_whatever_the_run_size(reader: Client) -> None:
    _runs(1, 4)
    _runs(1, 500)
    first, second = Run.objects.order_by("id")
    assert _queries(reader, f"{API}/runs/{first.pk}/tasks") == _queries(
        reader, f"{API}/runs/{second.pk}/tasks?page_size=100"
    )


def test_long_lists_get_a_bounded_count_and_exact_next_pages(
    reader: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection as default

    monkeypatch.setattr("django_mlops.api.pagination.EXACT_COUNT_LIMIT", 5)
    _runs(12, 0)
    short = reader.get(f"{API}/runs?pipeline=bulk&status=failed").json()
    assert short["count"] == 0 and short["count_exact"] is True
    body = reader.get(f"{API}/runs?page_size=5").json()
    if default.vendor == "postgresql":
        assert body["count_exact"] is False and body["count"] >= 6  # the planner's estimate
    else:
        assert body["count_exact"] is True and body["count"] == 12
    assert body["next_page"] == 2
    third = reader.get(f"{API}/runs?page_size=5&page=3").json()
    assert len(third["items"]) == 2 and third["next_page"] is None
    seen = [
        r["id"]
        for page in (1, 2, 3)
        for r in reader.get(f"{API}/runs?page_size=5&page={page}").json()["items"]
    ]
    assert sorted(seen) == sorted(Run.objects.values_list("id", flat=True))
