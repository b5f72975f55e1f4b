"""The experiments pages: the runs table (columns, sort, groups, CSV), compare, curves, access."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from django_mlops.models import ColumnChoice, Metric, Run
from tests.experiment_pipelines import iris_sweep

pytestmark = pytest.mark.django_db

ALPHAS = (0.0001, 0.01, 1.0)


@pytest.fixture
def sweep(tmp_mlops_home: Any) -> list[Run]:
    """Three real runs of the iris sweep, one per alpha (the last is the newest)."""
    runs = []
    for alpha in ALPHAS:
        run = iris_sweep.run(params={"alpha": alpha})
        assert run.status == "succeeded", run.error
        runs.append(run)
    return runs


def _urls(runs: list[Run]) -> list[str]:
    ids = ",".join(str(r.pk) for r in runs)
    return [
        "/mlops/experiments/",
        "/mlops/experiments/iris_sweep/",
        "/mlops/experiments/iris_sweep/?format=csv",
        f"/mlops/experiments/compare?runs={ids}",
        f"/mlops/experiments/curves?runs={ids}&key=loss",
        f"/mlops/experiments/changes?runs={runs[0].pk},{runs[1].pk}",
    ]


def test_every_page_needs_login_then_the_view_permission(sweep: list[Run], nobody: Client) -> None:
    for url in _urls(sweep):
        response = Client().get(url)
        assert response.status_code == 302 and "/mlops/login/" in response["Location"], url
        assert nobody.get(url).status_code == 403, url
    assert Client().post("/mlops/experiments/columns/").status_code == 302
    assert nobody.post("/mlops/experiments/iris_sweep/columns/").status_code == 403


def test_the_table_shows_params_final_metrics_and_a_folded_sweep_group(
    sweep: list[Run], viewer: Client
) -> None:
    response = viewer.get("/mlops/experiments/iris_sweep/")
    assert response.status_code == 200
    html = response.content.decode()
    for header in ("alpha", "epochs", "accuracy", "log_loss", "val_accuracy/* (3)", "Commit"):
        assert header in html, header
    assert "val_accuracy/alpha0.01" not in html  # folded until opened
    assert 'data-state="succeeded"' in html and ">succeeded<" in html  # icon and label
    for run in sweep:
        assert f'href="/mlops/runs/{run.pk}/"' in html
        assert f'name="runs" value="{run.pk}"' in html
    opened = viewer.get("/mlops/experiments/iris_sweep/?open=val_accuracy").content.decode()
    assert "val_accuracy/alpha0.01" in opened and "val_accuracy/alpha1" in opened


def test_final_metric_is_the_last_logged_step(sweep: list[Run], viewer: Client) -> None:
    run = sweep[0]
    last = Metric.objects.filter(run=run, key="loss").order_by("-step").first()
    assert last is not None and last.step == 4
    rows = _csv(viewer.get("/mlops/experiments/iris_sweep/?format=csv"))
    by_run = {row["run"]: row for row in rows}
    assert float(by_run[str(run.pk)]["metrics.loss"]) == pytest.approx(last.value)


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_sorting_by_a_param_and_by_a_metric_both_ways(sweep: list[Run], viewer: Client) -> None:
    def order(sort: str) -> list[str]:
        return [
            r["params.alpha"]
            for r in _csv(viewer.get(f"/mlops/experiments/iris_sweep/?format=csv&sort={sort}"))
        ]

    assert order("params.alpha") == ["0.0001", "0.01", "1.0"]
    assert order("-params.alpha") == ["1.0", "0.01", "0.0001"]
    losses = [
        float(r["metrics.log_loss"])
        for r in _csv(viewer.get("/mlops/experiments/iris_sweep/?format=csv&sort=metrics.log_loss"))
    ]
    assert losses == sorted(losses)
    page = viewer.get("/mlops/experiments/iris_sweep/?sort=-params.alpha").content.decode()
    assert 'aria-sort="descending"' in page


def test_an_unknown_sort_column_is_a_400_with_the_reason(sweep: list[Run], viewer: Client) -> None:
    response = viewer.get("/mlops/experiments/iris_sweep/?sort=nonsense")
    assert response.status_code == 400
    assert "cannot sort by &#x27;nonsense&#x27;" in response.content.decode()


def test_chosen_columns_are_remembered_per_user_and_pipeline(
    sweep: list[Run], viewer: Client
) -> None:
    response = viewer.post(
        "/mlops/experiments/iris_sweep/columns/",
        {"columns": ["status", "params.alpha", "metrics.accuracy", "bogus"], "query": "sort=start"},
    )
    assert response.status_code == 302 and response["Location"].endswith("?sort=start")
    user = User.objects.get(username="viewer")
    choice = ColumnChoice.objects.get(user=user, pipeline="iris_sweep")
    assert choice.columns == ["status", "params.alpha", "metrics.accuracy"]
    rows = _csv(viewer.get("/mlops/experiments/iris_sweep/?format=csv"))
    assert list(rows[0]) == ["run", "pipeline", "status", "params.alpha", "metrics.accuracy"]
    across = _csv(viewer.get("/mlops/experiments/?format=csv"))
    assert "params.epochs" in across[0]  # the cross-pipeline table keeps its own choice
    viewer.post("/mlops/experiments/iris_sweep/columns/", {"reset": "1"})
    assert not ColumnChoice.objects.filter(user=user).exists()


def test_pages_are_linked_from_the_pipeline_and_the_run(sweep: list[Run], viewer: Client) -> None:
    for url in ("/mlops/pipelines/", "/mlops/runs/"):
        assert 'href="/mlops/experiments/"' in viewer.get(url).content.decode()
    run_page = viewer.get(f"/mlops/runs/{sweep[0].pk}/").content.decode()
    assert 'href="/mlops/experiments/iris_sweep/"' in run_page


def test_compare_shows_only_differences_and_marks_the_best(
    sweep: list[Run], viewer: Client
) -> None:
    ids = ",".join(str(r.pk) for r in sweep)
    html = viewer.get(f"/mlops/experiments/compare?runs={ids}").content.decode()
    assert 'data-key="params.alpha"' in html
    assert 'data-key="params.epochs"' not in html  # equal in every run: hidden
    assert 'aria-checked="true"' in html and "Only differences: on" in html
    assert "★ best" in html
    shown_all = viewer.get(f"/mlops/experiments/compare?runs={ids}&all=1").content.decode()
    assert 'data-key="params.epochs"' in shown_all
    assert "/static/mlops/vendor/plotly.min.js" in html
    assert 'id="chart-data"' in html and "<option>loss</option>" in html


def test_compare_refuses_too_few_bad_or_missing_runs(sweep: list[Run], viewer: Client) -> None:
    assert viewer.get(f"/mlops/experiments/compare?runs={sweep[0].pk}").status_code == 400
    assert viewer.get("/mlops/experiments/compare?runs=1,abc").status_code == 400
    assert (
        viewer.get(
            "/mlops/experiments/compare?runs=" + ",".join(map(str, range(1, 60)))
        ).status_code
        == 400
    )
    missing = viewer.get(f"/mlops/experiments/compare?runs={sweep[0].pk},999999")
    assert missing.status_code == 404 and "no run #999999" in missing.content.decode()
    # The table's form sends runs=1&runs=2: the same compare.
    form = viewer.get(f"/mlops/experiments/compare?runs={sweep[0].pk}&runs={sweep[1].pk}")
    assert form.status_code == 200


def test_two_runs_compared_show_what_changed_with_marked_dags(
    sweep: list[Run], viewer: Client
) -> None:
    a, b = sweep[0].pk, sweep[1].pk
    for url in (
        f"/mlops/experiments/compare?runs={a},{b}",
        f"/mlops/experiments/changes?runs={a},{b}",
    ):
        html = viewer.get(url).content.decode()
        assert f'What changed from <a href="/mlops/runs/{a}/">#{a}</a>' in html, url
        assert f'href="/mlops/runs/{b}/?mark=fit%2Cevaluate"' in html, url
        assert 'data-node="fit"' in html and "param <strong>alpha</strong>" in html
        assert 'data-node="load"' not in html  # unchanged: not listed as changed
        assert "Reused 1</strong> from the cache: <code>load</code>" in html
    three = ",".join(str(r.pk) for r in sweep)
    assert (
        "What changed"
        not in viewer.get(f"/mlops/experiments/compare?runs={three}").content.decode()
    )
    assert viewer.get(f"/mlops/experiments/changes?runs={three}").status_code == 400
    assert viewer.get(f"/mlops/experiments/changes?runs={a},999999").status_code == 404
    run_page = viewer.get(f"/mlops/runs/{b}/").content.decode()
    assert f'href="/mlops/experiments/changes?runs={a},{b}">What changed since #{a}<' in run_page
    assert 'id="changes-since-previous"' not in viewer.get(f"/mlops/runs/{a}/").content.decode()
    marked = viewer.get(f"/mlops/runs/{b}/?mark=fit%2Cevaluate").content.decode()
    assert (
        'id="marked-list"' in marked
        and 'type="application/json">["fit", "evaluate"]</script>' in marked
    )


def test_curves_come_by_step_per_run_and_downsampled(sweep: list[Run], viewer: Client) -> None:
    ids = ",".join(str(r.pk) for r in sweep)
    body = viewer.get(f"/mlops/experiments/curves?runs={ids}&key=loss").json()
    assert [s["run"] for s in body["series"]] == [r.pk for r in sweep]
    assert body["series"][0]["steps"] == [0, 1, 2, 3, 4]
    assert viewer.get(f"/mlops/experiments/curves?runs={ids}").status_code == 400


def _many_runs(count: int) -> list[int]:
    runs = Run.objects.bulk_create(
        Run(pipeline="many", status="succeeded", params={"C": i / 10, "kernel": "rbf"})
        for i in range(count)
    )
    Metric.objects.bulk_create(
        Metric(run=r, key=key, value=i * 0.01, step=None)
        for i, r in enumerate(runs)
        for key in ("accuracy", "f1", "val_accuracy/a", "val_accuracy/b")
    )
    return [r.pk for r in runs]


@pytest.mark.parametrize("count", [5, 120])
def test_query_counts_do_not_grow_with_the_runs(count: int, viewer: Client) -> None:
    ids = _many_runs(count)
    urls = [
        "/mlops/experiments/many/?sort=-metrics.accuracy",
        "/mlops/experiments/?sort=params.C&open=val_accuracy",
        "/mlops/experiments/compare?runs=" + ",".join(map(str, ids[:50])),
        f"/mlops/experiments/changes?runs={ids[0]},{ids[-1]}",
    ]
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert viewer.get(url).status_code == 200, url
        assert len(queries) <= 12, (url, [q["sql"] for q in queries])
