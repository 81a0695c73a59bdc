"""The accuracy loop in chromium, on real TensorRT-RTX builds of ResNet-18: read the per-layer error, pick layers,
keep them in FP16, build, and land on Compare with accuracy, size and layers side by side."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from browser.conftest import _serve, _stop, open_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def accuracy_store(rtx_builds, rtx_store, tmp_path_factory):
    """FP32 and INT8 (onnxruntime placement) builds of ResNet-18, each with its accuracy measured: the session's
    builds (``rtx_builds``) copied into a store of their own, which the keep-and-build test adds to."""
    from engine_core.store import RunStore

    store = RunStore(tmp_path_factory.mktemp("accuracy-runs"))
    ids = {}
    for recipe in ("fp32", "int8-ort-uncalibrated"):
        engine = rtx_builds[("resnet18", recipe)]
        labels = next(r.labels for r in rtx_store.list_runs() if r.name == engine.name)
        ids[engine.name] = store.add(engine, source="build", labels=labels)[0].run_id
    return store.root, ids


@pytest.fixture(scope="module")
def accuracy_url(accuracy_store):
    proc, url = _serve(accuracy_store[0])
    yield url
    _stop(proc)


def _metric(page, label: str) -> str:
    card = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    expect(card).to_be_visible(timeout=60000)
    return card.locator("[data-testid='stMetricValue']").inner_text()


def test_per_layer_error_on_the_precision_and_graph_pages(page, accuracy_url, accuracy_store, screenshot):
    int8 = accuracy_store[1]["resnet18-int8-ort-uncalibrated"]
    main = open_app(page, f"{accuracy_url}/precision?run={int8}")
    expect(main).to_contain_text("Quantization error per layer", timeout=60000)
    expect(main).to_contain_text("Output SQNR 35.1 dB against resnet18.onnx")
    expect(main).to_contain_text("not task accuracy")
    expect(main.locator(".js-plotly-plot").filter(has_text="Per-layer SQNR")).to_be_visible(timeout=60000)
    main.get_by_text("Quantization error per layer").scroll_into_view_if_needed()
    screenshot(page, "accuracy-precision-page")

    open_app(page, f"{accuracy_url}/graph?run={int8}")
    page.get_by_text("Quantization error", exact=True).click()
    expect(main).to_contain_text("colour = SQNR vs the float model (synthetic inputs)", timeout=60000)
    expect(main.locator(".legend").first).to_contain_text("30–40 dB", timeout=30000)
    screenshot(page, "accuracy-graph-quantization-error")


def test_pick_layers_keep_in_fp16_build_and_compare(page, accuracy_url, accuracy_store, screenshot):
    int8 = accuracy_store[1]["resnet18-int8-ort-uncalibrated"]
    main = open_app(page, f"{accuracy_url}/layers?run={int8}")
    expect(main).to_contain_text("select rows to keep them in FP16/FP32", timeout=60000)
    page.get_by_label("Search names, ONNX nodes, tactics").fill("/fc/")
    page.keyboard.press("Enter")
    expect(main).to_contain_text("2 of 53 layers", timeout=60000)  # the GEMM and its epilogue
    grid = page.locator("[data-testid='stDataFrame']").first
    box = grid.bounding_box()
    # The grid is a canvas: the selection checkbox column is the first ~30 px; rows are 35 px under a 35 px header.
    for row in (0, 1):
        page.mouse.click(box["x"] + 15, box["y"] + 35 + 35 * row + 17)
    expect(main).to_contain_text("Keep 2 selected layers out of int8-ort-uncalibrated", timeout=60000)
    expect(main).to_contain_text("ONNX nodes: /fc/Gemm")
    screenshot(page, "accuracy-keep-selected-layers")

    page.get_by_role("button", name=re.compile(r"Build with 1 node\(s\) kept")).click()
    # The build runs out of process (recipe, TensorRT-RTX, accuracy), then the app opens Compare.
    expect(page.get_by_role("heading", name="Compare")).to_be_visible(timeout=300000)
    expect(main).to_contain_text("Accuracy beside size and speed", timeout=120000)
    kept = _metric(page, "resnet18-int8-ort-uncalibrated+keep1: output SQNR")
    base = _metric(page, "resnet18-int8-ort-uncalibrated: output SQNR")
    assert float(kept.split()[0]) > float(base.split()[0]) + 1.0, (kept, base)
    expect(main).to_contain_text("Every stored build of this model (3)")
    expect(main).to_contain_text("resnet18-int8-ort-uncalibrated+keep1 is")  # the verdict, on estimated times
    expect(main.locator(".js-plotly-plot").filter(has_text="Size and speed against accuracy")).to_be_visible(timeout=60000)
    page.wait_for_function("() => location.search.includes('baseline=')", timeout=30000)
    screenshot(page, "accuracy-compare-after-keep")


def test_build_page_offers_advise_with_a_target(page, accuracy_url, screenshot):
    main = open_app(page, f"{accuracy_url}/build")
    expect(main).to_contain_text("Advise: which layers to keep in FP16", timeout=60000)
    expect(main.get_by_text("Target output SQNR (dB)")).to_be_visible()
    expect(page.get_by_role("button", name="Advise for 40 dB")).to_be_visible()
    main.get_by_text("Advise: which layers to keep in FP16").scroll_into_view_if_needed()
    screenshot(page, "accuracy-build-advise")
