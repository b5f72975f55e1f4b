"""Claims, leases and fencing in one process, on SQLite and PostgreSQL.

The real-process behaviour (several workers, signals) is in test_queue_workers.py;
here each guarantee is checked at the level of the rows.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from django_mlops.models import Run
from django_mlops.queue import enqueue_run
from django_mlops.queue.claims import cancel_queued_cancels, claim_next
from django_mlops.queue.lease import LeaseLost
from django_mlops.records.liveness import requeue_run, settle_stale_runs
from django_mlops.run.reproduce import cancel_run
from django_mlops.run.runner import run_pipeline
from tests import pipelines_for_tests as fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]


def test_claims_take_the_highest_priority_then_the_oldest_once() -> None:
    p = fixtures.diamond()
    low, high, other_high = (enqueue_run(p, priority=n) for n in (0, 3, 3))
    taken = [claim_next("w") for _ in range(4)]
    assert [c[0].pk for c in taken if c] == [high.pk, other_high.pk, low.pk]
    assert taken[3] is None  # nothing is claimed twice
    run, lease = taken[0] or (None, None)
    assert run is not None and lease is not None
    assert run.status == "running" and run.worker == "w" and run.claims == 1 == lease.claim
    assert run.resumed_from == "" and run.claimed_at is not None


def test_a_cancelled_queued_run_is_never_claimed() -> None:
    p = fixtures.diamond()
    run = enqueue_run(p)
    assert cancel_run(run.pk).status == "cancelled"
    assert claim_next("w") is None
    run.refresh_from_db()
    assert run.status == "cancelled" and run.claims == 0


def test_a_takeover_fences_the_old_claim() -> None:
    p = fixtures.diamond()
    enqueue_run(p)
    claimed = claim_next("old")
    assert claimed is not None
    run, old = claimed
    assert old.renew()
    assert requeue_run(None, run.pk, old.claim, "lease expired")
    new_run, new = claim_next("new") or (None, None)
    assert new_run is not None and new is not None
    assert new.claim == 2 and new_run.resumed_from == "old" and new_run.worker == "new"
    assert not old.renew() and old.lost.is_set()
    with pytest.raises(LeaseLost):
        old.fence()
    assert not requeue_run(None, run.pk, old.claim, "stale claim")  # the old claim changes nothing
    assert new.renew()


def test_run_pipeline_under_a_lost_lease_writes_nothing() -> None:
    p = fixtures.diamond()
    enqueue_run(p)
    run, lease = claim_next("old") or (None, None)
    assert run is not None and lease is not None
    Run.objects.filter(pk=run.pk).update(claims=5)  # another worker took it meanwhile
    with pytest.raises(LeaseLost):
        run_pipeline(p, run=run, lease=lease)
    assert not run.task_runs.exists()
    assert Run.objects.get(pk=run.pk).status == "running"  # the new holder's, untouched


def test_a_leased_run_executes_and_records_its_worker() -> None:
    p = fixtures.diamond()
    enqueue_run(p)
    run, lease = claim_next("w1") or (None, None)
    assert run is not None and lease is not None
    done = run_pipeline(p, run=run, lease=lease)
    assert done.status == "succeeded"
    row = Run.objects.get(pk=run.pk)
    assert row.worker == "w1" and row.claims == 1 and row.status == "succeeded"


@override_settings(MLOPS={"RUN_STALE_SECONDS": 2.0, "HEARTBEAT_SECONDS": 0.5})
def test_stale_queue_runs_go_back_to_the_queue_direct_runs_fail() -> None:
    p = fixtures.diamond()
    enqueue_run(p)
    queued, _ = claim_next("gone") or (None, None)
    direct = Run.objects.create(pipeline="x", status="running")
    old = timezone.now() - dt.timedelta(seconds=30)
    Run.objects.filter(pk__in=[queued.pk, direct.pk]).update(heartbeat_at=old, host="elsewhere")
    assert sorted(settle_stale_runs()) == sorted([queued.pk, direct.pk])
    assert Run.objects.get(pk=queued.pk).status == "queued"
    assert Run.objects.get(pk=direct.pk).status == "failed"


def test_a_cancel_asked_of_a_running_run_survives_its_hand_back() -> None:
    p = fixtures.diamond()
    enqueue_run(p)
    run, lease = claim_next("w") or (None, None)
    assert run is not None and lease is not None
    Run.objects.filter(pk=run.pk).update(cancel_requested=True)
    assert requeue_run(None, run.pk, lease.claim, "stopped")
    assert Run.objects.get(pk=run.pk).status == "cancelled"
    # And a queued row left asking for a cancel is ended, never claimed.
    stray = enqueue_run(p)
    Run.objects.filter(pk=stray.pk).update(cancel_requested=True)
    assert claim_next("w") is None
    assert cancel_queued_cancels() == [stray.pk]
    assert Run.objects.get(pk=stray.pk).status == "cancelled"


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({"WORKER_CONCURRENCY": 0}, "django_mlops.E013"),
        ({"WORKER_CONCURRENCY": "2"}, "django_mlops.E013"),
        ({"WORKER_POLL_SECONDS": -1}, "django_mlops.E014"),
        ({"WORKER_CONCURRENCY": 3, "WORKER_POLL_SECONDS": 0.5}, None),
    ],
)
def test_worker_settings_are_checked(settings: dict[str, object], error: str | None) -> None:
    from django_mlops.checks import check_settings

    with override_settings(MLOPS=settings):
        ids = [message.id for message in check_settings()]
    assert ids == ([error] if error else [])


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_take_each_run_once() -> None:
    """Threads with connections of their own claim at once (SKIP LOCKED on PostgreSQL).

    On SQLite the test database is in memory, where concurrent connections get
    "table is locked" instead of waiting; SQLite's concurrent claims are proven
    by real worker processes on a file (test_queue_workers.py).
    """
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL; SQLite's concurrency is tested with worker processes")
    p = fixtures.diamond()
    ids = {enqueue_run(p).pk for _ in range(40)}
    taken: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def claim_all(name: str) -> None:
        start.wait()
        try:
            while (claimed := claim_next(name)) is not None:
                with lock:
                    taken.append(claimed[0].pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim_all, args=(f"t{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(taken) == sorted(ids)  # every run once, none twice
    assert set(Run.objects.values_list("claims", flat=True)) == {1}
