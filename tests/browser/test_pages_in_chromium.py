"""Open every page in real chromium: what each shows for the QAT engine, no exception box, screenshots for review."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from browser.conftest import open_app

pytestmark = pytest.mark.browser

# (path, title, charts at least, text the page shows for resnet-qat, elements the user must see)
PAGES = [
    ("", "Overview", 1, "3 layers are not INT8", ()),
    ("layers", "Layers", 0, "63 of 63 layers", ("[data-testid='stDataFrame']", "button:has-text('Download CSV')")),
    ("precision", "Precision", 1, "Requested precision: INT8", ()),
    ("size", "Size", 2, "24.32 MiB of weights", ()),
    ("build", "Build", 0, "--exportLayerInfo=", ("[data-testid='stCode']", "button:has-text('Build 2 recipe(s)')")),
    ("latency", "Latency", 3, "reformat layers take 0.0389 ms", ()),
    ("graph", "Graph", 1, "63 layers. Drag to pan", ()),
    ("import_page", "Import", 0, "Drop any mix of TensorRT artifacts",
     ("[data-testid='stFileUploader']", "button:has-text('Import pasted text')")),
    ("runs", "Runs", 0, "10 runs in", ("[data-testid='stDataFrame']",)),
    ("models", "Models", 0, "No Q/DQ nodes: on TensorRT 11 this builds in the ONNX types",
     ("[data-testid='stMetric']:has-text('Q/DQ nodes')", "[data-testid='stFileUploader']", "[data-testid='stDataFrame']")),
]


def _run_id(store, name):
    from engine_core.store import RunStore

    return next(r.run_id for r in RunStore(store).list_runs() if r.name == name)


@pytest.mark.parametrize("path,title,min_charts,text,elements", PAGES, ids=[p[1] for p in PAGES])
def test_page_renders(page, app_url, seeded_store, screenshot, path, title, min_charts, text, elements):
    run = _run_id(seeded_store, "resnet-qat")
    main = open_app(page, f"{app_url}/{path}?run={run}")
    expect(page.locator("h1").first).to_have_text(title)
    expect(main).to_contain_text(text, timeout=30000)
    for selector in elements:
        expect(main.locator(selector).first).to_be_visible(timeout=30000)
    if min_charts:  # auto-waiting: charts appear one by one on a busy machine
        expect(page.locator(".js-plotly-plot").nth(min_charts - 1)).to_be_visible(timeout=30000)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    screenshot(page, f"page-{title.lower()}")


def test_compare_page_from_shared_link(page, app_url, seeded_store, screenshot):
    a, b = _run_id(seeded_store, "fp16/resnet"), _run_id(seeded_store, "resnet-qat")
    main = open_app(page, f"{app_url}/compare?run={b}&baseline={a}")
    expect(main).to_contain_text("resnet-qat is 1.83× fp16/resnet (FP16)", timeout=30000)
    expect(main).to_contain_text("FP16->INT8")
    expect(main).to_contain_text("Where the difference comes from")
    expect(main).to_contain_text("54 aligned groups (53 by onnx, 1 by structure")
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30000)
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    page.set_viewport_size({"width": 1400, "height": 3000})  # verdict, attribution, bytes and the aligned groups
    page.wait_for_timeout(1500)
    screenshot(page, "page-compare")


def test_selection_is_kept_in_the_url(page, app_url, seeded_store):
    run = _run_id(seeded_store, "mobilenet.qat")
    main = open_app(page, f"{app_url}/precision?run={run}")
    expect(page).to_have_url(re.compile(f"[?&]run={run}"))
    expect(main).to_contain_text("mobilenet.qat", timeout=30000)


def test_clicking_a_layer_shows_its_full_record(page, app_url, seeded_store, screenshot):
    run = _run_id(seeded_store, "resnet-qat")
    main = open_app(page, f"{app_url}/layers?run={run}")
    expect(main).to_contain_text("63 of 63 layers", timeout=30000)  # the table's data has arrived
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for(timeout=30000)
    box = grid.bounding_box()
    # The grid is a canvas: the selection checkbox column is the first ~30 px; rows are 35 px under a 35 px header.
    page.mouse.click(box["x"] + 15, box["y"] + 35 + 35 * 2 + 17)  # third row: the NHWC->NCHW shuffle before conv1
    expect(main).to_contain_text("Raw TensorRT record", timeout=30000)
    expect(main).to_contain_text("#2 resnet50/quant_conv1_conv/BiasAdd__1121")
    expect(main).to_contain_text("ONNX origin")
    screenshot(page, "layer-record")
