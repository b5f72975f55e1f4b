"""The run page's live answer for a running task: states, elapsed times, logs by cursor.

A real capture is written to, put on the board of running attempts and published
by the records' :class:`LivePublisher` (what the runner's heartbeat thread does
every tick), then read back through the website's live JSON, the task panel and
the API, as a browser or a client in another process would.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_mlops.capture import Capture
from django_mlops.executors import live
from django_mlops.models import LiveTask, Run
from django_mlops.records.live import LOG_CHUNK, LivePublisher
from django_mlops.records.rows import HOST
from tests import web_pipelines
from tests.conftest import API

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]

FIT = 1  # the node id of "fit" in web_demo


class Running:
    """A running run of web_demo held by this process, with "fit" on the board."""

    def __init__(self) -> None:
        now = timezone.now()
        self.run = Run.objects.create(
            pipeline=web_demo_name(),
            status="running",
            started_at=now - dt.timedelta(seconds=3),
            heartbeat_at=now,
            host=HOST,
            pid=os.getpid(),
            tasks_total=4,
        )
        self.capture = Capture()
        self.attempt = live.LiveAttempt("fit", 1, time.time() - 2.0, self.capture)
        live.begin(self.run.pk, FIT, self.attempt)
        self.publisher = LivePublisher(self.run.pk, "default")

    def print(self, text: str) -> None:
        """The node prints, and a tick of the heartbeat thread publishes it."""
        self.capture.buffer("stdout").write(text)
        self.publisher.tick()

    def close(self) -> None:
        live.end(self.run.pk, FIT, self.attempt)


def web_demo_name() -> str:
    return web_pipelines.web_demo.name


@pytest.fixture
def running() -> Iterator[Running]:
    held = Running()
    try:
        yield held
    finally:
        held.close()


def _live(client: Client, run: Run, **query: Any) -> dict[str, Any]:
    response = client.get(f"/mlops/runs/{run.pk}/live/", {"node": "fit", **query})
    assert response.status_code == 200, response.content
    answer: dict[str, Any] = response.json()
    return answer


def test_a_running_task_is_shown_running_with_its_elapsed_time(
    running: Running, viewer: Client
) -> None:
    running.print("line one\n")
    answer = _live(viewer, running.run)
    assert answer["live"] is True
    # No task row is written yet (an inline run's first flush comes after its first node).
    assert answer["states"] == {"fit": "running"}
    assert answer["running"]["fit"]["attempt"] == 1
    assert 2.0 <= answer["running"]["fit"]["elapsed"] < 60
    task = answer["task"]
    assert task["state"] == "running" and task["running"] is True and task["attempts"] == 1
    assert task["stdout"] == {"from": 0, "text": "line one\n", "next": 9, "size": 9}
    assert task["stderr"] == {"from": 0, "text": "", "next": 0, "size": 0}


def test_each_answer_brings_only_the_text_after_the_cursor(
    running: Running, viewer: Client
) -> None:
    running.print("line one\n")
    first = _live(viewer, running.run)["task"]["stdout"]
    running.print("line two\n")
    second = _live(viewer, running.run, stdout=first["next"])["task"]["stdout"]
    assert second == {"from": 9, "text": "line two\n", "next": 18, "size": 18}
    idle = _live(viewer, running.run, stdout=second["next"])["task"]["stdout"]
    assert idle == {"from": 18, "text": "", "next": 18, "size": 18}
    # A cursor past the end (the text was replaced: a new attempt) starts again from 0.
    again = _live(viewer, running.run, stdout=500)["task"]["stdout"]
    assert again["from"] == 0 and again["text"] == "line one\nline two\n"


def test_an_answer_is_bounded_and_the_next_goes_on(running: Running, viewer: Client) -> None:
    running.print("x" * (LOG_CHUNK + 1000))
    first = _live(viewer, running.run)["task"]["stdout"]
    assert len(first["text"]) == LOG_CHUNK and first["next"] == LOG_CHUNK
    rest = _live(viewer, running.run, stdout=first["next"])["task"]["stdout"]
    assert rest["text"] == "x" * 1000 and rest["next"] == rest["size"] == LOG_CHUNK + 1000


@pytest.mark.parametrize("cursor", ["-1", "abc", "1.5", "9" * 20])
def test_a_bad_cursor_is_a_400(running: Running, viewer: Client, cursor: str) -> None:
    response = viewer.get(f"/mlops/runs/{running.run.pk}/live/", {"node": "fit", "log": cursor})
    assert response.status_code == 400
    assert "'log' must be a character offset" in response.json()["error"]


def test_the_live_answer_needs_view_run(running: Running, nobody: Client) -> None:
    assert nobody.get(f"/mlops/runs/{running.run.pk}/live/").status_code == 403


def test_the_panel_and_the_api_show_the_output_so_far(
    running: Running, viewer: Client, reader: Any
) -> None:
    running.print("line <one>\n")
    panel = viewer.get(f"/mlops/runs/{running.run.pk}/tasks/fit/")
    assert panel.status_code == 200
    page = panel.content.decode()
    assert 'data-task-state="running"' in page and 'data-task-attempts="1"' in page
    assert 'data-cursor="11"' in page and "line &lt;one&gt;" in page
    assert "Running for" in page
    detail = viewer.get(f"/mlops/runs/{running.run.pk}/").content.decode()
    assert 'aria-label="Running now"' in detail and "<code>fit</code> for" in detail
    task = reader.get(f"{API}/runs/{running.run.pk}/tasks/fit").json()
    assert task["state"] == "running" and task["live"] is True
    assert task["stdout"] == "line <one>\n" and task["attempts"] == 1


def test_a_stale_run_never_shows_its_task_running(running: Running, viewer: Client) -> None:
    running.print("line one\n")
    assert LiveTask.objects.filter(run=running.run).count() == 1
    # Its runner stopped answering (no heartbeat for an hour): settled before it is shown.
    Run.objects.filter(pk=running.run.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(hours=1)
    )
    answer = _live(viewer, running.run)
    assert answer["status"] == "failed" and answer["live"] is False
    assert answer["running"] == {} and "fit" not in answer["states"]
    assert answer["task"] is None
    assert LiveTask.objects.filter(run=running.run).count() == 0
    assert viewer.get(f"/mlops/runs/{running.run.pk}/tasks/fit/").status_code == 404


def test_a_finished_task_row_supersedes_its_live_row(viewer: Client) -> None:
    run = web_pipelines.web_demo.run()
    Run.objects.filter(pk=run.pk).update(status="running", heartbeat_at=timezone.now())
    run.refresh_from_db()
    # A live row left behind (its tick came after the task's final row was written).
    LiveTask.objects.create(
        run=run,
        node="fit",
        attempt=1,
        started_at=timezone.now(),
        updated_at=timezone.now(),
        stdout="partial",
    )
    Run.objects.filter(pk=run.pk).update(host=HOST, pid=os.getpid())
    answer = _live(viewer, run)
    assert answer["states"]["fit"] == "succeeded"
    assert answer["task"]["state"] == "succeeded" and answer["task"]["running"] is False
    assert "partial" not in answer["task"]["stdout"]["text"]


def test_the_live_answer_queries_do_not_grow_with_running_tasks(
    running: Running, viewer: Client
) -> None:
    running.print("a\n")
    with CaptureQueriesContext(connection) as one:
        _live(viewer, running.run)
    capture = Capture()
    others = [live.LiveAttempt(f"train_{i}", 1, time.time(), capture) for i in range(5)]
    for i, attempt in enumerate(others):
        live.begin(running.run.pk, 10 + i, attempt)
    try:
        running.publisher.tick()
        with CaptureQueriesContext(connection) as six:
            answer = _live(viewer, running.run)
        assert len(answer["running"]) == 6
    finally:
        for i, attempt in enumerate(others):
            live.end(running.run.pk, 10 + i, attempt)
    assert len(one) == len(six)
