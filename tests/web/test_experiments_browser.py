"""The experiments pages in a real browser (Playwright driving Debian's chromium).

Filter the table (and see a bad filter's error under its position), tick three runs,
compare them, switch "only differences" off and on, and see the charts Plotly drew.
Screenshots at 1280 px and at a phone's width go to build/test-artifacts/.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.e2e.test_web_browser import _missing, browser, page, shot  # noqa: F401 (fixtures)
from tests.experiment_pipelines import iris_sweep

_reason = _missing()
if _reason and os.environ.get("MLOPS_REQUIRE_SERVICES") == "1":
    raise RuntimeError(_reason + " (MLOPS_REQUIRE_SERVICES=1)")
pytestmark = [
    pytest.mark.skipif(_reason is not None, reason=_reason or ""),
    pytest.mark.django_db(transaction=True),
]

ALPHAS = (0.0001, 0.001, 0.01, 1.0)


def _sweep() -> list[Any]:
    runs = [iris_sweep.run(params={"alpha": a}) for a in ALPHAS]
    assert all(r.status == "succeeded" for r in runs)
    return runs


def test_filter_the_table_and_see_a_bad_filter_explained(page: Any, live_server: Any) -> None:  # noqa: F811
    _sweep()
    page.goto(f"{live_server.url}/mlops/experiments/iris_sweep/")
    assert page.locator("table.exp-table tbody tr").count() == len(ALPHAS)
    shot(page, "experiments-table")

    page.fill("#exp-filter", "params.alpha >= 0.001 and status = succeeded")
    page.click(".exp-filter button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("table.exp-table tbody tr").count() == 3

    page.fill("#exp-filter", "params.alpha >> 1")
    page.click(".exp-filter button[type=submit]")
    error = page.locator("#exp-filter-error")
    error.wait_for()
    assert "^" in error.locator(".caret-line").inner_text()
    assert page.locator("#exp-filter").get_attribute("aria-invalid") == "true"
    shot(page, "experiments-filter-error")


def test_select_three_runs_compare_and_see_the_charts(page: Any, live_server: Any) -> None:  # noqa: F811
    runs = _sweep()
    page.goto(f"{live_server.url}/mlops/experiments/iris_sweep/?sort=params.alpha")
    shot(page, "experiments-table-sorted")
    for run in runs[1:]:
        page.check(f"input[name=runs][value='{run.pk}']")
    page.click("#compare-button")
    page.wait_for_url("**/experiments/compare?**")
    page.wait_for_selector(".charts[data-rendered='1']", timeout=15000)
    assert page.locator("tr[data-key='params.alpha'].differs").count() == 1
    assert page.locator("tr[data-key='params.epochs']").count() == 0
    assert page.locator(".compare-table .best-mark").count() >= 1
    for chart in ("chart-bar", "chart-parallel", "chart-scatter", "chart-curves"):
        assert page.locator(f"#{chart} svg.main-svg").count() >= 1, chart
    assert page.locator("#chart-curves .legend .traces").count() == 3  # one line per run
    elapsed = page.evaluate("window.mlopsChartMs")
    assert 0 < elapsed < 5000
    shot(page, "experiments-compare")

    page.click("#only-differences")
    page.wait_for_selector("tr[data-key='params.epochs']")
    assert page.locator("#only-differences").get_attribute("aria-checked") == "false"
    page.click("#only-differences")
    page.wait_for_selector("#only-differences[aria-checked='true']")
    assert page.locator("tr[data-key='params.epochs']").count() == 0

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector(".charts[data-rendered='1']", timeout=15000)
    shot(page, "experiments-compare-phone")
    page.goto(f"{live_server.url}/mlops/experiments/iris_sweep/")
    shot(page, "experiments-table-phone")


def test_marked_steps_are_outlined_on_the_run_page(page: Any, live_server: Any) -> None:  # noqa: F811
    run = iris_sweep.run()
    page.goto(f"{live_server.url}/mlops/runs/{run.pk}/?mark=fit,evaluate,nosuchstep")
    page.wait_for_selector("#node-fit.marked")
    assert page.locator("#node-evaluate.marked").count() == 1
    assert page.locator("#node-load.marked").count() == 0
    assert page.locator("#marked-list").inner_text().endswith("Marked: fit, evaluate")
    shot(page, "experiments-run-marked")


def test_two_runs_compared_say_what_changed_and_link_the_marked_dags(
    page: Any,  # noqa: F811
    live_server: Any,
) -> None:
    before = iris_sweep.run(params={"alpha": 0.0001})
    after = iris_sweep.run(params={"alpha": 0.01})
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/mlops/experiments/compare?runs={before.pk},{after.pk}")
    panel = page.locator("#what-changed")
    panel.wait_for()
    assert panel.locator("tr[data-node]").count() == 2  # fit and evaluate, not load
    assert "Reused 1" in panel.inner_text()
    panel.scroll_into_view_if_needed()
    shot(page, "experiments-what-changed")
    panel.get_by_role("link", name=f"DAG of #{after.pk}, changed steps marked").click()
    page.wait_for_selector("#node-fit.marked")
    assert page.locator("#node-evaluate.marked").count() == 1
    assert page.locator("#node-load.marked").count() == 0
    shot(page, "experiments-what-changed-dag")
