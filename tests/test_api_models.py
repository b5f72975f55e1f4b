"""The ``models`` endpoints with real scikit-learn models: success, 401, 403, 404, 422 each."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from django_mlops.models import AliasChange, ModelAlias
from django_mlops.registry import model_cache
from tests import registry_pipelines as models
from tests.conftest import API

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]

MODELS = f"{API}/models"
RECORD = models.RECORD


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    model_cache.clear()
    yield
    model_cache.clear()


@pytest.fixture
def registered() -> list[int]:
    """Two versions of iris-test (real LogisticRegressions) registered by a pipeline."""
    return models.register_iris_versions()


@pytest.fixture
def viewer(make_api_user: Any, token_client: Any) -> Client:
    return token_client(make_api_user("viewer", "view_registeredmodel"))


@pytest.fixture
def promoter(make_api_user: Any, token_client: Any) -> Client:
    return token_client(make_api_user("promoter", "view_registeredmodel", "promote_model"))


@pytest.fixture
def predictor(make_api_user: Any, token_client: Any) -> Client:
    return token_client(make_api_user("predictor", "predict"))


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, body, content_type="application/json")


def promote(name: str = "iris-test", alias: str = "production", version: int = 1) -> None:
    from django_mlops.registry import set_alias

    set_alias(name, alias, version)


# -- reading ----------------------------------------------------------------


def test_list_models_with_versions_and_aliases(viewer: Client, registered: list[int]) -> None:
    models.forest_models.run(executor="inline")
    promote(version=2)
    response = viewer.get(MODELS)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2 and body["next_page"] is None
    by_name = {item["name"]: item for item in body["items"]}
    assert [item["name"] for item in body["items"]] == ["iris-forest", "iris-test"]
    assert by_name["iris-test"]["version_count"] == 2
    assert by_name["iris-test"]["latest_version"] == 2
    assert by_name["iris-test"]["aliases"] == {"production": 2}
    assert by_name["iris-forest"]["aliases"] == {}
    paged = viewer.get(MODELS, {"page_size": 1, "page": 2}).json()
    assert [item["name"] for item in paged["items"]] == ["iris-test"]
    assert paged["previous_page"] == 1


def test_get_model_summarises_versions_and_aliases(viewer: Client, registered: list[int]) -> None:
    promote(alias="staging", version=1)
    response = viewer.get(f"{MODELS}/iris-test")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["aliases"] == {"staging": 1}
    assert body["alias_details"][0]["name"] == "staging"
    assert body["alias_details"][0]["updated_by"] is None  # moved without a user
    assert [v["version"] for v in body["versions"]] == [2, 1]
    assert [v["run"] for v in body["versions"]] == registered[::-1]
    assert body["versions"][0]["metrics"]["accuracy"] > 0.5


def test_versions_carry_hash_signature_and_lineage(viewer: Client, registered: list[int]) -> None:
    promote(version=1)
    response = viewer.get(f"{MODELS}/iris-test/versions")
    assert response.status_code == 200, response.content
    items = response.json()["items"]
    assert [item["version"] for item in items] == [2, 1]
    first = items[1]
    assert first["run"] == registered[0] and first["node"] == "register"
    assert len(first["sha256"]) == 64 and first["sha256"] != items[0]["sha256"]
    assert [c["name"] for c in first["signature"]["columns"]] == models.FEATURES
    assert first["libraries"]["scikit-learn"]
    assert first["aliases"] == ["production"] and items[0]["aliases"] == []
    assert first["metrics"]["accuracy"] > 0.5


@pytest.mark.parametrize("path", ["", "/iris-test", "/iris-test/versions"])
def test_reading_needs_login_and_view_permission(
    path: str, registered: list[int], predictor: Client
) -> None:
    assert Client().get(f"{MODELS}{path}").status_code == 401
    refused = predictor.get(f"{MODELS}{path}")
    assert refused.status_code == 403
    assert "view_registeredmodel" in refused.json()["detail"]


@pytest.mark.parametrize("path", ["/nope", "/nope/versions"])
def test_unknown_model_is_404(path: str, viewer: Client) -> None:
    response = viewer.get(f"{MODELS}{path}")
    assert response.status_code == 404
    assert "no registered model named 'nope'" in response.json()["detail"]


def test_bad_page_is_422(viewer: Client, registered: list[int]) -> None:
    for path in ("", "/iris-test/versions"):
        response = viewer.get(f"{MODELS}{path}", {"page": 0})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "page"]


# -- promoting ----------------------------------------------------------------


def test_promote_moves_the_alias_with_an_audit_row(promoter: Client, registered: list[int]) -> None:
    url = f"{MODELS}/iris-test/aliases/production"
    response = post(promoter, url, {"version": 1, "comment": "first release"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["alias"]["version"] == 1 and body["alias"]["updated_by"] == "promoter"
    assert body["changed"] is True
    change = body["change"]
    assert change["from_version"] is None and change["to_version"] == 1
    assert change["user"] == "promoter" and change["comment"] == "first release"
    moved = post(promoter, url, {"version": 2}).json()
    assert moved["change"]["from_version"] == 1 and moved["change"]["to_version"] == 2
    same = post(promoter, url, {"version": 2}).json()
    assert same["changed"] is False and same["change"]["id"] == moved["change"]["id"]
    assert AliasChange.objects.count() == 2
    assert ModelAlias.objects.get().version.version == 2


def test_promote_needs_login_and_permission(viewer: Client, registered: list[int]) -> None:
    url = f"{MODELS}/iris-test/aliases/production"
    assert post(Client(), url, {"version": 1}).status_code == 401
    refused = post(viewer, url, {"version": 1})
    assert refused.status_code == 403
    assert "promote_model" in refused.json()["detail"]
    assert not ModelAlias.objects.exists() and not AliasChange.objects.exists()


def test_promote_unknown_model_or_version_is_404(promoter: Client, registered: list[int]) -> None:
    unknown_model = post(promoter, f"{MODELS}/nope/aliases/production", {"version": 1})
    assert unknown_model.status_code == 404
    unknown_version = post(promoter, f"{MODELS}/iris-test/aliases/production", {"version": 9})
    assert unknown_version.status_code == 404
    assert "has no version 9" in unknown_version.json()["detail"]
    assert not AliasChange.objects.exists()


@pytest.mark.parametrize(
    ("alias", "body", "loc"),
    [
        ("production", {}, ["body", "version"]),
        ("production", {"version": 0}, ["body", "version"]),
        ("production", {"version": "one"}, ["body", "version"]),
        ("production", {"version": 1, "other": 1}, ["body", "other"]),
        ("production", {"version": 1, "comment": "a\x00b"}, ["body", "comment"]),
        ("123", {"version": 1}, ["path", "alias"]),
    ],
)
def test_promote_refuses_bad_fields_with_422(
    promoter: Client, registered: list[int], alias: str, body: Any, loc: list[Any]
) -> None:
    response = post(promoter, f"{MODELS}/iris-test/aliases/{alias}", body)
    assert response.status_code == 422, response.content
    assert [entry["loc"] for entry in response.json()["detail"]] == [loc]


# -- predicting ----------------------------------------------------------------


def test_predict_with_the_production_alias(predictor: Client, registered: list[int]) -> None:
    promote(version=2)
    response = post(predictor, f"{MODELS}/iris-test/predict", {"inputs": [RECORD, RECORD]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["model"] == "iris-test" and body["version"] == 2
    expected = models.fit_logistic(models.iris_frame(), 0.1).predict(
        models.features(models.iris_frame()).head(1)
    )
    assert body["predictions"] == [int(expected[0])] * 2
    assert body["probabilities"] is None


def test_predict_by_version_or_alias_with_probabilities(
    predictor: Client, registered: list[int]
) -> None:
    promote(alias="staging", version=1)
    url = f"{MODELS}/iris-test/predict"
    by_version = post(predictor, f"{url}?version=2", {"inputs": [RECORD], "proba": True}).json()
    assert by_version["version"] == 2
    (row,) = by_version["probabilities"]
    assert set(row) == {"0", "1", "2"} and sum(row.values()) == pytest.approx(1.0)
    by_alias = post(predictor, f"{url}?alias=staging", {"inputs": [RECORD]}).json()
    assert by_alias["version"] == 1


def test_predict_needs_login_and_permission(viewer: Client, registered: list[int]) -> None:
    promote()
    url = f"{MODELS}/iris-test/predict"
    assert post(Client(), url, {"inputs": [RECORD]}).status_code == 401
    refused = post(viewer, url, {"inputs": [RECORD]})
    assert refused.status_code == 403 and "django_mlops.predict" in refused.json()["detail"]


def test_predict_unknown_model_alias_or_version_is_404(
    predictor: Client, registered: list[int]
) -> None:
    body = {"inputs": [RECORD]}
    no_model = post(predictor, f"{MODELS}/nope/predict", body)
    assert no_model.status_code == 404 and "nope" in no_model.json()["detail"]
    no_alias = post(predictor, f"{MODELS}/iris-test/predict", body)  # production not set
    assert no_alias.status_code == 404
    assert "has no alias 'production'" in no_alias.json()["detail"]
    no_version = post(predictor, f"{MODELS}/iris-test/predict?version=7", body)
    assert no_version.status_code == 404 and "version 7" in no_version.json()["detail"]


def test_predict_signature_problems_are_per_field_422(
    predictor: Client, registered: list[int]
) -> None:
    promote()
    missing = {k: v for k, v in RECORD.items() if k != "petal width (cm)"}
    extra = {**RECORD, "colour": "blue"}
    mistyped = {**RECORD, "sepal length (cm)": "long"}
    inputs = [RECORD, missing, extra, mistyped]
    response = post(predictor, f"{MODELS}/iris-test/predict", {"inputs": inputs})
    assert response.status_code == 422, response.content
    detail = response.json()["detail"]
    by_loc = {tuple(entry["loc"]): entry for entry in detail}
    assert set(by_loc) == {
        ("body", "inputs", 1, "petal width (cm)"),
        ("body", "inputs", 2, "colour"),
        ("body", "inputs", 3, "sepal length (cm)"),
    }
    assert by_loc[("body", "inputs", 1, "petal width (cm)")]["type"] == "missing"
    assert by_loc[("body", "inputs", 2, "colour")]["type"] == "extra"
    assert all(entry["msg"] for entry in detail)


@pytest.mark.parametrize(
    ("query", "body", "loc"),
    [
        ("", {}, ["body", "inputs"]),
        ("", {"inputs": {"a": 1}}, ["body", "inputs"]),
        ("", {"inputs": [RECORD], "extra": 1}, ["body", "extra"]),
        ("", {"inputs": [RECORD], "proba": "maybe"}, ["body", "proba"]),
        ("", {"inputs": [1]}, ["body", "inputs", 0]),
        ("?version=0", {"inputs": [RECORD]}, ["query", "version"]),
        ("?alias=9", {"inputs": [RECORD]}, ["query", "alias"]),
    ],
)
def test_predict_refuses_bad_requests_with_422(
    predictor: Client, registered: list[int], query: str, body: Any, loc: list[Any]
) -> None:
    promote()
    response = post(predictor, f"{MODELS}/iris-test/predict{query}", body)
    assert response.status_code == 422, response.content
    assert [entry["loc"] for entry in response.json()["detail"]] == [loc]


def test_predict_with_alias_and_version_pins_the_version(
    predictor: Client, registered: list[int]
) -> None:
    promote()
    url = f"{MODELS}/iris-test/predict?alias=production"
    agreed = post(predictor, f"{url}&version=1", {"inputs": [RECORD]})
    assert agreed.status_code == 200 and agreed.json()["version"] == 1
    moved_on = post(predictor, f"{url}&version=2", {"inputs": [RECORD]})
    assert moved_on.status_code == 404
    assert "names version 1, not 2" in moved_on.json()["detail"]


def test_proba_of_a_regressor_is_422(predictor: Client) -> None:
    run = models.array_models.run(executor="inline")
    assert run.status == "succeeded", run.error
    promote(name="array-ridge")
    url = f"{MODELS}/array-ridge/predict"
    answered = post(predictor, url, {"inputs": [[1.0, 0.0, 0.0]]})
    assert answered.status_code == 200, answered.content
    assert answered.json()["predictions"][0] == pytest.approx(1.1, abs=0.1)
    response = post(predictor, url, {"inputs": [[1.0, 0.0, 0.0]], "proba": True})
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"] == ["body", "proba"]
    short = post(predictor, url, {"inputs": [[1.0, 0.0]]})
    assert short.status_code == 422
    assert short.json()["detail"][0]["loc"] == ["body", "inputs", 0]


def test_batch_size_cap(predictor: Client, registered: list[int], settings: Any) -> None:
    promote()
    settings.MLOPS = {**settings.MLOPS, "PREDICT_MAX_ROWS": 3}
    url = f"{MODELS}/iris-test/predict"
    assert post(predictor, url, {"inputs": [RECORD] * 3}).status_code == 200
    response = post(predictor, url, {"inputs": [RECORD] * 4})
    assert response.status_code == 422
    (entry,) = response.json()["detail"]
    assert entry["loc"] == ["body", "inputs"] and "PREDICT_MAX_ROWS" in entry["msg"]
    settings.MLOPS = {**settings.MLOPS, "API_MAX_BODY_BYTES": 200}
    too_big = post(predictor, url, {"inputs": [RECORD] * 3})
    assert too_big.status_code == 413


def test_predict_max_rows_system_check(settings: Any) -> None:
    from django_mlops.checks import check_settings

    settings.MLOPS = {**settings.MLOPS, "PREDICT_MAX_ROWS": 0}
    assert "django_mlops.E033" in [message.id for message in check_settings()]
    settings.MLOPS = {**settings.MLOPS, "PREDICT_MAX_ROWS": 5}
    assert "django_mlops.E033" not in [message.id for message in check_settings()]


def test_a_tampered_artifact_is_409_not_500(predictor: Client, settings: Any) -> None:
    from pathlib import Path

    from django_mlops.artifacts import ArtifactStore
    from django_mlops.registry import get_version

    settings.MLOPS = {**settings.MLOPS, "INLINE_ARTIFACT_MAX_BYTES": 0}  # stored as a file
    models.iris_models.run(executor="inline")
    promote()
    artifact = get_version("iris-test").artifact
    path = Path(ArtifactStore().storage.path(artifact.storage_name))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    path.write_bytes(bytes(data))
    response = post(predictor, f"{MODELS}/iris-test/predict", {"inputs": [RECORD]})
    assert response.status_code == 409, response.content
    assert "refused" in response.json()["detail"]
