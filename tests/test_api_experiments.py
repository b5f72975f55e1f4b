"""``GET api/experiments/compare``, ``/changes`` and ``/curves``: real runs, real errors."""

from __future__ import annotations

from typing import Any

import pytest

from django_mlops.models import Metric, Run
from tests.conftest import API
from tests.experiment_pipelines import iris_sweep

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]


@pytest.fixture
def sweep() -> list[Run]:
    """Two real runs of the iris sweep that differ in alpha, then a cached re-run of the first."""
    runs = [iris_sweep.run(params={"alpha": a}) for a in (0.0001, 1.0, 0.0001)]
    assert all(r.status == "succeeded" for r in runs), [r.error for r in runs]
    return runs


def _ids(runs: list[Run]) -> str:
    return ",".join(str(r.pk) for r in runs)


def test_compare_puts_params_and_final_metrics_side_by_side(sweep: list[Run], reader: Any) -> None:
    answer = reader.get(f"{API}/experiments/compare", {"runs": _ids(sweep)})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert [r["id"] for r in body["runs"]] == [r.pk for r in sweep]
    params = {p["key"]: p for p in body["params"]}
    assert params["alpha"]["values"] == [0.0001, 1.0, 0.0001] and params["alpha"]["differs"]
    assert not params["epochs"]["differs"]
    metrics = {m["key"]: m for m in body["metrics"]}
    accuracy = [Metric.objects.filter(run=r, key="accuracy").last().value for r in sweep]
    assert metrics["accuracy"]["values"] == accuracy
    assert metrics["accuracy"]["direction"] == "maximize"
    best = max(accuracy)
    winners = [r.pk for r, v in zip(sweep, accuracy, strict=True) if v == best]
    assert metrics["accuracy"]["best"] == winners
    assert metrics["log_loss"]["direction"] == "minimize" and not metrics["log_loss"]["declared"]
    assert body["hidden"] == 0
    only = reader.get(
        f"{API}/experiments/compare", {"runs": _ids(sweep), "only_differences": "true"}
    ).json()
    assert "epochs" not in {p["key"] for p in only["params"]} and only["hidden"] > 0


def test_changes_says_what_differs_and_what_was_reused(sweep: list[Run], reader: Any) -> None:
    answer = reader.get(f"{API}/experiments/changes", {"runs": _ids(sweep[:2])})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["before"] == sweep[0].pk and body["after"] == sweep[1].pk
    assert body["params"] == [{"name": "alpha", "before": 0.0001, "after": 1.0}]
    assert body["changed_nodes"] == ["fit", "evaluate"] and body["reused"] == ["load"]
    fit = next(n for n in body["nodes"] if n["node"] == "fit")
    assert fit["params"] == ["alpha"] and fit["after"] == "ran" and fit["code"] is None
    again = reader.get(f"{API}/experiments/changes", {"runs": _ids([sweep[0], sweep[2]])}).json()
    assert again["changed_nodes"] == [] and sorted(again["reused"]) == ["evaluate", "fit", "load"]


def test_curves_come_downsampled_per_run(sweep: list[Run], reader: Any) -> None:
    answer = reader.get(
        f"{API}/experiments/curves", {"runs": _ids(sweep[:2]), "metric": "loss", "points": 3}
    )
    assert answer.status_code == 200, answer.content
    series = answer.json()["series"]
    assert [s["run"] for s in series] == [sweep[0].pk, sweep[1].pk]
    assert series[0]["steps"] == [0, 2, 4] and series[0]["total"] == 5
    logged = Metric.objects.filter(run=sweep[0], key="loss", step=4).get().value
    assert series[0]["values"][-1] == logged


@pytest.mark.parametrize(
    ("path", "query", "words"),
    [
        ("compare", {"runs": "1"}, "String should match pattern"),
        ("compare", {"runs": "1,x"}, "String should match pattern"),
        ("compare", {"runs": ",".join(str(i) for i in range(1, 52))}, "should match pattern"),
        ("compare", {"runs": "3, 3"}, "run #3 is named twice: this needs 2 to 50 different runs"),
        ("compare", {}, "Field required"),
        ("changes", {"runs": "1,2,3"}, "String should match pattern"),
        ("changes", {"runs": "4,4"}, "this needs exactly 2 different runs, got 1"),
        ("curves", {"runs": "1"}, "Field required"),
        ("curves", {"runs": "1", "metric": "loss", "points": 1}, "greater than or equal to 2"),
    ],
)
def test_bad_queries_are_422_with_the_field(
    reader: Any, path: str, query: dict[str, str], words: str
) -> None:
    answer = reader.get(f"{API}/experiments/{path}", query)
    assert answer.status_code == 422, answer.content
    detail = answer.json()["detail"]
    assert any(words in entry["msg"] for entry in detail), detail
    assert all(entry["loc"][0] == "query" for entry in detail), detail


def test_unknown_runs_are_404(sweep: list[Run], reader: Any) -> None:
    for path in ("compare", "changes"):
        answer = reader.get(f"{API}/experiments/{path}", {"runs": f"{sweep[0].pk},999999"})
        assert answer.status_code == 404 and "#999999" in answer.json()["detail"]


def test_experiments_need_a_login_and_the_view_permission(
    sweep: list[Run], make_api_user: Any, token_client: Any
) -> None:
    from django.test import Client

    nobody = token_client(make_api_user("nobody"))
    for path in ("compare", "changes", "curves"):
        query = {"runs": _ids(sweep[:2]), "metric": "loss"}
        assert Client().get(f"{API}/experiments/{path}", query).status_code == 401
        assert nobody.get(f"{API}/experiments/{path}", query).status_code == 403
