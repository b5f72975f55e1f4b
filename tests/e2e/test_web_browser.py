"""The website in a real browser: Playwright driving Debian's chromium against a live server.

Screenshots go to build/test-artifacts/. Skipped with the reason when chromium or
Playwright is missing; a failure instead under MLOPS_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import web_pipelines

CHROMIUM = os.environ.get("MLOPS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"


def _missing() -> str | None:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    return None


_reason = _missing()
if _reason and os.environ.get("MLOPS_REQUIRE_SERVICES") == "1":
    raise RuntimeError(_reason + " (MLOPS_REQUIRE_SERVICES=1)")
pytestmark = [
    pytest.mark.skipif(_reason is not None, reason=_reason or ""),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the ORM calls the tests
    # make between page actions are ordinary synchronous ones. Only for these tests:
    # other tests' subprocesses must not inherit it.
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            launched = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            yield launched
            launched.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def page(browser: Any, live_server: Any, tmp_mlops_home: Path) -> Iterator[Any]:
    from django.contrib.auth.models import User

    User.objects.create_superuser("ops", password="pw-ops-1")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.goto(f"{live_server.url}/mlops/login/")
    tab.fill("#id_username", "ops")
    tab.fill("#id_password", "pw-ops-1")
    tab.click("button[type=submit]")
    tab.wait_for_url("**/mlops/pipelines/")
    yield tab
    context.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)


def test_failed_task_shows_its_traceback_and_logs(page: Any, live_server: Any) -> None:
    run = web_pipelines.web_fail.run()
    assert run.status == "failed"
    page.goto(f"{live_server.url}/mlops/runs/{run.pk}/")
    # The failed task's panel opens by itself.
    page.wait_for_selector("#panel [data-task='explode']")
    user_line = page.locator("#panel pre.traceback .tb-user")
    assert "raise ValueError" in " ".join(user_line.all_inner_texts())
    assert "about to fail" in page.locator("#panel pre[data-log='stdout']").inner_text()
    assert "over the limit" in page.locator("#panel .failure .error").inner_text()
    # States are shown with a word and a glyph, not colour alone.
    assert page.locator("#node-explode").get_attribute("data-state") == "failed"
    assert page.locator("#node-explode .state-glyph").text_content() == "✕"
    assert page.locator("#node-summarise").get_attribute("data-state") == "upstream_failed"
    shot(page, "run-failed")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "run-failed-phone")


def test_running_dag_recolours_live(
    page: Any, live_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django_mlops.models import Run

    go = tmp_path / "go"
    monkeypatch.setenv("WEB_SLOW_GO", str(go))
    results: list[Any] = []
    worker = threading.Thread(
        target=lambda: results.append(web_pipelines.web_slow.run(executor="threads"))
    )
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while not Run.objects.filter(pipeline="web_slow", status="running").exists():
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.05)
        run = Run.objects.get(pipeline="web_slow", status="running")
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{live_server.url}/mlops/runs/{run.pk}/")
        page.wait_for_selector("#node-wait_for_go.state-running", timeout=15000)
        assert page.locator("#node-begin").get_attribute("data-state") == "succeeded"
        page.click("#node-wait_for_go")
        page.wait_for_selector("#panel [data-task='wait_for_go']")
        shot(page, "run-live")
        go.write_text("go")
        page.wait_for_selector("#node-finish.state-succeeded", timeout=20000)
        page.wait_for_function("document.body.dataset.runStatus === 'succeeded'")
        assert page.locator("#run-status .badge").get_attribute("data-state") == "succeeded"
        assert page.locator("[data-progress-done]").inner_text() == "3"
        page.wait_for_selector("#timeline .gantt li", timeout=10000)
        shot(page, "run-live-finished")
        live = [u for u in requests if "/live/" in u]
        # One request per update for the page, never one per task; it stops with the run.
        assert live, "the page never asked for updates"
        count = len(live)
        time.sleep(2.5)
        assert len([u for u in requests if "/live/" in u]) == count
    finally:
        go.write_text("go")
        worker.join(60)
    assert results and results[0].status == "succeeded"


def test_search_zoom_and_groups_on_a_fan_out(page: Any, live_server: Any) -> None:
    page.goto(f"{live_server.url}/mlops/pipelines/web_fanout/")
    svg = page.locator(".dag-canvas svg")
    before = svg.get_attribute("viewBox")
    page.click("[data-dag-zoom='in']")
    zoomed = svg.get_attribute("viewBox")
    assert zoomed != before
    assert float(zoomed.split()[2]) < float(before.split()[2])
    page.click("[data-dag-zoom='fit']")
    page.fill("[data-dag-search]", "train_7")
    page.press("[data-dag-search]", "Enter")
    assert "group" in page.locator("[data-dag-result]").inner_text()
    assert page.locator(".group.found").count() == 1
    page.locator(".group.found").click()
    page.wait_for_url("**expand=*")
    page.wait_for_selector("#node-train_7")
    page.fill("[data-dag-search]", "train_7")
    page.press("[data-dag-search]", "Enter")
    assert page.locator("#node-train_7.found").count() == 1
    # Keyboard: focus a step, Enter opens its details.
    page.focus("#node-split")
    page.keyboard.press("Enter")
    page.wait_for_selector("#panel .node-detail")
    assert "rows" in page.locator("#panel .node-detail").inner_text()
    shot(page, "pipeline-fanout")


def _thousand_steps() -> Any:
    from django_mlops import Pipeline

    def step(*args: Any) -> int:
        return 0

    def letters(n: int) -> str:  # names without digits: not grouped as a numbered fan-out
        return "".join("abcdefghijklmnopqrstuvwxyz"[d] for d in (n // 676, n // 26 % 26, n % 26))

    big = Pipeline("web_big", description="A thousand steps")
    big.node(step, name="source", inputs=[], outputs="d_source")
    previous = ["d_source"]
    for i in range(40):  # 40 layers of 25, each step reading two of the layer before
        layer = []
        for j in range(25):
            reads = sorted({previous[j % len(previous)], previous[(j * 7 + 3) % len(previous)]})
            big.node(step, name=f"step_{letters(i * 25 + j)}", inputs=reads, outputs=f"d{i}_{j}")
            layer.append(f"d{i}_{j}")
        previous = layer
    return big


def test_a_thousand_step_run_stays_usable(page: Any, live_server: Any) -> None:
    big = _thousand_steps()
    assert len(big) == 1001
    run = big.run()
    assert run.status == "succeeded"
    page.goto(f"{live_server.url}/mlops/runs/{run.pk}/")
    assert page.locator(".dag-canvas [data-node]").count() == 1001
    assert page.locator(".dag-canvas .state-succeeded").count() == 1001
    assert page.locator("#node-step_bgk .state-glyph").text_content() == "✓"
    page.fill("[data-dag-search]", "step_bgk")
    page.press("[data-dag-search]", "Enter")
    assert page.locator("#node-step_bgk.found").count() == 1
    box = page.locator("#node-step_bgk").bounding_box()
    canvas = page.locator(".dag-canvas").bounding_box()
    assert box is not None and canvas is not None
    # Found means brought into view, not just highlighted somewhere off screen.
    assert canvas["x"] <= box["x"] and box["x"] + box["width"] <= canvas["x"] + canvas["width"]
    assert canvas["y"] <= box["y"] and box["y"] + box["height"] <= canvas["y"] + canvas["height"]
    page.click("#node-step_bgk")
    page.wait_for_selector("#panel [data-task='step_bgk']")
    shot(page, "run-thousand")


def test_run_button_queues_a_run_and_shows_field_errors(page: Any, live_server: Any) -> None:
    from django_mlops.models import Run

    page.goto(f"{live_server.url}/mlops/pipelines/web_demo/")
    page.fill("#param-C", "-2")
    page.click("form.run-form button[type=submit]")
    page.wait_for_selector("#error-C")
    assert ">= 0.0" in page.locator("#error-C").inner_text()
    shot(page, "pipeline-form-error")
    page.fill("#param-C", "0.5")
    page.click("form.run-form button[type=submit]")
    page.wait_for_url("**/mlops/runs/*/")
    run = Run.objects.get()
    assert run.status == "queued" and run.params["C"] == 0.5
    shot(page, "run-queued")
