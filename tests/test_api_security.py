"""The API's defences: authentication everywhere, CSRF for sessions, bodies, traversal."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from django_mlops.models import Run
from tests import api_pipelines
from tests.conftest import API

JSON = "application/json"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]


def _every_operation(run_id: int) -> list[tuple[str, str]]:
    """(method, url) of every operation in the OpenAPI document, with real ids and names."""
    from django_mlops.api.site import api

    schema = api.get_openapi_schema(path_prefix="")
    values = {
        "run_id": str(run_id),
        "name": "api_iris",
        "node": "load",
        "dataset": "frame",
        "alias": "production",
    }
    found = []
    for template, operations in schema["paths"].items():
        url = template
        for key, value in values.items():
            url = url.replace("{" + key + "}", value)
        assert "{" not in url, template
        found += [(method.upper(), API + url) for method in operations]
    return found


# --- authentication -------------------------------------------------------------------


def test_no_endpoint_answers_without_authentication() -> None:
    run = api_pipelines.api_iris.run(executor="inline")
    anonymous = Client()
    operations = _every_operation(run.pk)
    assert len(operations) >= 10
    for method, url in operations:
        response = anonymous.generic(method, url, "{}", content_type=JSON)
        assert response.status_code == 401, (method, url)
        assert response.json() == {"detail": "Unauthorized"}
    assert Run.objects.count() == 1  # nothing queued, nothing cancelled


def test_the_openapi_document_and_docs_need_a_login(reader: Client) -> None:
    assert Client().get(f"{API}/openapi.json").status_code == 401
    docs = Client().get(f"{API}/docs")
    assert docs.status_code == 302 and "login" in docs["Location"]
    assert reader.get(f"{API}/openapi.json").status_code == 200
    page = reader.get(f"{API}/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui-bundle.js" in html and "cdn" not in html.lower()  # our static files


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer nonsense",
        "Bearer mlops_",
        "Bearer mlops_12345678_",
        "Bearer mlops_1234567_abc",
        "Basic dXNlcjpwYXNz",
        "Bearer mlops_\x00\x00_x",
        "Bearer mlops_\x00\x00\x00\x00\x00\x00\x00\x00_secret",
        "Bearer mlops_ABCDEFGH_secret",
    ],
)
def test_malformed_or_unknown_tokens_are_401(header: str) -> None:
    client = Client(headers={"Authorization": header})
    assert client.get(f"{API}/runs").status_code == 401


def test_tokens_are_stored_hashed_and_shown_once(make_api_user: Any) -> None:
    import hashlib

    from django_mlops.tokens import Token, issue_token

    token, text = issue_token(make_api_user("alice", "view_run"), name="ci")
    assert text.startswith(f"mlops_{token.prefix}_") and len(text) > 40
    stored = Token.objects.values().get(pk=token.pk)
    assert stored["digest"] == hashlib.sha256(text.encode()).hexdigest()
    secret = text.rsplit("_", 1)[1]
    assert not any(secret in str(value) for value in stored.values())
    assert Client(headers={"Authorization": f"Bearer {text}"}).get(f"{API}/runs").status_code == 200
    # A token with the right prefix and a wrong secret is refused.
    forged = f"mlops_{token.prefix}_{'A' * len(secret)}"
    assert (
        Client(headers={"Authorization": f"Bearer {forged}"}).get(f"{API}/runs").status_code == 401
    )


def test_expired_revoked_and_inactive_tokens_are_refused(make_api_user: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    from django_mlops.tokens import Token, issue_token

    user = make_api_user("bob", "view_run")
    expiring, expiring_text = issue_token(user, expires_in=dt.timedelta(days=1))
    revoked, revoked_text = issue_token(user)
    inactive_user = make_api_user("carol", "view_run")
    _, inactive_text = issue_token(inactive_user)

    def status(text: str) -> int:
        return Client(headers={"Authorization": f"Bearer {text}"}).get(f"{API}/runs").status_code

    assert status(expiring_text) == 200 and status(revoked_text) == 200
    Token.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    revoked.revoke()
    User.objects.filter(pk=inactive_user.pk).update(is_active=False)
    assert status(expiring_text) == 401
    assert status(revoked_text) == 401
    assert status(inactive_text) == 401


def test_last_used_is_written_at_most_once_a_minute(make_api_user: Any) -> None:
    import datetime as dt

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from django_mlops.tokens import Token, issue_token

    token, text = issue_token(make_api_user("dave", "view_run"))
    client = Client(headers={"Authorization": f"Bearer {text}"})
    assert Token.objects.get(pk=token.pk).last_used_at is None
    client.get(f"{API}/runs")
    first = Token.objects.get(pk=token.pk).last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as queries:
        client.get(f"{API}/runs")
    assert not any("UPDATE" in q["sql"] and "token" in q["sql"] for q in queries.captured_queries)
    assert Token.objects.get(pk=token.pk).last_used_at == first
    Token.objects.filter(pk=token.pk).update(last_used_at=first - dt.timedelta(minutes=2))
    client.get(f"{API}/runs")
    assert Token.objects.get(pk=token.pk).last_used_at > first


# --- sessions and CSRF ----------------------------------------------------------------


@pytest.fixture
def session_client(make_api_user: Any) -> Client:
    """A browser logged into the site, with Django's CSRF checks enforced."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_api_user("eve", "view_run", "view_taskrun", "run_pipeline"))
    return client


