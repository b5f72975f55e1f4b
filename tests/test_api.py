"""The REST API's endpoints: each one's success, 401, 403, 404 and 422."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from django_mlops.models import Run
from tests import api_pipelines
from tests.conftest import API

JSON = "application/json"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]


def _finished_run(**params: Any) -> Run:
    run = api_pipelines.api_iris.run(params=params or None, executor="inline")
    assert run.status == "succeeded"
    return run  # type: ignore[return-value]


# --- pipelines ------------------------------------------------------------------------


def test_pipelines_are_listed_with_their_params(reader: Client) -> None:
    response = reader.get(f"{API}/pipelines")
    assert response.status_code == 200
    by_name = {p["name"]: p for p in response.json()}
    iris = by_name["api_iris"]
    assert iris["node_count"] == 4 and iris["concept_count"] == 1
    assert iris["source"] == "tests.api_pipelines:api_iris"
    params = {p["name"]: p for p in iris["params"]}
    assert params["C"] == {
        "name": "C",
        "type": "float",
        "required": False,
        "default": 1.0,
        "choices": None,
        "minimum": 0.0,
        "maximum": None,
        "help": "strength",
    }


def test_a_pipeline_shows_nodes_datasets_edges_and_concepts(reader: Client) -> None:
    body = reader.get(f"{API}/pipelines/api_iris").json()
    nodes = {n["name"]: n for n in body["nodes"]}
    assert list(nodes) == ["load", "fit", "evaluate", "explain"]
    assert nodes["fit"]["inputs"] == ["frame"] and nodes["fit"]["params"] == ["C"]
    assert nodes["load"]["tags"] == ["data"] and nodes["explain"]["concept"] is True
    assert body["concepts"] == ["explain"]
    edges = {(e["source"], e["target"], e["dataset"]) for e in body["edges"]}
    assert ("load", "fit", "frame") in edges and ("fit", "explain", "model") in edges
    datasets = {d["name"]: d for d in body["datasets"]}
    assert datasets["frame"]["producer"] == "load"
    assert set(datasets["frame"]["consumers"]) == {"fit", "evaluate"}


def test_an_unknown_pipeline_is_a_404(reader: Client) -> None:
    response = reader.get(f"{API}/pipelines/nope")
    assert response.status_code == 404
    assert "no pipeline named 'nope'" in response.json()["detail"]


# --- starting a run -------------------------------------------------------------------


def test_posting_a_run_queues_it_and_answers_202(runner: Client) -> None:
    response = runner.post(
        f"{API}/pipelines/api_iris/runs",
        {"params": {"C": 2}, "only": ["fit"], "tags": []},
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    run = Run.objects.get(pk=body["id"])
    assert run.status == "queued" and body["status"] == "queued"
    assert run.params == {"C": 2.0, "seed": 0} == body["params"]  # coerced: C is a float
    assert run.selection["only"] == ["fit"] and body["selection"]["only"] == ["fit"]
    assert run.created_by is not None and run.created_by.username == "runner"
    assert body["created_by"] == "runner"
    assert response["Location"] == f"{API}/runs/{run.pk}"
    assert run.task_runs.count() == 0  # nothing ran in the web process
    assert body["tasks"] == {"total": 0, "by_state": {}, "failed": []}  # as GET runs/{id} says
    assert runner.get(f"{API}/runs/{run.pk}").json()["tasks"] == body["tasks"]


def test_from_is_accepted_as_a_selection_key(runner: Client) -> None:
    response = runner.post(
        f"{API}/pipelines/api_iris/runs", {"from": ["fit"]}, content_type="application/json"
    )
    assert response.status_code == 202
    assert Run.objects.get(pk=response.json()["id"]).selection["from"] == ["fit"]


def test_refused_params_list_each_field_and_record_nothing(runner: Client) -> None:
    response = runner.post(
        f"{API}/pipelines/api_iris/runs",
        {"params": {"C": -1, "seed": "x", "nope": 1}},
        content_type="application/json",
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    locs = {tuple(d["loc"]) for d in detail}
    assert {("body", "params", "C"), ("body", "params", "seed"), ("body", "params", "nope")} <= locs
    assert all(d["msg"] for d in detail)
    assert not Run.objects.exists()


def test_an_unknown_node_or_executor_is_a_422(runner: Client) -> None:
    url = f"{API}/pipelines/api_iris/runs"
    unknown_node = runner.post(url, {"only": ["ghost"]}, content_type="application/json")
    assert unknown_node.status_code == 422
    assert "ghost" in unknown_node.json()["detail"][0]["msg"]
    unknown_executor = runner.post(url, {"executor": "warp"}, content_type="application/json")
    assert unknown_executor.status_code == 422
    assert unknown_executor.json()["detail"][0]["loc"] == ["body", "executor"]
    typo = runner.post(url, {"param": {"C": 1}}, content_type="application/json")
    assert typo.status_code == 422 and typo.json()["detail"][0]["loc"] == ["body", "param"]
    assert not Run.objects.exists()


def test_posting_to_an_unknown_pipeline_is_a_404(runner: Client) -> None:
    response = runner.post(f"{API}/pipelines/nope/runs", {}, content_type="application/json")
    assert response.status_code == 404


def test_starting_a_run_needs_run_pipeline(reader: Client) -> None:
    response = reader.post(f"{API}/pipelines/api_iris/runs", {}, content_type="application/json")
    assert response.status_code == 403
    assert "django_mlops.run_pipeline" in response.json()["detail"]
    assert not Run.objects.exists()


# --- runs -----------------------------------------------------------------------------


def test_run_detail_has_params_metrics_timings_and_task_counts(reader: Client) -> None:
    run = _finished_run(C=0.5)
    body = reader.get(f"{API}/runs/{run.pk}").json()
    assert body["status"] == "succeeded" and body["params"] == {"C": 0.5, "seed": 0}
    assert body["metrics"]["accuracy"] == pytest.approx(run.metrics["accuracy"])
    assert body["started_at"] and body["finished_at"] and body["duration"] >= 0
    assert body["tasks"]["total"] == 4
    assert body["tasks"]["by_state"] == {"succeeded": 3, "not_started": 1}
    assert body["source"] == "tests.api_pipelines:api_iris"


def test_a_failed_run_names_its_failed_tasks(reader: Client) -> None:
    run = api_pipelines.api_broken.run(executor="inline")
    body = reader.get(f"{API}/runs/{run.pk}").json()
    assert body["status"] == "failed" and body["tasks"]["failed"] == ["explode"]


def test_runs_are_listed_newest_first_and_filtered(reader: Client, make_api_user: Any) -> None:
    first, second = _finished_run(), _finished_run(C=3.0)
    failed = api_pipelines.api_broken.run(executor="inline")
    someone = make_api_user("someone")
    Run.objects.filter(pk=first.pk).update(created_by=someone)
    ids = [r["id"] for r in reader.get(f"{API}/runs").json()["items"]]
    assert ids == [failed.pk, second.pk, first.pk]
    by_pipeline = reader.get(f"{API}/runs", {"pipeline": "api_iris"}).json()
    assert [r["id"] for r in by_pipeline["items"]] == [second.pk, first.pk]
    assert by_pipeline["count"] == 2
    by_status = reader.get(f"{API}/runs", {"status": "failed"}).json()
    assert [r["id"] for r in by_status["items"]] == [failed.pk]
    by_user = reader.get(f"{API}/runs", {"created_by": "someone"}).json()
    assert [r["id"] for r in by_user["items"]] == [first.pk]
    assert by_user["items"][0]["created_by"] == "someone"
    oldest = reader.get(f"{API}/runs", {"ordering": "created_at"}).json()
    assert [r["id"] for r in oldest["items"]] == [first.pk, second.pk, failed.pk]


def test_runs_are_filtered_by_date_range(reader: Client) -> None:
    old, new = _finished_run(), _finished_run()
    Run.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    after = reader.get(f"{API}/runs", {"created_after": since}).json()
    assert [r["id"] for r in after["items"]] == [new.pk]
    before = reader.get(f"{API}/runs", {"created_before": since}).json()
    assert [r["id"] for r in before["items"]] == [old.pk]


def test_runs_are_paginated_with_a_capped_page_size(reader: Client) -> None:
    Run.objects.bulk_create(Run(pipeline="bulk", status="succeeded") for _ in range(7))
    page = reader.get(f"{API}/runs", {"page_size": 3, "page": 2}).json()
    assert page["count"] == 7 and page["pages"] == 3 and len(page["items"]) == 3
    assert page["next_page"] == 3 and page["previous_page"] == 1
    last = reader.get(f"{API}/runs", {"page_size": 3, "page": 3}).json()
    assert len(last["items"]) == 1 and last["next_page"] is None
    beyond = reader.get(f"{API}/runs", {"page_size": 3, "page": 9}).json()
    assert beyond["items"] == [] and beyond["previous_page"] == 3
    huge = reader.get(f"{API}/runs", {"page_size": 10**12})
    assert huge.status_code == 200 and huge.json()["page_size"] == 200
    all_ids = [
        r["id"]
        for n in (1, 2, 3)
        for r in reader.get(f"{API}/runs", {"page_size": 3, "page": n}).json()["items"]
    ]
    assert len(all_ids) == len(set(all_ids)) == 7  # pages never overlap


@pytest.mark.parametrize(
    "query",
    [
        {"status": "bogus"},
        {"page": 0},
        {"page": -3},
        {"page": "x"},
        {"page": 10**7},
        {"page_size": 0},
        {"ordering": "packages"},
        {"created_after": "yesterday"},
        {"created_after": "0001-01-01T00:00:00+23:59"},
        {"pipeline": "a\x00b"},
        {"pipeline": "../etc"},
    ],
)
def test_bad_list_queries_are_422(reader: Client, query: dict[str, Any]) -> None:
    response = reader.get(f"{API}/runs", query)
    assert response.status_code == 422, (query, response.content)
    assert response.json()["detail"][0]["loc"][0] == "query"


@pytest.mark.parametrize("run_id", ["0", "-1", "abc", str(2**63), "1e3"])
def test_garbage_run_ids_are_422(reader: Client, run_id: str) -> None:
    assert reader.get(f"{API}/runs/{run_id}").status_code == 422


def test_an_unknown_run_is_a_404(reader: Client) -> None:
    response = reader.get(f"{API}/runs/424242")
    assert response.status_code == 404 and "424242" in response.json()["detail"]
    assert reader.get(f"{API}/runs/424242/tasks").status_code == 404
    assert reader.get(f"{API}/runs/424242/tasks/load").status_code == 404


def test_reading_runs_needs_view_run(make_api_user: Any, token_client: Any) -> None:
    run = _finished_run()
    nobody = token_client(make_api_user("nobody"))
    for url in (
        "/pipelines",
        "/pipelines/api_iris",
        "/runs",
        f"/runs/{run.pk}",
        f"/runs/{run.pk}/tasks",
        f"/runs/{run.pk}/tasks/load",
        f"/runs/{run.pk}/outputs/frame",
    ):
        response = nobody.get(API + url)
        assert response.status_code == 403, url
        assert "permission django_mlops.view_" in response.json()["detail"]
    runs_only = token_client(make_api_user("runs_only", "view_run"))
    assert runs_only.get(f"{API}/runs/{run.pk}").status_code == 200
    assert runs_only.get(f"{API}/runs/{run.pk}/tasks").status_code == 403  # view_taskrun


# --- tasks ----------------------------------------------------------------------------


def test_tasks_are_listed_in_pipeline_order(reader: Client) -> None:
    run = _finished_run()
    body = reader.get(f"{API}/runs/{run.pk}/tasks").json()
    assert [t["node"] for t in body["items"]] == ["load", "fit", "evaluate", "explain"]
    assert body["items"][0]["state"] == "succeeded" and body["items"][0]["attempts"] == 1
    assert "stdout" not in body["items"][0]  # texts are on the task itself
    not_started = reader.get(f"{API}/runs/{run.pk}/tasks", {"state": "not_started"}).json()
    assert [t["node"] for t in not_started["items"]] == ["explain"]
    assert reader.get(f"{API}/runs/{run.pk}/tasks", {"state": "nope"}).status_code == 422


def test_a_task_has_logs_outputs_with_previews_and_metrics(reader: Client) -> None:
    run = _finished_run()
    load = reader.get(f"{API}/runs/{run.pk}/tasks/load").json()
    assert "loading rows" in load["stdout"]
    assert load["outputs"][0]["dataset"] == "frame"
    artifact = load["outputs"][0]["artifact"]
    assert artifact["preview"]["kind"] == "list" and artifact["preview"]["length"] == 12
    assert len(artifact["sha256"]) == 64 and "data" not in artifact
    evaluate = reader.get(f"{API}/runs/{run.pk}/tasks/evaluate").json()
    assert evaluate["metrics"]["seed"] == 0.0 and "accuracy" in evaluate["metrics"]
    output = reader.get(f"{API}/runs/{run.pk}/outputs/scores").json()
    assert output["node"] == "evaluate" and output["artifact"]["preview"]["kind"] == "dict"


def test_a_failed_task_has_its_error_and_traceback(reader: Client) -> None:
    run = api_pipelines.api_broken.run(executor="inline")
    body = reader.get(f"{API}/runs/{run.pk}/tasks/explode").json()
    assert body["state"] == "failed" and "exploded on purpose" in body["error"]
    assert "ValueError" in body["traceback"]
    follow = reader.get(f"{API}/runs/{run.pk}/tasks/follow").json()
    assert follow["state"] == "upstream_failed"


def test_a_cached_task_names_the_run_it_reused(reader: Client) -> None:
    first = _finished_run()
    second = _finished_run()
    body = reader.get(f"{API}/runs/{second.pk}/tasks/load").json()
    assert body["state"] == "cached" and body["reused_from_run"] == first.pk
    assert body["outputs"][0]["artifact"]["preview"]["kind"] == "list"


def test_unknown_nodes_and_outputs_are_404(reader: Client) -> None:
    run = _finished_run()
    assert reader.get(f"{API}/runs/{run.pk}/tasks/ghost").status_code == 404
    assert reader.get(f"{API}/runs/{run.pk}/outputs/ghost").status_code == 404


# --- cancel and retry -----------------------------------------------------------------


def test_cancelling_a_queued_run(runner: Client) -> None:
    queued = runner.post(f"{API}/pipelines/api_iris/runs", {}, content_type="application/json")
    run_id = queued.json()["id"]
    response = runner.post(f"{API}/runs/{run_id}/cancel", content_type=JSON)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert Run.objects.get(pk=run_id).status == "cancelled"
    again = runner.post(f"{API}/runs/{run_id}/cancel", content_type=JSON)
    assert again.status_code == 409 and "nothing to cancel" in again.json()["detail"]


def test_cancelling_a_running_run_asks_it_to_stop(runner: Client) -> None:
    from django_mlops.records.rows import HOST

    run = Run.objects.create(
        pipeline="api_iris", status="running", heartbeat_at=timezone.now(), host=HOST
    )
    response = runner.post(f"{API}/runs/{run.pk}/cancel", content_type=JSON)
    assert response.status_code == 200 and response.json()["cancel_requested"] is True


def test_retry_queues_a_run_with_the_same_params_and_selection(runner: Client) -> None:
    original = api_pipelines.api_iris.run(params={"C": 0.25}, only=["load"], executor="inline")
    response = runner.post(f"{API}/runs/{original.pk}/retry", content_type=JSON)
    assert response.status_code == 202, response.content
    retry = Run.objects.get(pk=response.json()["id"])
    assert retry.status == "queued" and retry.retry_of_id == original.pk
    assert retry.params == original.params and retry.selection == original.selection
    assert response.json()["retry_of"] == original.pk
    assert retry.task_runs.count() == 0  # queued for a worker, not run here


def test_retry_of_a_queued_run_is_a_409(runner: Client) -> None:
    queued = runner.post(f"{API}/pipelines/api_iris/runs", {}, content_type="application/json")
    response = runner.post(f"{API}/runs/{queued.json()['id']}/retry", content_type=JSON)
    assert response.status_code == 409


def test_retry_of_a_run_whose_pipeline_is_gone_is_a_409(runner: Client) -> None:
    run = Run.objects.create(pipeline="vanished", status="failed", source="no_such_mod:vanished")
    response = runner.post(f"{API}/runs/{run.pk}/retry", content_type=JSON)
    assert response.status_code == 409 and "cannot be loaded" in response.json()["detail"]


def test_cancel_and_retry_need_run_pipeline(reader: Client) -> None:
    run = _finished_run()
    assert reader.post(f"{API}/runs/{run.pk}/cancel", content_type=JSON).status_code == 403
    assert reader.post(f"{API}/runs/{run.pk}/retry", content_type=JSON).status_code == 403
    assert Run.objects.count() == 1


def test_cancel_and_retry_of_unknown_runs_are_404(runner: Client) -> None:
    assert runner.post(f"{API}/runs/999999/cancel", content_type=JSON).status_code == 404
    assert runner.post(f"{API}/runs/999999/retry", content_type=JSON).status_code == 404
