"""The models pages: list, a model's page, Promote, try-it and curl, with their permissions."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from django_mlops.models import AliasChange, ModelAlias
from django_mlops.registry import model_cache, set_alias
from tests import registry_pipelines as models
from tests.web.conftest import make_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tmp_mlops_home")]

PAGE = "/mlops/models/iris-test/"
RECORD = models.RECORD


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    model_cache.clear()
    yield
    model_cache.clear()


@pytest.fixture
def registered() -> list[int]:
    """iris-test v1 (C=1) and v2 (C=0.1), production → v1; the runs' ids."""
    ids = models.register_iris_versions()
    set_alias("iris-test", "production", 1)
    return ids


@pytest.fixture
def reader() -> Client:
    return make_client("reader", "view_registeredmodel")


@pytest.fixture
def promoter() -> Client:
    return make_client("promoter", "view_registeredmodel", "promote_model")


@pytest.fixture
def predictor() -> Client:
    return make_client("predictor", "view_registeredmodel", "predict")


def _form(record: dict[str, Any], **extra: str) -> dict[str, Any]:
    values = {
        f"in-{i}": str(record[name]) for i, name in enumerate(models.FEATURES) if name in record
    }
    return {"target": "alias:production", **values, **extra}


# -- pages and permissions ----------------------------------------------------------


def test_the_list_shows_latest_version_aliases_and_update(
    reader: Client, registered: list[int]
) -> None:
    page = reader.get("/mlops/models/").content.decode()
    assert f'href="{PAGE}"' in page and "test" in page  # name and description
    assert "v2" in page and "of 2" in page
    assert "production → v1" in page
    assert 'aria-current="page">Models' in page


def test_the_model_page_shows_versions_with_lineage(reader: Client, registered: list[int]) -> None:
    from django_mlops.models import ModelVersion

    page = reader.get(PAGE).content.decode()
    first, second = ModelVersion.objects.filter(model__name="iris-test").order_by("version")
    for version, run_id in ((first, registered[0]), (second, registered[1])):
        assert f'id="v{version.version}"' in page
        assert version.sha256 in page
        assert f'href="/mlops/runs/{run_id}/"' in page
        assert f'href="/mlops/runs/{run_id}/?node=register"' in page
    assert "accuracy=" in page and "scikit-learn" in page
    assert "sepal length (cm)" in page and "float64" in page
    assert "LogisticRegression" in page


@pytest.mark.parametrize("url", ["/mlops/models/", PAGE])
def test_pages_need_login_and_the_view_permission(url: str, registered: list[int]) -> None:
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/mlops/login/" in anonymous["Location"]
    assert make_client("nobody").get(url).status_code == 403
    assert make_client("runs-only", "view_run").get(url).status_code == 403


def test_an_unknown_model_is_404(reader: Client) -> None:
    assert reader.get("/mlops/models/nope/").status_code == 404


def test_without_promote_or_predict_no_forms_and_posting_is_403(
    reader: Client, registered: list[int]
) -> None:
    page = reader.get(PAGE).content.decode()
    assert "mlops/models/iris-test/promote/" not in page
    assert "mlops/models/iris-test/predict/" not in page
    assert "needs the permission <code>django_mlops.predict</code>" in page
    promote = reader.post(f"{PAGE}promote/", {"alias": "production", "version": "2"})
    assert promote.status_code == 403
    assert ModelAlias.objects.get(name="production").version.version == 1
    assert reader.post(f"{PAGE}predict/", _form(RECORD)).status_code == 403
    assert Client().post(f"{PAGE}predict/", _form(RECORD)).status_code == 302


def test_reading_the_pages_is_a_fixed_number_of_queries(
    reader: Client, registered: list[int]
) -> None:
    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert reader.get(url).status_code == 200
        return len(queries)

    before = {url: count(url) for url in ("/mlops/models/", PAGE)}
    for _ in range(3):  # more versions, aliases, audit rows and models
        models.iris_models.run(executor="inline", params={"C": 0.01 + _})
    models.forest_models.run(executor="inline")
    set_alias("iris-test", "staging", 3, comment="try")
    set_alias("iris-test", "production", 2)
    set_alias("iris-forest", "production", 1)
    after = {url: count(url) for url in ("/mlops/models/", PAGE)}
    assert after == before, (before, after)
    assert before[PAGE] <= 9, before


# -- Promote ---------------------------------------------------------------------------