def _csrf_token(client: Client) -> str:
    from django.middleware.csrf import _get_new_csrf_string

    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    return token


def test_a_session_reads_without_a_csrf_token(session_client: Client) -> None:
    assert session_client.get(f"{API}/runs").status_code == 200


def test_a_session_post_with_the_csrf_token_is_accepted(session_client: Client) -> None:
    token = _csrf_token(session_client)
    response = session_client.post(
        f"{API}/pipelines/api_iris/runs", {}, content_type=JSON, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 202
    assert Run.objects.get().created_by.username == "eve"


def test_a_session_post_without_the_csrf_token_is_refused(session_client: Client) -> None:
    response = session_client.post(f"{API}/pipelines/api_iris/runs", {}, content_type=JSON)
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert not Run.objects.exists()


def test_a_cross_site_form_post_is_refused(session_client: Client) -> None:
    """An attacker's page posting a form to us: the browser sends the session cookie."""
    _csrf_token(
        session_client
    )  # the victim's browser has a CSRF cookie; the attacker can't read it
    response = session_client.post(
        f"{API}/pipelines/api_iris/runs",
        {"params": '{"C": 9}'},
        headers={"Origin": "https://evil.example", "Referer": "https://evil.example/x"},
    )
    assert response.status_code == 403
    assert not Run.objects.exists()


def test_a_text_plain_json_post_with_a_session_is_refused(session_client: Client) -> None:
    """MLflow's CVE-2023-43472: JSON sent as text/plain needs no CORS preflight."""
    _csrf_token(session_client)
    for url in (f"{API}/pipelines/api_iris/runs", f"{API}/runs/1/cancel"):
        response = session_client.post(
            url,
            json.dumps({"params": {"C": 9}}),
            content_type="text/plain",
            headers={"Origin": "https://evil.example"},
        )
        assert response.status_code == 403, url
    assert not Run.objects.exists()


def test_text_plain_is_refused_even_with_a_csrf_token(session_client: Client) -> None:
    token = _csrf_token(session_client)
    response = session_client.post(
        f"{API}/pipelines/api_iris/runs",
        json.dumps({}),
        content_type="text/plain",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 415
    assert not Run.objects.exists()


# --- bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        (b"{not json", JSON, 400, "malformed JSON"),
        (b'{"params": {"C": NaN}}', JSON, 400, "NaN is not a JSON number"),
        (b"\xff\xfe", JSON, 400, "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, JSON, 400, "malformed JSON"),
        (b"[1, 2]", JSON, 422, ""),
        (b'"text"', JSON, 422, ""),
        (b"{}", "text/plain", 415, "must be JSON"),
        (b"params=1", "application/x-www-form-urlencoded", 415, "must be JSON"),
        (b'{"params": {"C": "a\\u0000b"}}', JSON, 422, "NUL"),
        (b'{"only": ["a\\u0000"]}', JSON, 422, ""),
        (b'{"params": {"C": "\\ud800"}}', JSON, 422, "lone surrogates"),
        (b'{"params": {"\\udfff": 1}}', JSON, 422, "lone surrogates"),
        (b'{"only": ["\\ud800"]}', JSON, 422, ""),
    ],
)
def test_bad_bodies_are_4xx_with_a_message(
    runner: Client, body: bytes, content_type: str, status: int, words: str
) -> None:
    response = runner.post(f"{API}/pipelines/api_iris/runs", body, content_type=content_type)
    assert response.status_code == status, response.content
    assert words in json.dumps(response.json())
    assert not Run.objects.exists()


def test_a_body_over_the_limit_is_refused_before_it_is_read(runner: Client) -> None:
    body = json.dumps({"params": {"C": 1.0, "pad": "x" * 2000}})
    with override_settings(MLOPS={"API_MAX_BODY_BYTES": 1000}):
        response = runner.post(f"{API}/pipelines/api_iris/runs", body, content_type=JSON)
    assert response.status_code == 413
    assert "exceeds the limit of 1000 bytes" in response.json()["detail"]
    default = runner.post(
        f"{API}/pipelines/api_iris/runs",
        json.dumps({"params": {"pad": "x" * (1024 * 1024)}}),
        content_type=JSON,
    )
    assert default.status_code == 413  # the default limit: 1 MiB
    assert not Run.objects.exists()


def test_a_body_over_djangos_own_limit_is_a_413_too(runner: Client) -> None:
    with override_settings(MLOPS={"API_MAX_BODY_BYTES": 10**7}, DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        body = json.dumps({"params": {"pad": "x" * 5000}})
        response = runner.post(f"{API}/pipelines/api_iris/runs", body, content_type=JSON)
    assert response.status_code == 413


# --- path traversal -------------------------------------------------------------------

TRAVERSALS = [
    "../secret.txt",
    "../../../../etc/passwd",
    "..%2f..%2fsecret.txt",
    "%2e%2e%2fsecret.txt",
    "..\\..\\secret.txt",
    "a#b",
    "a?b",
    "/etc/passwd",
    "..",
    ".",
]


@pytest.fixture
def outside_secret(tmp_path: Path) -> str:
    secret = "TOP-SECRET-" + os.urandom(8).hex()
    (tmp_path / "secret.txt").write_text(secret)
    return secret


@pytest.mark.parametrize("name", TRAVERSALS)
def test_traversal_in_names_is_refused(
    runner: Client, name: str, outside_secret: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path / "mlops-home")
    run = api_pipelines.api_iris.run(executor="inline")
    segment = quote(name, safe="")
    urls = [
        ("GET", f"{API}/pipelines/{segment}"),
        ("POST", f"{API}/pipelines/{segment}/runs"),
        ("GET", f"{API}/runs/{run.pk}/tasks/{segment}"),
        ("GET", f"{API}/runs/{run.pk}/outputs/{segment}"),
    ]
    for method, url in urls:
        response = runner.generic(method, url, "{}", content_type=JSON)
        assert 400 <= response.status_code < 500, (url, response.status_code)
        assert outside_secret not in response.content.decode(errors="replace")
    # As a filter, a name is refused (422) or simply matches no run.
    listed = runner.get(f"{API}/runs?pipeline={segment}")
    assert listed.status_code == 422 or listed.json()["items"] == []
    body = {"only": [name], "params": {}}
    response = runner.post(f"{API}/pipelines/api_iris/runs", body, content_type=JSON)
    assert response.status_code == 422
    assert Run.objects.count() == 1


def test_a_symlink_in_the_artifact_store_is_never_followed(
    reader: Client, tmp_mlops_home: Path, outside_secret: str, tmp_path: Path
) -> None:
    from django_mlops.artifacts import ArtifactStore

    home = {"HOME": str(tmp_mlops_home), "INLINE_ARTIFACT_MAX_BYTES": 0}
    with override_settings(MLOPS=home):
        run = api_pipelines.api_iris.run(executor="inline")
        artifact = run.tasks["load"].output_artifacts()["frame"]
        stored = Path(ArtifactStore().storage.path(artifact.storage_name))
        stored.unlink()
        stored.symlink_to(tmp_path / "secret.txt")
        for url in (f"/runs/{run.pk}/tasks/load", f"/runs/{run.pk}/outputs/frame"):
            response = reader.get(API + url)
            assert response.status_code == 200
            assert outside_secret not in response.content.decode()
        detail = reader.get(f"{API}/runs/{run.pk}/outputs/frame").json()
        assert detail["artifact"]["preview"]["kind"] == "list"  # the stored preview


def test_unsafe_methods_need_a_json_body_or_none(runner: Client) -> None:
    run = api_pipelines.api_iris.run(executor="inline")
    form = runner.post(f"{API}/runs/{run.pk}/retry", {"x": "1"})  # multipart form
    assert form.status_code == 415
    empty = runner.generic("POST", f"{API}/runs/{run.pk}/retry")
    assert empty.status_code == 202


def test_without_ninja_installed_the_docs_page_links_the_document(reader: Client) -> None:
    from django.conf import settings

    apps = [a for a in settings.INSTALLED_APPS if a != "ninja"]
    with override_settings(INSTALLED_APPS=apps):
        page = reader.get(f"{API}/docs")
    html = page.content.decode()
    assert page.status_code == 200 and f"{API}/openapi.json" in html
    assert "<script" not in html and "cdn" not in html.lower()
