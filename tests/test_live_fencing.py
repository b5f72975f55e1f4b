"""Live rows are fenced by the queue's lease: a worker that lost its run writes nothing more.

A worker whose lease expired (say, stopped for a minute by the OS) may come back while
another worker has taken its run over. Its heartbeat thread must then neither publish
its stale attempts over the new holder's nor delete the new holder's rows.
On SQLite and PostgreSQL, with real claims.
"""

from __future__ import annotations

import time

import pytest

from django_mlops.executors import live as board
from django_mlops.models import LiveTask
from django_mlops.queue import enqueue_run
from django_mlops.queue.claims import claim_next
from django_mlops.records.live import LivePublisher
from django_mlops.records.liveness import requeue_run
from tests import pipelines_for_tests as fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]


def _rows(run_id: int) -> list[tuple[str, int, str]]:
    rows = LiveTask.objects.filter(run_id=run_id).order_by("node")
    return list(rows.values_list("node", "attempt", "log"))


def test_a_worker_whose_run_was_taken_over_stops_publishing_and_deleting() -> None:
    run = enqueue_run(fixtures.diamond())
    taken = claim_next("worker-a")
    assert taken is not None
    _, lease_a = taken
    first = board.LiveAttempt("scale", 1, time.time(), remote=True)
    first.receive(("", "", "a: working\n"), False)
    board.begin(run.pk, 1, first)
    try:
        publisher_a = LivePublisher(run.pk, "default", lease_a)
        publisher_a.tick()
        assert _rows(run.pk) == [("scale", 1, "a: working\n")]

        # Worker A falls silent; its run goes back to the queue and B takes it over.
        assert requeue_run("default", run.pk, lease_a.claim, "its runner stopped answering")
        taken = claim_next("worker-b")
        assert taken is not None and taken[1].claim == lease_a.claim + 1
        board.end(run.pk, 1, first)
        second = board.LiveAttempt("scale", 2, time.time(), remote=True)
        second.receive(("", "", "b: working\n"), False)
        board.begin(run.pk, 1, second)
        publisher_b = LivePublisher(run.pk, "default", taken[1])
        publisher_b.tick()
        assert _rows(run.pk) == [("scale", 2, "b: working\n")]

        # A comes back: what it sees on the board would replace B's row, and A is
        # done with the run. Fenced: neither writes, and A knows it lost the run.
        second.receive(("", "", "more\n"), False)
        publisher_a.tick()
        publisher_a.clear()
        assert lease_a.lost.is_set()
        assert _rows(run.pk) == [("scale", 2, "b: working\n")]

        publisher_b.tick()  # the holder goes on appending
        assert _rows(run.pk) == [("scale", 2, "b: working\nmore\n")]
        publisher_b.clear()
        assert _rows(run.pk) == []
    finally:
        board.end(run.pk, 1, first)
        board.end(run.pk, 1, second)


def test_a_worker_clears_its_rows_when_its_run_ended_with_its_claim() -> None:
    run = enqueue_run(fixtures.diamond())
    taken = claim_next("worker-a")
    assert taken is not None
    attempt = board.LiveAttempt("load", 1, time.time(), remote=True)
    board.begin(run.pk, 0, attempt)
    try:
        publisher = LivePublisher(run.pk, "default", taken[1])
        publisher.tick()
        assert [r[0] for r in _rows(run.pk)] == ["load"]
        type(run).objects.filter(pk=run.pk).update(status="succeeded")  # the writer's end
        publisher.tick()  # between the end and the heartbeat's stop: the lease no longer renews
        publisher.clear()
        assert _rows(run.pk) == []
    finally:
        board.end(run.pk, 0, attempt)
