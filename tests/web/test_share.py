"""Signed stakeholder links: no login, nothing but the picture and states, listable, revocable."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from django_mlops.models import Run, ShareLink

pytestmark = pytest.mark.django_db


def _new_link(sharer: Client, pipeline: str = "web_fail") -> tuple[ShareLink, str]:
    response = sharer.post(f"/mlops/pipelines/{pipeline}/share/", {"label": "risk team"})
    assert response.status_code == 302
    link = ShareLink.objects.get(label="risk team")
    listing = sharer.get(f"/mlops/pipelines/{pipeline}/share/").content.decode()
    url = re.search(r'value="(http://testserver/mlops/share/[^"]+/)"', listing)
    assert url is not None
    return link, url.group(1).removeprefix("http://testserver")


def test_a_link_shows_the_picture_and_states_without_login(failed_run: Run, sharer: Client) -> None:
    link, url = _new_link(sharer)
    assert url.startswith(f"/mlops/share/{link.token}:")  # the token travels signed
    page = Client().get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="node-explode"' in html and "state-failed" in html
    assert "Add them up, badly." in html  # descriptions
    assert page["Referrer-Policy"] == "no-referrer"
    # No data, logs, params or errors.
    for secret in ["about to fail", "over the limit", "limit=3", "Traceback", "/mlops/runs/"]:
        assert secret not in html, secret
    picture = Client().get(url + "picture.svg")
    assert picture.status_code == 200 and b"state-failed" in picture.content


def test_a_link_opens_nothing_else(failed_run: Run, sharer: Client) -> None:
    _, url = _new_link(sharer)
    anonymous = Client()
    anonymous.get(url)
    assert anonymous.get(f"/mlops/runs/{failed_run.pk}/").status_code == 302
    assert anonymous.get("/mlops/pipelines/web_fail/").status_code == 302


def test_a_forged_or_altered_link_is_404(failed_run: Run, sharer: Client) -> None:
    link, url = _new_link(sharer)
    signed = url.split("/")[3]
    assert Client().get(f"/mlops/share/{link.token}/").status_code == 404  # unsigned
    assert Client().get(f"/mlops/share/{signed[:-2]}xx/").status_code == 404
    other = ShareLink.objects.create(pipeline="web_demo", token="guessed-token-123")
    assert Client().get(f"/mlops/share/{other.token}:abc/").status_code == 404


def test_links_are_listed_and_revoked(failed_run: Run, sharer: Client) -> None:
    link, url = _new_link(sharer)
    listing = sharer.get("/mlops/pipelines/web_fail/share/").content.decode()
    assert "risk team" in listing and "active" in listing
    response = sharer.post(f"/mlops/share/{link.pk}/revoke/")
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert Client().get(url).status_code == 404
    assert Client().get(url + "picture.svg").status_code == 404
    listing = sharer.get("/mlops/pipelines/web_fail/share/").content.decode()
    assert "revoked" in listing and url not in listing


def test_revoking_needs_post(failed_run: Run, sharer: Client) -> None:
    link, _ = _new_link(sharer)
    assert sharer.get(f"/mlops/share/{link.pk}/revoke/").status_code == 405
    link.refresh_from_db()
    assert link.active