def test_promote_moves_the_alias_with_the_comment_in_the_trail(
    promoter: Client, registered: list[int]
) -> None:
    response = promoter.post(
        f"{PAGE}promote/", {"alias": "production", "version": "2", "comment": "better on May"}
    )
    assert response.status_code == 302 and response["Location"].endswith("#aliases")
    change = AliasChange.objects.filter(alias="production").order_by("-id").first()
    assert change is not None
    assert (change.from_number, change.to_number, change.comment) == (1, 2, "better on May")
    assert change.user is not None and change.user.get_username() == "promoter"
    page = promoter.get(PAGE).content.decode()
    assert "production now points at version 2." in page
    assert "better on May" in page and "promoter" in page


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"alias": "9", "version": "2"}, "alias"),
        ({"alias": "", "version": "2"}, "alias"),
        ({"alias": "production", "version": "x"}, "version"),
        ({"alias": "production", "version": "7"}, "version"),
        ({"alias": "production", "version": "2", "comment": "a\x00b"}, "comment"),
    ],
)
def test_promote_refuses_bad_fields_inline(
    promoter: Client, registered: list[int], data: dict[str, str], field: str
) -> None:
    response = promoter.post(f"{PAGE}promote/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="promote-{field}-error"' in page
    assert ModelAlias.objects.get(name="production").version.version == 1


# -- try it -------------------------------------------------------------------------------


def test_the_try_it_form_has_one_typed_input_per_column(
    predictor: Client, registered: list[int]
) -> None:
    page = predictor.get(PAGE).content.decode()
    for index, name in enumerate(models.FEATURES):
        assert f'<label for="try-{index}">{name} <span class="type">float64</span>' in page
        assert f'<input type="number" step="any" name="in-{index}"' in page
    assert '<option value="alias:production" selected>' in page


def test_try_it_predicts_with_probabilities(predictor: Client, registered: list[int]) -> None:
    response = predictor.post(f"{PAGE}predict/", _form(RECORD, proba="on"))
    assert response.status_code == 200, response.content
    page = response.content.decode()
    expected = models.fit_logistic(models.iris_frame(), 1.0).predict(
        models.features(models.iris_frame()).head(1)
    )
    assert f'<code class="prediction">{int(expected[0])}</code>' in page
    assert "by version 1" in page and "Probability" in page
    assert 'value="5.1"' in page  # the form keeps what was typed


def test_try_it_shows_field_errors_inline(predictor: Client, registered: list[int]) -> None:
    missing = {k: v for k, v in RECORD.items() if k != "petal width (cm)"}
    response = predictor.post(f"{PAGE}predict/", _form({**missing, "sepal length (cm)": "long"}))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="try-error-3" role="alert">field required' in page
    assert 'id="try-error-0" role="alert">expected a number, got string' in page
    assert 'class="prediction"' not in page


def test_the_target_query_chooses_the_version_the_form_is_for(
    predictor: Client, registered: list[int]
) -> None:
    page = predictor.get(f"{PAGE}?target=version:2").content.decode()
    assert '<option value="version:2" selected>' in page
    assert "/mlops/api/models/iris-test/predict?version=2" in page
    unknown = predictor.get(f"{PAGE}?target=version:9")
    assert unknown.status_code == 200 and "version:9 names no version" in unknown.content.decode()


def test_try_it_for_a_chosen_version_and_a_bad_target(
    predictor: Client, registered: list[int]
) -> None:
    by_version = predictor.post(f"{PAGE}predict/", _form(RECORD, target="version:2"))
    assert by_version.status_code == 200 and "by version 2" in by_version.content.decode()
    for target in ("alias:nope", "version:9", "rubbish", "alias:../x"):
        refused = predictor.post(f"{PAGE}predict/", _form(RECORD, target=target))
        assert refused.status_code == 400, target
        assert "names no version" in refused.content.decode() or "no version answers" in (
            refused.content.decode()
        )


def test_an_array_model_gets_a_json_textarea(make_api_user: Any) -> None:
    run = models.array_models.run(executor="inline")
    assert run.status == "succeeded", run.error
    client = make_client("arrays", "view_registeredmodel", "predict")
    page = client.get("/mlops/models/array-ridge/").content.decode()
    assert '<textarea name="in-0"' in page and "[[0.0, 0.0, 0.0]]" in page
    answered = client.post(
        "/mlops/models/array-ridge/predict/", {"target": "version:1", "in-0": "[[1, 0, 0]]"}
    )
    assert answered.status_code == 200
    (value,) = re.findall(r'class="prediction">([^<]+)<', answered.content.decode())
    assert float(value) == pytest.approx(1.1, abs=0.1)
    wrong = client.post(
        "/mlops/models/array-ridge/predict/", {"target": "version:1", "in-0": "[[1, 0]]"}
    )
    assert wrong.status_code == 400 and "expected 3 values, got 2" in wrong.content.decode()
    broken = client.post(
        "/mlops/models/array-ridge/predict/", {"target": "version:1", "in-0": "[["}
    )
    assert broken.status_code == 400 and "not JSON" in broken.content.decode()


def test_the_curl_command_calls_the_endpoint_with_an_example_body(
    predictor: Client, registered: list[int]
) -> None:
    import html
    import json

    page = predictor.get(PAGE).content.decode()
    start = page.index('<pre class="value curl"')
    text = html.unescape(page[page.index(">", start) + 1 : page.index("</pre>", start)])
    words = shlex.split(text.replace("\\\n", " "))
    assert words[:3] == ["curl", "-X", "POST"]
    assert "Authorization: Bearer $TOKEN" in words
    assert words[-1] == "http://testserver/mlops/api/models/iris-test/predict?alias=production"
    body = json.loads(words[words.index("-d") + 1])
    assert body == {"inputs": [dict.fromkeys(models.FEATURES, 0.0)]}
    # The example body is one the endpoint accepts (a session here; the test client skips CSRF).
    api = make_client("api", "predict")
    answered = api.post(words[-1], body, content_type="application/json")
    assert answered.status_code == 200, answered.content
    assert answered.json()["version"] == 1


def test_a_run_page_and_its_task_panel_link_the_versions_it_registered(
    registered: list[int],
) -> None:
    client = make_client("runs", "view_run")
    run_page = client.get(f"/mlops/runs/{registered[1]}/").content.decode()
    assert 'href="/mlops/models/iris-test/#v2">iris-test v2</a>' in run_page
    assert "iris-test v1" not in run_page
    panel = client.get(f"/mlops/runs/{registered[0]}/tasks/register/", HTTP_HX_REQUEST="true")
    assert 'href="/mlops/models/iris-test/#v1">iris-test v1</a>' in panel.content.decode()
    other = client.get(f"/mlops/runs/{registered[0]}/tasks/fit/", HTTP_HX_REQUEST="true")
    assert "Registered models" not in other.content.decode()
