"""A new user's first minutes, in chromium: empty store, drag in FP16 + QAT artifacts, see why INT8 is faster."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser.conftest import open_app, wait_for_app
from conftest import FIXTURES

pytestmark = pytest.mark.browser


def test_empty_store_shows_what_to_do(page, empty_app_url, screenshot):
    main = open_app(page, empty_app_url)
    expect(main).to_contain_text("No engine to show yet", timeout=30000)
    expect(main).to_contain_text("--exportLayerInfo")
    screenshot(page, "empty-overview")


def test_drag_in_fp16_and_qat_then_compare(page, empty_app_url, screenshot):
    files = sorted(str(p) for d in ("fp16", "qat") for p in (FIXTURES / "trex-rtx3090" / d).iterdir())
    main = open_app(page, f"{empty_app_url}/import_page")
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(files)
    page.get_by_role("button", name="Import files").click()
    # The import reruns the script; wait for each message rather than reading the page once.
    for text in ("Imported resnet (86 layers", "Imported resnet-qat (63 layers", "Comparing resnet (baseline) with resnet-qat"):
        expect(main).to_contain_text(text, timeout=60000)
    screenshot(page, "import-done")

    page.get_by_role("link", name="Open Compare").first.click()
    verdict = "resnet-qat is 1.83× resnet (FP16): faster by 1.826 ms GPU compute median."
    expect(main).to_contain_text(verdict, timeout=60000)
    expect(main).to_contain_text("54 aligned groups (53 by onnx, 1 by structure")
    expect(main).to_contain_text("FP16->INT8")
    expect(main).to_contain_text("Where the difference comes from")  # the attribution waterfall
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30000)
    # The view is shareable as a link; the app writes the selection to the URL at the end of its run.
    page.wait_for_function("() => location.search.includes('baseline=') && location.search.includes('run=')",
                           timeout=30000)
    screenshot(page, "new-user-compare")

    page.get_by_role("link", name="Overview").first.click()
    expect(main).to_contain_text(verdict, timeout=60000)
    wait_for_app(page)
    screenshot(page, "new-user-overview")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export this view (HTML)").click()
    html = open(download.value.path(), encoding="utf-8").read()
    assert "<!DOCTYPE html>" in html and verdict in html and "resnet-qat" in html


def test_bad_upload_is_a_message_not_a_traceback(page, empty_app_url, screenshot):
    from conftest import DATA

    main = open_app(page, f"{empty_app_url}/import_page")
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(
        [str(DATA / "bad" / "truncated.graph.json")])
    page.get_by_role("button", name="Import files").click()
    expect(main).to_contain_text("truncated.graph.json: ends before the JSON is complete", timeout=60000)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    assert "/tmp/" not in main.inner_text()
    screenshot(page, "import-bad-file")
