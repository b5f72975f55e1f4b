"""The predict endpoint on both APIs: django-ninja (``api/``) and DRF (``drf/``) answer alike.

Real scikit-learn models registered by a pipeline; every refused request is
sent to both URLs and must give the same status and the same JSON body.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from django_mlops.registry import model_cache, set_alias
from tests import registry_pipelines as models
from tests.conftest import API

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]

NINJA = f"{API}/models"
DRF = "/mlops/drf/models"
BOTH = pytest.mark.parametrize("base", [NINJA, DRF], ids=["ninja", "drf"])
RECORD = models.RECORD


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    model_cache.clear()
    yield
    model_cache.clear()


@pytest.fixture
def registered() -> None:
    """iris-test versions 1 (C=1) and 2 (C=0.1), production → 1."""
    models.register_iris_versions()
    set_alias("iris-test", "production", 1)


@pytest.fixture
def predictor(make_api_user: Any, token_client: Any) -> Client:
    return token_client(make_api_user("predictor", "predict"))


def post(client: Client, url: str, body: Any, **extra: Any) -> Any:
    return client.post(url, body, content_type="application/json", **extra)


def both(client: Client, path: str, body: Any, **extra: Any) -> tuple[Any, Any]:
    """The answers of the ninja and the DRF endpoint to the same request."""
    return post(client, f"{NINJA}/{path}", body, **extra), post(
        client, f"{DRF}/{path}", body, **extra
    )


def assert_same(ninja: Any, drf: Any, status: int) -> Any:
    assert ninja.status_code == status, ninja.content
    assert drf.status_code == status, drf.content
    assert drf.json() == ninja.json()
    return drf.json()


# -- success ----------------------------------------------------------------------


def test_drf_predicts_with_a_real_model_as_ninja_does(predictor: Client, registered: None) -> None:
    ninja, drf = both(predictor, "iris-test/predict", {"inputs": [RECORD, RECORD]})
    body = assert_same(ninja, drf, 200)
    expected = models.fit_logistic(models.iris_frame(), 1.0).predict(
        models.features(models.iris_frame()).head(1)
    )
    assert body == {
        "model": "iris-test",
        "version": 1,
        "predictions": [int(expected[0])] * 2,
        "probabilities": None,
    }


@pytest.mark.parametrize(
    ("query", "version"),
    [("", 1), ("?version=2", 2), ("?alias=staging", 2), ("?alias=production&version=1", 1)],
)
def test_alias_and_version_choose_the_version(
    predictor: Client, registered: None, query: str, version: int
) -> None:
    set_alias("iris-test", "staging", 2)
    ninja, drf = both(predictor, f"iris-test/predict{query}", {"inputs": [RECORD]})
    assert assert_same(ninja, drf, 200)["version"] == version


def test_proba_gives_class_probabilities(predictor: Client, registered: None) -> None:
    ninja, drf = both(predictor, "iris-test/predict?version=2", {"inputs": [RECORD], "proba": True})
    (row,) = assert_same(ninja, drf, 200)["probabilities"]
    assert set(row) == {"0", "1", "2"} and sum(row.values()) == pytest.approx(1.0)
    model = models.fit_logistic(models.iris_frame(), 0.1)
    frame = models.features(models.iris_frame()).head(1)
    assert row["0"] == pytest.approx(float(model.predict_proba(frame)[0][0]))


# -- refused requests: identical bodies -----------------------------------------------

MISSING = {k: v for k, v in RECORD.items() if k != "petal width (cm)"}


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("", {}),
        ("", {"inputs": {"a": 1}}),
        ("", {"inputs": "rows"}),
        ("", {"inputs": []}),
        ("", {"inputs": [RECORD], "extra": 1}),
        ("", {"inputs": [RECORD], "proba": "maybe"}),
        ("", {"inputs": [1]}),
        ("", {"inputs": [MISSING]}),
        ("", {"inputs": [{**RECORD, "colour": "blue"}]}),
        ("", {"inputs": [{**RECORD, "sepal length (cm)": "long"}]}),
        ("", {"inputs": [{**RECORD, "sepal length (cm)": None}]}),
        (
            "",
            {
                "inputs": [
                    RECORD,
                    MISSING,
                    {**RECORD, "x": 1},
                    {**RECORD, "petal length (cm)": True},
                ]
            },
        ),
        ("", [RECORD]),
        ("", '"inputs"'),  # a JSON string, not an object
        ("?version=0", {"inputs": [RECORD]}),
        ("?version=abc", {"inputs": [RECORD]}),
        ("?alias=9", {"inputs": [RECORD]}),
        ("?alias=9&version=-1", {"extra": 1}),
    ],
)
def test_every_refused_field_reads_the_same_on_both(
    predictor: Client, registered: None, query: str, body: Any
) -> None:
    ninja, drf = both(predictor, f"iris-test/predict{query}", body)
    detail = assert_same(ninja, drf, 422)["detail"]
    assert detail and all(entry["loc"] and entry["msg"] for entry in detail)


def test_an_empty_body_reads_the_same(predictor: Client, registered: None) -> None:
    ninja = predictor.post(f"{NINJA}/iris-test/predict", content_type="application/json")
    drf = predictor.post(f"{DRF}/iris-test/predict", content_type="application/json")
    assert_same(ninja, drf, 422)


def test_proba_of_a_regressor_and_a_wrong_shape(predictor: Client) -> None:
    run = models.array_models.run(executor="inline")
    assert run.status == "succeeded", run.error
    set_alias("array-ridge", "production", 1)
    ninja, drf = both(
        predictor, "array-ridge/predict", {"inputs": [[1.0, 0.0, 0.0]], "proba": True}
    )
    assert assert_same(ninja, drf, 422)["detail"][0]["loc"] == ["body", "proba"]
    ninja, drf = both(predictor, "array-ridge/predict", {"inputs": [[1.0, 0.0], [1, 2, "x"]]})
    assert len(assert_same(ninja, drf, 422)["detail"]) == 2
    ninja, drf = both(predictor, "array-ridge/predict", {"inputs": [[1.0, 0.0, 0.0]]})
    assert assert_same(ninja, drf, 200)["predictions"][0] == pytest.approx(1.1, abs=0.1)


def test_the_row_cap_reads_the_same(predictor: Client, registered: None, settings: Any) -> None:
    settings.MLOPS = {**settings.MLOPS, "PREDICT_MAX_ROWS": 2}
    ninja, drf = both(predictor, "iris-test/predict", {"inputs": [RECORD] * 3})
    (entry,) = assert_same(ninja, drf, 422)["detail"]
    assert entry["loc"] == ["body", "inputs"] and "PREDICT_MAX_ROWS" in entry["msg"]


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("nope/predict", "nope"),
        ("iris-test/predict?alias=staging", "has no alias 'staging'"),
        ("iris-test/predict?version=7", "version 7"),
        ("iris-test/predict?alias=production&version=2", "names version 1, not 2"),
    ],
)
def test_unknown_model_alias_or_version_is_404_on_both(
    predictor: Client, registered: None, path: str, fragment: str
) -> None:
    ninja, drf = both(predictor, path, {"inputs": [RECORD]})
    assert fragment in assert_same(ninja, drf, 404)["detail"]


@BOTH
def test_bodies_are_checked_before_fields(
    base: str, predictor: Client, registered: None, settings: Any
) -> None:
    url = f"{base}/iris-test/predict"
    assert predictor.post(url, "{", content_type="application/json").status_code == 400
    assert predictor.post(url, "inputs=1", content_type="text/plain").status_code == 415
    settings.MLOPS = {**settings.MLOPS, "API_MAX_BODY_BYTES": 50}
    too_big = post(predictor, url, {"inputs": [RECORD] * 3})
    assert too_big.status_code == 413 and "exceeds the limit" in too_big.json()["detail"]


def test_a_tampered_artifact_is_409_on_both(predictor: Client, settings: Any) -> None:
    from django_mlops.artifacts import ArtifactStore
    from django_mlops.registry import get_version

    settings.MLOPS = {**settings.MLOPS, "INLINE_ARTIFACT_MAX_BYTES": 0}  # stored as a file
    models.iris_models.run(executor="inline")
    set_alias("iris-test", "production", 1)
    artifact = get_version("iris-test").artifact
    path = Path(ArtifactStore().storage.path(artifact.storage_name))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    ninja, drf = both(predictor, "iris-test/predict", {"inputs": [RECORD]})
    assert "refused" in assert_same(ninja, drf, 409)["detail"]


# -- who may call it -----------------------------------------------------------------


@BOTH
def test_without_credentials_is_401(base: str, registered: None) -> None:
    response = post(Client(), f"{base}/iris-test/predict", {"inputs": [RECORD]})
    assert response.status_code == 401, response.content


@BOTH
def test_a_bad_token_is_401(base: str, registered: None) -> None:
    bad = Client(HTTP_AUTHORIZATION="Bearer mlops_nothing_here")
    assert post(bad, f"{base}/iris-test/predict", {"inputs": [RECORD]}).status_code == 401


def test_drf_401_asks_for_a_bearer_token(registered: None) -> None:
    response = post(Client(), f"{DRF}/iris-test/predict", {"inputs": [RECORD]})
    assert response["WWW-Authenticate"].startswith("Bearer")


@BOTH
def test_without_the_predict_permission_is_403(
    base: str, registered: None, make_api_user: Any, token_client: Any
) -> None:
    viewer = token_client(make_api_user("viewer", "view_registeredmodel"))
    refused = post(viewer, f"{base}/iris-test/predict", {"inputs": [RECORD]})
    assert refused.status_code == 403 and "django_mlops.predict" in refused.json()["detail"]


def _session(make_api_user: Any, *perms: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_api_user("alice", *perms))
    return client


def _with_csrf(client: Client) -> dict[str, str]:
    from django.middleware.csrf import _get_new_csrf_string

    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    return {"HTTP_X_CSRFTOKEN": token}


@BOTH
def test_a_session_needs_the_csrf_token(base: str, registered: None, make_api_user: Any) -> None:
    client = _session(make_api_user, "predict")
    url = f"{base}/iris-test/predict"
    assert post(client, url, {"inputs": [RECORD]}).status_code == 403
    accepted = post(client, url, {"inputs": [RECORD]}, **_with_csrf(client))
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["version"] == 1


# -- the browsable API -----------------------------------------------------------------


def test_the_browsable_api_renders_for_a_logged_in_browser(
    registered: None, make_api_user: Any
) -> None:
    client = _session(make_api_user, "predict")
    page = client.get(f"{DRF}/iris-test/predict?version=2", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "Predict" in html and "sepal length (cm)" in html
    assert "/static/rest_framework/" in html  # its assets from the installed app, no CDN


def test_get_describes_the_version_with_an_example_body(
    predictor: Client, registered: None
) -> None:
    body = predictor.get(f"{DRF}/iris-test/predict").json()
    assert body["model"] == "iris-test" and body["version"] == 1
    assert body["signature"]["kind"] == "dataframe"
    assert body["example"] == {"inputs": [dict.fromkeys(models.FEATURES, 0.0)]}
    answered = post(predictor, f"{DRF}/iris-test/predict", body["example"])
    assert answered.status_code == 200, answered.content


def test_get_needs_the_permission_too(registered: None, make_api_user: Any) -> None:
    assert Client().get(f"{DRF}/iris-test/predict").status_code == 401
    client = _session(make_api_user, "view_registeredmodel")
    assert client.get(f"{DRF}/iris-test/predict").status_code == 403


def test_without_rest_framework_installed_it_answers_json_and_warns(
    predictor: Client, registered: None, settings: Any
) -> None:
    from django_mlops.checks import check_drf_browsable_api

    assert check_drf_browsable_api() == []
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "rest_framework"]
    (warning,) = check_drf_browsable_api()
    assert warning.id == "django_mlops.W022" and "rest_framework" in (warning.hint or "")
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    answered = post(
        predictor, f"{DRF}/iris-test/predict", {"inputs": [RECORD]}, HTTP_ACCEPT=browser
    )
    assert answered.status_code == 200 and answered["Content-Type"] == "application/json"
    assert answered.json()["version"] == 1
