"""Every page of the website asks for a login and checks permissions."""

from __future__ import annotations

import pytest
from django.test import Client

from django_mlops.models import Run, ShareLink

pytestmark = pytest.mark.django_db


def _reading_urls(run: Run) -> list[str]:
    return [
        "/mlops/pipelines/",
        "/mlops/pipelines/web_demo/",
        "/mlops/pipelines/web_demo/nodes/fit/",
        "/mlops/pipelines/web_demo/picture.svg",
        "/mlops/runs/",
        f"/mlops/runs/{run.pk}/",
        f"/mlops/runs/{run.pk}/live/",
        f"/mlops/runs/{run.pk}/timeline/",
        f"/mlops/runs/{run.pk}/tasks/fit/",
        f"/mlops/runs/{run.pk}/picture.svg",
    ]


def _acting(run: Run) -> list[str]:
    return [
        "/mlops/pipelines/web_demo/",
        f"/mlops/runs/{run.pk}/cancel/",
        f"/mlops/runs/{run.pk}/retry/",
    ]


def test_anonymous_visitors_are_sent_to_the_login_page(demo_run: Run) -> None:
    client = Client()
    for url in [*_reading_urls(demo_run), "/mlops/pipelines/web_demo/share/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/mlops/login/?next="), url
    for url in _acting(demo_run):
        assert client.post(url).status_code == 302, url
    assert Run.objects.count() == 1


def test_a_user_without_view_permission_gets_403(demo_run: Run, nobody: Client) -> None:
    for url in [*_reading_urls(demo_run), "/mlops/pipelines/web_demo/share/"]:
        assert nobody.get(url).status_code == 403, url
    for url in _acting(demo_run):
        assert nobody.post(url).status_code == 403, url


def test_a_viewer_reads_everything(demo_run: Run, viewer: Client) -> None:
    for url in _reading_urls(demo_run):
        assert viewer.get(url).status_code == 200, url


def test_a_viewer_sees_no_run_button_and_cannot_post(demo_run: Run, viewer: Client) -> None:
    page = viewer.get("/mlops/pipelines/web_demo/").content.decode()
    assert "run-form" not in page
    assert 'action="/mlops/runs/' not in viewer.get(f"/mlops/runs/{demo_run.pk}/").content.decode()
    for url in _acting(demo_run):
        assert viewer.post(url, {"param-C": "2"}).status_code == 403, url
    assert Run.objects.count() == 1


def test_a_runner_sees_the_run_button(demo_run: Run, runner: Client) -> None:
    page = runner.get("/mlops/pipelines/web_demo/").content.decode()
    assert "run-form" in page and "Run web_demo" in page
    assert "Retry" in runner.get(f"/mlops/runs/{demo_run.pk}/").content.decode()


def test_the_login_page_logs_in_and_goes_back(demo_run: Run) -> None:
    from django.contrib.auth.models import User

    User.objects.create_superuser("boss", password="pw-boss-1")
    client = Client()
    assert client.get("/mlops/login/").status_code == 200
    bad = client.post("/mlops/login/", {"username": "boss", "password": "wrong"})
    assert bad.status_code == 200 and "did not match" in bad.content.decode()
    good = client.post(
        "/mlops/login/", {"username": "boss", "password": "pw-boss-1", "next": "/mlops/runs/"}
    )
    assert good.status_code == 302 and good["Location"] == "/mlops/runs/"
    assert client.get("/mlops/runs/").status_code == 200
    assert client.post("/mlops/logout/").status_code == 302
    assert client.get("/mlops/runs/").status_code == 302


def test_sharing_needs_its_own_permissions(demo_run: Run, viewer: Client) -> None:
    assert viewer.get("/mlops/pipelines/web_demo/share/").status_code == 403
    assert viewer.post("/mlops/pipelines/web_demo/share/").status_code == 403
    link = ShareLink.objects.create(pipeline="web_demo", token="t" * 20)
    assert viewer.post(f"/mlops/share/{link.pk}/revoke/").status_code == 403
    link.refresh_from_db()
    assert link.active


def test_unknown_things_are_404_not_500(demo_run: Run, viewer: Client) -> None:
    for url in [
        "/mlops/pipelines/nope/",
        "/mlops/pipelines/web_demo/nodes/nope/",
        "/mlops/pipelines/web_demo/picture.gif",
        "/mlops/runs/999999/",
        "/mlops/runs/999999/live/",
        f"/mlops/runs/{demo_run.pk}/tasks/nope/",
        "/mlops/share/not-signed/",
    ]:
        assert viewer.get(url).status_code == 404, url
    assert viewer.get("/mlops/runs/?status=bogus").status_code == 400
