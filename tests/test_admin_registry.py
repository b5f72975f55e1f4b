"""The registry in the admin: every page renders read-only; aliases move only with a trail."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from django_mlops.models import AliasChange, ModelAlias, ModelVersion, RegisteredModel
from django_mlops.registry import set_alias
from tests import registry_pipelines as models

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]

ADMIN = "/admin/django_mlops"


@pytest.fixture
def superuser() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_registry_pages_render_read_only(superuser: Client) -> None:
    models.iris_models.run(executor="inline")
    set_alias("iris-test", "production", 1, comment="go")
    rows = {
        "registeredmodel": RegisteredModel.objects.get(),
        "modelversion": ModelVersion.objects.get(),
        "modelalias": ModelAlias.objects.get(),
        "aliaschange": AliasChange.objects.get(),
    }
    for model, row in rows.items():
        listing = superuser.get(f"{ADMIN}/{model}/")
        assert listing.status_code == 200, model
        page = superuser.get(f"{ADMIN}/{model}/{row.pk}/change/")
        assert page.status_code == 200, model
        assert b'name="_save"' not in page.content, model
        assert superuser.get(f"{ADMIN}/{model}/add/").status_code == 403, model
    alias = rows["modelalias"]
    url = f"{ADMIN}/modelalias/{alias.pk}/change/"
    assert superuser.post(url, {"name": "production", "version": 999}).status_code == 403
    assert ModelAlias.objects.get().version.version == 1
    assert "iris-test" in superuser.get(f"{ADMIN}/modelversion/?q=iris").content.decode()
