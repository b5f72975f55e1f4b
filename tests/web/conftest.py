"""Users and runs shared by the website's tests (fixtures)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from tests import web_pipelines


def make_client(name: str, *codenames: str) -> Client:
    """A logged-in client for a user holding exactly ``codenames`` of django_mlops."""
    user = User.objects.create_user(name, password="pw")
    if codenames:
        perms = Permission.objects.filter(
            content_type__app_label="django_mlops", codename__in=codenames
        )
        assert perms.count() == len(codenames), codenames
        user.user_permissions.add(*perms)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def nobody() -> Client:
    return make_client("nobody")


@pytest.fixture
def viewer() -> Client:
    return make_client("viewer", "view_run")


@pytest.fixture
def runner() -> Client:
    return make_client("runner", "view_run", "run_pipeline")


@pytest.fixture
def sharer() -> Client:
    return make_client("sharer", "view_run", "view_sharelink", "add_sharelink", "change_sharelink")


@pytest.fixture
def demo_run(tmp_mlops_home):  # type: ignore[no-untyped-def]
    run = web_pipelines.web_demo.run()
    assert run.status == "succeeded"
    return run


@pytest.fixture
def failed_run(tmp_mlops_home):  # type: ignore[no-untyped-def]
    run = web_pipelines.web_fail.run()
    assert run.status == "failed"
    return run
