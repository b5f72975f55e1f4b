"""The admin: every record viewable, none editable, pages of bounded size and query count."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_mlops.admin import PREVIEW_ROWS
from django_mlops.models import (
    Artifact,
    LoggedArtifact,
    Metric,
    Param,
    Run,
    RunStatus,
    TaskAttempt,
    TaskOutput,
    TaskRun,
    TaskState,
)

pytestmark = pytest.mark.django_db

ADMIN = "/admin/django_mlops"
MODELS = [
    "run",
    "taskrun",
    "taskoutput",
    "taskattempt",
    "artifact",
    "loggedartifact",
    "param",
    "metric",
]


def _artifact(n: int = 0, **fields: object) -> Artifact:
    return Artifact.objects.create(
        sha256=f"{n:064x}",
        size=3,
        serializer="json",
        type_name="dict",
        data=b"{1}",
        preview={"kind": "dict", "keys": ["accuracy"]},
        **fields,
    )


def _run(tasks: int = 1, failed: int = 0, pipeline: str = "iris") -> Run:
    """A finished run with ``tasks`` tasks (the first ``failed`` failed), each with an output
    (one shared artifact) and a metric, made with bulk_create as the recorder does."""
    now = timezone.now()
    run = Run.objects.create(
        pipeline=pipeline,
        status=RunStatus.FAILED if failed else RunStatus.SUCCEEDED,
        params={"C": 1.0},
        git_commit="0123456789abcdef",
        git_dirty=True,
        tasks_total=tasks,
        packages={f"package-{i}": "1.0" for i in range(200)},
    )
    TaskRun.objects.bulk_create(
        TaskRun(
            run=run,
            node=f"n{i:04d}",
            state=TaskState.FAILED if i < failed else TaskState.SUCCEEDED,
            attempts=1,
            started_at=now,
            finished_at=now + timedelta(seconds=1),
            duration=1.0,
            error=f"ValueError: bad row in n{i:04d}\nsecond line" if i < failed else "",
            stdout="x" * 1000,
        )
        for i in range(tasks)
    )
    artifact = Artifact.objects.filter(sha256=f"{0:064x}").first() or _artifact()
    task_ids = list(run.task_runs.values_list("id", flat=True))
    TaskOutput.objects.bulk_create(
        TaskOutput(task_id=pk, dataset=f"d{pk}", artifact=artifact) for pk in task_ids
    )
    Metric.objects.bulk_create(
        Metric(run=run, task_id=pk, key=f"m{i % 3}", value=float(i), step=i)
        for i, pk in enumerate(task_ids)
    )
    Param.objects.create(run=run, key="C", value=1.0)
    LoggedArtifact.objects.create(run=run, task_id=task_ids[0], name="report", artifact=artifact)
    TaskAttempt.objects.create(task_id=task_ids[0], number=1, error="OSError: flaky disk")
    return run


def _staff(name: str, *codenames: str) -> Client:
    user = User.objects.create_user(name, password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="django_mlops", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer() -> Client:
    """A staff user with every view permission of the app and nothing else."""
    return _staff("viewer", *(f"view_{model}" for model in MODELS))


@pytest.fixture
def superuser() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.fixture(params=["viewer", "superuser"])
def user(request: pytest.FixtureRequest) -> Client:
    """Each of the two users who may read the records."""
    client: Client = request.getfixturevalue(request.param)
    return client


def _pages(run: Run) -> list[str]:
    task = run.task_runs.order_by("id").first()
    assert task is not None
    rows = {
        "run": run,
        "taskrun": task,
        "taskoutput": task.output_records.get(),
        "taskattempt": task.failed_attempts.get(),
        "artifact": task.output_records.get().artifact,
        "loggedartifact": run.logged_artifacts.get(),
        "param": run.param_records.get(),
        "metric": task.metric_records.get(),
    }
    return [f"{ADMIN}/{model}/" for model in MODELS] + [
        f"{ADMIN}/{model}/{row.pk}/change/" for model, row in rows.items()
    ]


def _count_queries(client: Client, url: str) -> int:
    client.get(url)  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_every_page_renders_read_only(user: Client) -> None:
    run = _run(tasks=3, failed=1)
    for page in _pages(run):
        response = user.get(page)
        assert response.status_code == 200, page
        assert b'name="_save"' not in response.content, page
        assert b'name="_continue"' not in response.content, page
    listing = user.get(f"{ADMIN}/run/").content.decode()
    assert "0123456789*" in listing
    filtered = [
        f"{ADMIN}/run/?status__exact=failed&q=iris",
        f"{ADMIN}/taskrun/?state__exact=failed&run__pipeline=iris&q=n0000",
        f"{ADMIN}/taskrun/?run__id__exact={run.pk}",
        f"{ADMIN}/artifact/?in_use=yes",
        f"{ADMIN}/metric/?reused__exact=0&key=m1",
    ]
    for page in filtered:
        assert user.get(page).status_code == 200, page


def test_add_pages_are_refused(user: Client) -> None:
    for model in MODELS:
        assert user.get(f"{ADMIN}/{model}/add/").status_code == 403, model
        assert user.post(f"{ADMIN}/{model}/add/", {}).status_code == 403, model


def test_posting_a_change_page_changes_nothing(user: Client) -> None:
    run = _run(tasks=1, failed=1)
    task = run.task_runs.get()
    metric = task.metric_records.get()
    artifact = task.output_records.get().artifact
    posts = [
        (run, {"error": "edited", "status": "succeeded", "params": '{"C": 9}'}),
        (task, {"error": "edited", "state": "succeeded", "node": "other"}),
        (metric, {"value": "99", "key": "m0"}),
        (run.param_records.get(), {"key": "C", "value": "9"}),
        (artifact, {"sha256": "f" * 64, "size": "1", "serializer": "json"}),
    ]
    for row, data in posts:
        before = type(row).objects.filter(pk=row.pk).values().get()
        url = f"{ADMIN}/{row._meta.model_name}/{row.pk}/change/"
        assert user.post(url, data).status_code == 403, url
        assert type(row).objects.filter(pk=row.pk).values().get() == before, url


def test_a_user_without_view_permission_is_refused() -> None:
    nobody = _staff("nobody")
    run = _run()
    for page in _pages(run):
        assert nobody.get(page).status_code == 403, page
    # The view permission of one model opens that model only.
    runs_only = _staff("runs-only", "view_run")
    assert runs_only.get(f"{ADMIN}/run/{run.pk}/change/").status_code == 200
    assert runs_only.get(f"{ADMIN}/taskrun/").status_code == 403


def test_a_run_page_has_counts_and_links_not_every_task(viewer: Client) -> None:
    small = _run(tasks=60, failed=55, pipeline="small")
    big = _run(tasks=2000, failed=120, pipeline="big")
    # Many values of a few metrics: the latest value of each is found in one pass.
    Metric.objects.bulk_create(
        Metric(run=big, key=f"loss{s % 3}", value=float(s), step=s) for s in range(10_000)
    )
    small_queries = _count_queries(viewer, f"{ADMIN}/run/{small.pk}/change/")
    big_queries = _count_queries(viewer, f"{ADMIN}/run/{big.pk}/change/")
    assert big_queries == small_queries
    started = time.perf_counter()
    assert viewer.get(f"{ADMIN}/run/{big.pk}/change/").status_code == 200
    assert time.perf_counter() - started < 3
    page = viewer.get(f"{ADMIN}/run/{big.pk}/change/").content.decode()
    assert "1,880" in page and "See all 2,000 tasks" in page
    assert f"{ADMIN}/taskrun/?run__id__exact={big.pk}&amp;state__exact=failed" in page
    assert f"Showing {PREVIEW_ROWS} of 120 failed tasks" in page
    assert "ValueError: bad row in n0000" in page and "second line" not in page
    assert "n0119" not in page and "n1999" not in page  # beyond the first 50 failures
    assert f"{ADMIN}/metric/?run__id__exact={big.pk}&amp;key__exact=m1" in page
    assert len(page) < 200_000


def test_a_run_page_shows_each_metrics_latest_value(viewer: Client) -> None:
    run = Run.objects.create(pipeline="iris")
    now = timezone.now()
    # A reused value logged earlier (older timestamp) but written later (higher id).
    Metric.objects.create(run=run, key="acc", value=0.25, timestamp=now)
    Metric.objects.create(run=run, key="acc", value=0.75, timestamp=now - timedelta(hours=1))
    Metric.objects.create(run=run, key="f1", value=0.5, timestamp=now)
    assert run.metrics == {"acc": 0.25, "f1": 0.5}
    page = viewer.get(f"{ADMIN}/run/{run.pk}/change/").content.decode()
    assert "<td>0.25</td><td>2</td>" in page and "<td>0.5</td><td>1</td>" in page
    assert "0.75" not in page


def test_changelists_make_no_query_per_row(viewer: Client) -> None:
    few = _run(tasks=5, pipeline="few")
    many = _run(tasks=150, pipeline="many")
    for model, lookup in [
        ("taskrun", "run__id__exact"),
        ("metric", "run__id__exact"),
        ("taskoutput", "task__run__id__exact"),
    ]:
        counts = [
            _count_queries(viewer, f"{ADMIN}/{model}/?{lookup}={run.pk}") for run in (few, many)
        ]
        assert counts[0] == counts[1], model
    for model in MODELS:
        assert _count_queries(viewer, f"{ADMIN}/{model}/") < 15, model


def test_a_task_page_shows_outputs_attempts_and_metrics(viewer: Client) -> None:
    run = _run(tasks=2)
    task = run.task_runs.order_by("id")[0]
    artifact = task.output_records.get().artifact
    page = viewer.get(f"{ADMIN}/taskrun/{task.pk}/change/").content.decode()
    assert f"d{task.pk}" in page and f"{ADMIN}/artifact/{artifact.pk}/change/" in page
    assert "OSError: flaky disk" in page
    assert f"{ADMIN}/taskattempt/{task.failed_attempts.get().pk}/change/" in page
    assert "m0" in page and f"{ADMIN}/metric/?task__id__exact={task.pk}" in page
    Metric.objects.bulk_create(
        Metric(run=run, task=task, key="loss", value=1.0 / (s + 1), step=s) for s in range(500)
    )
    page = viewer.get(f"{ADMIN}/taskrun/{task.pk}/change/").content.decode()
    assert f"Showing {PREVIEW_ROWS} of 501 metrics" in page


def test_an_artifact_page_shows_size_preview_and_users(viewer: Client) -> None:
    run = _run(tasks=3)
    artifact = Artifact.objects.get(sha256=f"{0:064x}")
    url = f"{ADMIN}/artifact/{artifact.pk}/change/"
    page = viewer.get(url).content.decode()
    assert "3\xa0bytes (3 bytes)" in page and "JSON" in page
    assert "&quot;accuracy&quot;" in page  # the preview, as JSON
    task = run.task_runs.order_by("id")[0]
    assert f"{ADMIN}/taskrun/{task.pk}/change/" in page and f"{ADMIN}/run/{run.pk}/change/" in page
    _run(tasks=60, pipeline="some")  # past one page of users: the count query joins in
    some = _count_queries(viewer, url)
    _run(tasks=300, pipeline="more")
    assert _count_queries(viewer, url) == some
    page = viewer.get(url).content.decode()
    assert f"Showing {PREVIEW_ROWS} of 363 task outputs" in page
    assert f"{ADMIN}/taskoutput/?artifact__id__exact={artifact.pk}" in page


def test_a_run_is_deleted_with_its_rows_by_whoever_may_delete_runs(viewer: Client) -> None:
    small, big = _run(tasks=3), _run(tasks=2000, failed=3)
    other = _run(tasks=2, pipeline="other")
    url = f"{ADMIN}/run/{big.pk}/delete/"
    assert viewer.get(url).status_code == 403
    assert viewer.post(url, {"post": "yes"}).status_code == 403
    deleter = _staff("deleter", "view_run", "delete_run")
    small_queries = _count_queries(deleter, f"{ADMIN}/run/{small.pk}/delete/")
    assert _count_queries(deleter, url) == small_queries
    page = deleter.get(url).content.decode()
    assert "2,000 task runs" in page and "2,000 task outputs" in page and "protected" not in page
    response = deleter.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not Run.objects.filter(pk=big.pk).exists()
    assert not TaskRun.objects.filter(run_id=big.pk).exists()
    assert not Metric.objects.filter(run_id=big.pk).exists()
    assert TaskRun.objects.filter(run=other).count() == 2
    assert Artifact.objects.exists()  # still used by the other runs


def test_runs_are_deleted_in_bulk_from_the_list(superuser: Client) -> None:
    runs = [_run(tasks=4, pipeline=f"p{i}") for i in range(3)]
    data = {"action": "delete_selected", "_selected_action": [r.pk for r in runs[:2]]}
    page = superuser.post(f"{ADMIN}/run/", data).content.decode()
    assert "8 task runs" in page and "2 params" in page
    response = superuser.post(f"{ADMIN}/run/", {**data, "post": "yes"})
    assert response.status_code == 302
    assert list(Run.objects.all()) == [runs[2]]


def test_records_of_a_run_cannot_be_deleted_alone(superuser: Client) -> None:
    run = _run(tasks=1)
    task = run.task_runs.get()
    for row in [
        task,
        task.metric_records.get(),
        run.param_records.get(),
        task.output_records.get(),
    ]:
        url = f"{ADMIN}/{row._meta.model_name}/{row.pk}/delete/"
        assert superuser.post(url, {"post": "yes"}).status_code == 403, url
        assert type(row).objects.filter(pk=row.pk).exists()


def test_an_artifact_in_use_is_not_deleted_and_the_page_says_why(superuser: Client) -> None:
    _run(tasks=30)
    artifact = Artifact.objects.get()
    url = f"{ADMIN}/artifact/{artifact.pk}/delete/"
    page = superuser.get(url).content.decode()
    assert "would require deleting the following protected related objects" in page
    assert f"{ADMIN}/taskoutput/" in page and "… and 20 more task outputs" in page
    assert "Logged artifact: <a" in page and "report of run #" in page
    response = superuser.post(url, {"post": "yes"})
    assert response.status_code == 200
    assert Artifact.objects.filter(pk=artifact.pk).exists()


def test_an_unused_artifact_is_deleted_with_its_file(
    superuser: Client, tmp_mlops_home: object, django_capture_on_commit_callbacks: object
) -> None:
    from django_mlops.artifacts import ArtifactStore

    store = ArtifactStore()
    artifact = store.put("x" * (store.inline_max + 10))
    assert artifact.storage_name and store.storage.exists(artifact.storage_name)
    used = _artifact(1)
    TaskOutput.objects.create(task=_run().task_runs.get(), dataset="y", artifact=used)
    listing = superuser.get(f"{ADMIN}/artifact/?in_use=no").content.decode()
    assert artifact.sha256 in listing and used.sha256 not in listing
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        response = superuser.post(f"{ADMIN}/artifact/{artifact.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Artifact.objects.filter(pk=artifact.pk).exists()
    assert not store.storage.exists(artifact.storage_name)
