"""What the website's pages show and do: pipelines, the Run form, runs, tasks, Cancel, Retry."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from django_mlops.models import Run
from django_mlops.queue import enqueue_run
from tests import web_pipelines

pytestmark = pytest.mark.django_db


def test_the_pipelines_list_shows_steps_and_last_run(demo_run: Run, viewer: Client) -> None:
    page = viewer.get("/mlops/pipelines/").content.decode()
    assert "web_demo" in page and "Scores a toy model" in page
    assert "(1 planned)" in page  # the concept step
    assert f'href="/mlops/runs/{demo_run.pk}/"' in page
    assert "never run" in page  # web_fanout has no run


def test_a_pipeline_page_has_its_picture_form_and_recent_runs(
    demo_run: Run, runner: Client
) -> None:
    page = runner.get("/mlops/pipelines/web_demo/").content.decode()
    assert 'id="node-fit"' in page and "<svg" in page
    assert "SHAP report for the risk team" in page  # the concept step's description
    assert f"#{demo_run.pk}" in page
    assert 'name="param-C"' in page and "inverse regularisation strength" in page
    assert '<select name="param-solver"' in page and '<option value="saga"' in page
    assert 'type="checkbox" name="param-scale" id="param-scale" checked' in page


def test_node_details_name_inputs_outputs_params_and_code(viewer: Client) -> None:
    page = viewer.get(
        "/mlops/pipelines/web_demo/nodes/fit/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in page  # a fragment for the side panel
    for text in [
        "Fit the toy model.",
        "<code>frame</code>",
        "<code>model</code>",
        "<code>C</code>",
    ]:
        assert text in page
    assert "<code>seed</code>" in page and "<code>evaluate</code>" in page
    assert "web_pipelines.py:" in page
    concept = viewer.get("/mlops/pipelines/web_demo/nodes/explain/").content.decode()
    assert "planned step" in concept and "<html" in concept


def test_the_run_form_queues_a_typed_run_and_goes_to_it(runner: Client) -> None:
    response = runner.post(
        "/mlops/pipelines/web_demo/",
        {"param-C": "2", "param-solver": "saga", "param-seed": "7"},
    )
    run = Run.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/mlops/runs/{run.pk}/"
    assert run.status == "queued"
    assert run.params == {"C": 2.0, "solver": "saga", "scale": False, "seed": 7}
    assert run.created_by is not None and run.created_by.username == "runner"
    assert run.source == "tests.web_pipelines:web_demo"


def test_bad_params_are_refused_field_by_field_and_nothing_is_queued(runner: Client) -> None:
    response = runner.post(
        "/mlops/pipelines/web_demo/",
        {"param-C": "-1", "param-solver": "adam", "param-seed": "x", "param-scale": "on"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="error-C"' in page and "&gt;= 0.0" in page
    assert 'id="error-solver"' in page and 'id="error-seed"' in page
    assert 'aria-invalid="true" aria-describedby="error-C" value="-1"' in page  # kept, marked
    assert Run.objects.count() == 0


def test_a_run_page_shows_states_progress_and_timeline(demo_run: Run, viewer: Client) -> None:
    response = viewer.get(f"/mlops/runs/{demo_run.pk}/")
    page = response.content.decode()
    initial = json.loads(page.split('id="run-initial" type="application/json">')[1].split("<")[0])
    assert initial["states"] == {
        "load": "succeeded",
        "fit": "succeeded",
        "evaluate": "succeeded",
        "explain": "not_started",
    }
    assert "<strong data-progress-done>4</strong> of <span data-progress-total>4</span>" in page
    assert 'class="gantt"' in page and "Critical path" in page
    assert 'data-run-live="/mlops/runs/' in page


def test_the_live_answer_has_every_state_and_group_in_one_request(
    tmp_mlops_home: object, viewer: Client
) -> None:
    run = web_pipelines.web_fanout.run()
    with CaptureQueriesContext(connection) as small:
        answer = viewer.get(f"/mlops/runs/{run.pk}/live/?node=split").json()
    assert answer["status"] == "succeeded" and answer["live"] is False
    assert len(answer["states"]) == 21
    assert answer["groups"] == {"group-train_": "succeeded"}
    assert answer["progress"]["done"] == 21 and answer["progress"]["total"] == 21
    assert answer["task"]["state"] == "succeeded"
    demo = web_pipelines.web_demo.run()
    with CaptureQueriesContext(connection) as other:
        viewer.get(f"/mlops/runs/{demo.pk}/live/?node=fit")
    assert len(small) == len(other)  # not one query per task


def test_page_queries_do_not_grow_with_the_tasks(tmp_mlops_home: object, viewer: Client) -> None:
    small, big = web_pipelines.web_demo.run(), web_pipelines.web_fanout.run()
    counts = []
    for run in (small, big):
        with CaptureQueriesContext(connection) as queries:
            assert viewer.get(f"/mlops/runs/{run.pk}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] > 0
    assert counts[0] == counts[1]
    with CaptureQueriesContext(connection) as listing:
        viewer.get("/mlops/pipelines/")
    web_pipelines.web_fail.run()
    with CaptureQueriesContext(connection) as again:
        viewer.get("/mlops/pipelines/")
    assert len(listing) == len(again)


def test_a_failed_task_panel_marks_the_users_line(failed_run: Run, viewer: Client) -> None:
    page = viewer.get(
        f"/mlops/runs/{failed_run.pk}/tasks/explode/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "ValueError: total 6 is over the limit 3" in page
    marked = [line for line in page.splitlines() if 'class="tb-user' in line]
    assert marked and "web_pipelines.py" in marked[0]
    assert any("raise ValueError" in line for line in marked)
    assert "about to fail" in page
    # The run page opens the failed task's panel by itself.
    run_page = viewer.get(f"/mlops/runs/{failed_run.pk}/").content.decode()
    assert f'hx-get="/mlops/runs/{failed_run.pk}/tasks/explode/"' in run_page


def test_a_task_panel_shows_previews_metrics_and_logs(demo_run: Run, viewer: Client) -> None:
    load = viewer.get(f"/mlops/runs/{demo_run.pk}/tasks/load/").content.decode()
    assert "array of shape (6, 2)" in load and "loading 12 rows" in load
    fit = viewer.get(f"/mlops/runs/{demo_run.pk}/tasks/fit/").content.decode()
    assert "fitting with C=1.0" in fit and "weights" in fit
    evaluate = viewer.get(f"/mlops/runs/{demo_run.pk}/tasks/evaluate/").content.decode()
    assert "accuracy" in evaluate and "0.75" in evaluate


def test_cancel_a_queued_run_and_refuse_a_finished_one(demo_run: Run, runner: Client) -> None:
    queued = enqueue_run(web_pipelines.web_demo)
    response = runner.post(f"/mlops/runs/{queued.pk}/cancel/", follow=True)
    queued.refresh_from_db()
    assert queued.status == "cancelled"
    assert f"Run {queued.pk} is cancelled." in response.content.decode()
    response = runner.post(f"/mlops/runs/{demo_run.pk}/cancel/", follow=True)
    assert response.status_code == 200 and "nothing to cancel" in response.content.decode()
    demo_run.refresh_from_db()
    assert demo_run.status == "succeeded"


def test_retry_queues_the_run_again_with_its_params(failed_run: Run, runner: Client) -> None:
    response = runner.post(f"/mlops/runs/{failed_run.pk}/retry/")
    retry = Run.objects.exclude(pk=failed_run.pk).get()
    assert response["Location"] == f"/mlops/runs/{retry.pk}/"
    assert retry.status == "queued" and retry.retry_of_id == failed_run.pk
    assert retry.params == failed_run.params
    live = enqueue_run(web_pipelines.web_fail)
    runner.post(f"/mlops/runs/{live.pk}/retry/")
    assert Run.objects.count() == 3  # a queued run is not retried


def test_downloads_are_svg_and_png(demo_run: Run, viewer: Client) -> None:
    svg = viewer.get("/mlops/pipelines/web_demo/picture.svg")
    assert svg["Content-Type"].startswith("image/svg+xml")
    assert svg["Content-Disposition"] == 'attachment; filename="web_demo.svg"'
    png = viewer.get(f"/mlops/runs/{demo_run.pk}/picture.png")
    assert png["Content-Type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    coloured = viewer.get(f"/mlops/runs/{demo_run.pk}/picture.svg").content.decode()
    assert "state-succeeded" in coloured


def test_the_runs_list_filters_and_pages(demo_run: Run, failed_run: Run, viewer: Client) -> None:
    page = viewer.get("/mlops/runs/?status=failed").content.decode()
    assert f'href="/mlops/runs/{failed_run.pk}/"' in page
    assert f'href="/mlops/runs/{demo_run.pk}/"' not in page
    page = viewer.get("/mlops/runs/?pipeline=web_demo").content.decode()
    assert f'href="/mlops/runs/{demo_run.pk}/"' in page
    assert f'href="/mlops/runs/{failed_run.pk}/"' not in page
    assert viewer.get("/mlops/runs/?page=abc").status_code == 200


def test_a_png_output_is_shown_as_an_image(tmp_mlops_home: object, viewer: Client) -> None:
    import base64

    run = web_pipelines.web_image.run()
    assert run.status == "succeeded"
    page = viewer.get(f"/mlops/runs/{run.pk}/tasks/draw/").content.decode()
    encoded = page.split('src="data:image/png;base64,')[1].split('"')[0]
    assert base64.b64decode(encoded) == run.output("chart")


def test_a_matplotlib_figure_is_previewed_as_an_image() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from django_mlops.artifacts import make_preview

    figure = Figure()
    figure.add_subplot().plot([1, 2, 3])
    preview = make_preview(figure)
    assert preview["kind"] == "image" and preview["type"] == "Figure"
    import base64

    assert base64.b64decode(preview["png"])[:8] == b"\x89PNG\r\n\x1a\n"


def test_odd_step_names_reach_their_pages(tmp_mlops_home: object, viewer: Client) -> None:
    from django.urls import reverse

    run = web_pipelines.web_odd.run()
    name = 'load data/raw "v2"'
    page = viewer.get(f"/mlops/runs/{run.pk}/")
    assert page.status_code == 200
    task = viewer.get(reverse("mlops:task", args=[run.pk, name]))
    assert task.status_code == 200 and "no raw data" in task.content.decode()
    node = viewer.get(reverse("mlops:node", args=["web_odd", name]))
    assert node.status_code == 200 and "A name a URL must escape." in node.content.decode()
