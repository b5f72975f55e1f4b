"""The pages' static files are collected, and share links are revoked from the admin too."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client, override_settings

from django_mlops.models import ShareLink


def test_collectstatic_gathers_our_files_and_htmx(tmp_path: Path) -> None:
    with override_settings(STATIC_ROOT=str(tmp_path)):
        call_command("collectstatic", interactive=False, verbosity=0)
    for name in ["mlops/mlops.css", "mlops/dag.js", "mlops/live.js", "django_htmx/htmx-2.min.js"]:
        assert (tmp_path / name).is_file(), name


@pytest.mark.django_db
def test_links_are_listed_and_revoked_in_the_admin() -> None:
    user = User.objects.create_superuser("root", password="pw")
    link = ShareLink.objects.create(pipeline="web_demo", token="admin-token-1", label="board")
    client = Client()
    client.force_login(user)
    listing = client.get("/admin/django_mlops/sharelink/")
    assert listing.status_code == 200 and "board" in listing.content.decode()
    assert client.get("/admin/django_mlops/sharelink/add/").status_code == 403
    client.post(
        "/admin/django_mlops/sharelink/",
        {"action": "revoke", "_selected_action": [link.pk]},
    )
    link.refresh_from_db()
    assert link.revoked_at is not None


def test_a_site_without_django_htmx_is_warned() -> None:
    from django.apps import apps

    from django_mlops.checks import check_website_apps

    assert check_website_apps() == []
    configs = [c.name for c in apps.get_app_configs() if c.name != "django_htmx"]
    with override_settings(INSTALLED_APPS=configs):
        messages = check_website_apps()
    assert [m.id for m in messages] == ["django_mlops.W020"]
