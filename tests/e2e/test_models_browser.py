"""The models pages in a real browser: promote with a comment, then try a prediction.

Playwright drives Debian's chromium against the live server (the set-up of
test_web_browser.py); screenshots go to build/test-artifacts/web-models-*.png.
"""

from __future__ import annotations

from typing import Any

import pytest

from django_mlops.registry import model_cache, set_alias
from tests import registry_pipelines as models
from tests.e2e import test_web_browser as web
from tests.e2e.test_web_browser import shot

# The browser, its logged-in page and the skip reason, as the website's browser tests have them.
pytestmark = web.pytestmark
browser = web.browser
page = web.page

FEATURES = models.FEATURES


@pytest.fixture
def two_versions(tmp_mlops_home: Any) -> Any:
    model_cache.clear()
    for params in ({}, {"C": 0.1}):
        run = models.iris_models.run(executor="inline", params=params)
        assert run.status == "succeeded", run.error
    set_alias("iris-test", "production", 1)
    yield
    model_cache.clear()


def test_promote_then_try_a_prediction(page: Any, live_server: Any, two_versions: Any) -> None:
    page.goto(f"{live_server.url}/mlops/models/")
    assert page.locator("table.list").inner_text().count("iris-test") == 1
    shot(page, "models-list")
    page.click("text=iris-test")
    page.wait_for_url("**/mlops/models/iris-test/")

    # Promote version 2 with a comment; the audit trail shows who, from, to and why.
    page.fill("#promote-version", "2")
    page.fill("#promote-comment", "better C on the May data")
    page.click("#aliases button[type=submit]")
    page.wait_for_selector(".messages")
    assert "production now points at version 2." in page.inner_text(".messages")
    trail = page.inner_text("#trail")
    assert "better C on the May data" in trail and "ops" in trail
    assert "v1" in trail and "v2" in trail

    # A missing value: the field's own error, no prediction.
    page.select_option("#try-target", "alias:production")
    page.click(".target-form button")
    for index, value in enumerate(["5.1", "3.5", "1.4", ""]):
        page.fill(f"#try-{index}", value)
    page.click(".try-form button[type=submit]")
    page.wait_for_selector("#try-error-3")
    assert page.inner_text("#try-error-3") == "field required"
    assert page.locator(".prediction").count() == 0
    assert page.get_attribute("#try-3", "aria-invalid") == "true"
    shot(page, "models-try-error")

    # Corrected, with probabilities: the prediction and which version answered.
    page.fill("#try-3", "0.2")
    page.check("input[name=proba]")
    page.click(".try-form button[type=submit]")
    page.wait_for_selector(".answer")
    expected = models.fit_logistic(models.iris_frame(), 0.1).predict(
        models.features(models.iris_frame()).head(1)
    )
    assert page.inner_text(".prediction") == str(int(expected[0]))
    assert "by version 2" in page.inner_text(".answer")
    assert page.locator(".probabilities tbody tr").count() == 3
    shot(page, "models-detail")

    # Readable on a phone too: nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    wide = page.evaluate(
        """[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right
        > window.innerWidth + 1).map(e => e.tagName + '.' + e.className).slice(0, 8)"""
    )
    assert overflow <= 0, (overflow, wide)
    shot(page, "models-phone")


def test_the_try_it_form_works_from_the_keyboard(
    page: Any, live_server: Any, two_versions: Any
) -> None:
    page.goto(f"{live_server.url}/mlops/models/iris-test/")
    page.focus("#try-0")
    for value in ["5.1", "3.5", "1.4", "0.2"]:
        page.keyboard.press("Control+a")
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the probabilities checkbox, to Predict
    page.keyboard.press("Enter")
    page.wait_for_selector(".answer")
    assert "by version 1" in page.inner_text(".answer")


def test_the_drf_browsable_api_page(page: Any, live_server: Any, two_versions: Any) -> None:
    page.goto(f"{live_server.url}/mlops/drf/models/iris-test/predict")
    assert "Predict" in page.title()
    assert "sepal length (cm)" in page.inner_text("body")
    content = page.locator("textarea[name=_content]")
    assert '"petal width (cm)": 0.0' in content.input_value()
    page.click("#post-generic-content-form button.btn-primary")
    page.wait_for_selector("text=predictions")
    assert '"version": 1' in page.inner_text(".response-info")
    shot(page, "models-drf")
