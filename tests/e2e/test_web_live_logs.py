"""Live logs in a real browser: a run queued from the page, taken by ``mlops ui``'s worker.

``mlops ui`` (a real server process with its embedded worker, which runs the
run inline) serves the site; Playwright drives Debian's chromium. The step
prints a line and waits: the page shows it running, and the open task panel
shows that line, then the next one, then the step succeeded, without a reload.
Screenshots go to build/test-artifacts/web-live-*.png.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_web_browser import ARTIFACTS, CHROMIUM, _missing
from tests.web.test_ui import ROOT, _free_port, _login_link, _stop

_reason = _missing()
if _reason and os.environ.get("MLOPS_REQUIRE_SERVICES") == "1":
    raise RuntimeError(_reason + " (MLOPS_REQUIRE_SERVICES=1)")
pytestmark = pytest.mark.skipif(_reason is not None, reason=_reason or "")


@pytest.fixture
def ui(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``mlops ui`` with its worker on a free port: (its login link, the gates' folder)."""
    gates = tmp_path / "gates"
    gates.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(MLOPS_HOME=str(tmp_path / "home"), PYTHONPATH=str(ROOT), WEB_LIVE_DIR=str(gates))
    port = _free_port()
    command = ["-m", "django_mlops.cli", "ui", "tests/web_live_pipelines.py", "--port", str(port)]
    server = subprocess.Popen(
        [sys.executable, *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield _login_link(server, port), gates
    finally:
        for name in ("go", "go-again"):  # let a waiting step end
            (gates / name).touch()
        _stop(server)


@pytest.fixture
def tab(ui: tuple[str, Path]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        for _ in range(100):  # the server binds right after printing its link
            try:
                page.goto(ui[0])
                break
            except Exception:
                page.wait_for_timeout(100)
        page.wait_for_url("**/mlops/pipelines/")
        yield page
        browser.close()


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-live-{name}.png"), full_page=True)


def test_a_running_steps_log_appears_live_in_its_panel(tab: Any, ui: tuple[str, Path]) -> None:
    gates = ui[1]
    base = ui[0].split("/mlops/")[0]
    tab.goto(f"{base}/mlops/pipelines/web_printing/")
    tab.click("form.run-form button[type=submit]")
    tab.wait_for_url("**/mlops/runs/*/")
    # Set once: a reload would lose it.
    tab.evaluate("window.__notReloaded = true")
    tab.wait_for_selector("#node-train.state-running", timeout=30000)
    assert tab.locator("#node-load").get_attribute("data-state") == "succeeded"
    running = tab.locator("[data-running]")
    running.wait_for(state="visible")
    assert "train for" in running.inner_text()
    tab.click("#node-train")
    stdout = tab.locator("#panel pre[data-log='stdout']")
    tab.wait_for_function(
        "document.querySelector(\"#panel pre[data-log='stdout']\")"
        "?.textContent.includes('epoch 1')",
        timeout=15000,
    )
    assert "epoch 2" not in stdout.inner_text()
    assert "Running for" in tab.locator("#panel").inner_text()
    _shot(tab, "running")
    (gates / "go").touch()
    tab.wait_for_function(
        "document.querySelector(\"#panel pre[data-log='stdout']\")"
        "?.textContent.includes('epoch 2')",
        timeout=15000,
    )
    assert stdout.text_content() == "epoch 1: loss 0.50\nepoch 2: loss 0.25\n"
    assert tab.locator("#panel [data-task]").get_attribute("data-task-state") == "running"
    _shot(tab, "appended")
    (gates / "go-again").touch()
    tab.wait_for_selector("#node-train.state-succeeded", timeout=30000)
    tab.wait_for_function("document.body.dataset.runStatus === 'succeeded'", timeout=30000)
    tab.wait_for_selector("#panel [data-task-state='succeeded']", timeout=15000)
    assert tab.locator("#panel pre[data-log='stdout']").text_content() == (
        "epoch 1: loss 0.50\nepoch 2: loss 0.25\n"
    )
    assert tab.evaluate("window.__notReloaded") is True
    assert tab.locator("[data-running]").is_hidden()
    _shot(tab, "finished")
