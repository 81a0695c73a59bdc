"""See and share, in chromium: the offline report with the network blocked, the engine graph (a real 100+-layer
engine and a 10k-layer synthetic one), a bundle imported on the Import page, and a delete that asks first."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from browser.conftest import _serve, _stop, open_app, wait_for_app
from conftest import FIXTURES, REPO

pytestmark = pytest.mark.browser

QAT, FP16 = FIXTURES / "trex-rtx3090" / "qat", FIXTURES / "trex-rtx3090" / "fp16"
NODES = ".js-plotly-plot .scatterlayer .points path"  # one SVG path per drawn node
SECTIONS = {"summary": "Verdict and findings", "precision": "Precision", "size": "Size", "latency": "Latency",
            "comparison": "Comparison with resnet", "graph": "Engine graph", "layers": "Layers", "provenance": "Provenance"}


@pytest.fixture(scope="module")
def qat_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "qat-vs-fp16.html"
    proc = subprocess.run([sys.executable, "-m", "layerlens", "report", str(QAT), "--baseline", str(FP16), "-o", str(out)],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


def test_report_opens_offline_with_every_section(browser, qat_report, screenshot):
    context = browser.new_context(viewport={"width": 1300, "height": 1000}, accept_downloads=True)
    asked = []

    def block_the_network(route):
        asked.append(route.request.url)
        route.continue_() if route.request.url.startswith("file://") else route.abort()

    context.route("**/*", block_the_network)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(qat_report.as_uri())
    page.wait_for_selector(".js-plotly-plot")
    assert [u for u in asked if not u.startswith("file://")] == [] and errors == []
    for anchor, title in SECTIONS.items():
        expect(page.locator(f"#{anchor} h2")).to_have_text(title)
    expect(page.locator("#verdict")).to_have_text("resnet-qat is 1.83× resnet (FP16): faster by 1.826 ms GPU compute median.")
    expect(page.locator(".js-plotly-plot")).to_have_count(10)  # the latency section holds the profile against the model
    expect(page.locator(f"#graph {NODES}")).to_have_count(65)  # every node drawn: 63 layers, the input and the output
    # The layer table: every layer, searchable and sortable.
    status = page.locator("#layer-status")
    expect(status).to_have_text("63 of 63 matching layers (63 in all)")
    page.fill("#layer-search", "reformat")
    expect(status).to_have_text("2 of 2 matching layers (63 in all)")
    page.fill("#layer-search", "")
    header = page.locator("#layer-table th", has_text="avg_ms")
    header.click()
    header.click()  # descending
    expect(page.locator("#layer-table tbody tr").first).to_contain_text("quant_conv1_conv/LastValueQuant")
    # Provenance: the source files' sha256.
    timing = QAT / "resnet-qat.onnx.engine.timing.json"
    expect(page.locator("#provenance")).to_contain_text(hashlib.sha256(timing.read_bytes()).hexdigest())
    # Each chart downloads as SVG with its provenance subtitle, offline.
    with page.expect_download() as download:
        page.locator("#chart-2 button[data-download='svg']").click()
    svg = open(download.value.path(), encoding="utf-8").read()
    assert svg.startswith("<svg") and "resnet-qat · NVIDIA GeForce RTX 3090" in svg
    screenshot(page, "report-qat-vs-fp16")
    context.close()


@pytest.fixture(scope="module")
def graph_store(tmp_path_factory, artifacts):
    from engine_core.discover import load_engines
    from engine_core.store import RunStore

    sys.path.insert(0, str(REPO / "benchmarks"))
    from synthetic import write_engine

    root = tmp_path_factory.mktemp("graph-runs")
    store = RunStore(root)
    synthetic = write_engine(tmp_path_factory.mktemp("syn"), 10_000, name="synthetic-10k")
    for engine in load_engines([FIXTURES / "trex-rtx3090", synthetic])[0]:
        store.add(engine)
    ids = {r.name: r.run_id for r in store.list_runs()}
    proc, url = _serve(root, artifacts)
    yield url, ids, store
    _stop(proc)


def open_graph(page, url: str, query: str):
    """The Graph page with every node drawn; returns the main area."""
    main = open_app(page, f"{url}/graph?{query}")
    expect(page.locator(NODES).first).to_be_visible(timeout=30000)
    return main


def test_graph_of_the_largest_real_fixture_and_a_click_opens_the_layer(page, graph_store, screenshot):
    url, ids, _ = graph_store
    main = open_graph(page, url, f"run={ids['fp32/resnet']}&baseline=")
    expect(main).to_contain_text("103 layers. Drag to pan")
    points = page.locator(NODES)
    expect(points).to_have_count(105)  # 103 layers + the network input and output
    screenshot(page, "graph-fp32-resnet50")
    points.nth(8).click(force=True)
    expect(main).to_contain_text("Raw TensorRT record", timeout=30000)
    expect(main).to_contain_text("Compute")


def test_graph_coloured_by_change_against_the_baseline(page, graph_store, screenshot):
    url, ids, _ = graph_store
    open_graph(page, url, f"run={ids['resnet-qat']}&baseline={ids['fp16/resnet']}")
    page.get_by_text("Change vs baseline").click()
    wait_for_app(page)
    # While the rerun draws, the precision-coloured chart can still stand beside the new one: wait for the new one.
    legend = page.locator(".js-plotly-plot .legend").filter(has_text="precision change vs baseline")
    expect(legend).to_contain_text("FP16->INT8", timeout=30000)
    expect(legend).to_contain_text("only here")
    expect(page.locator(".js-plotly-plot .legend")).to_have_count(1)  # the old chart is gone before the picture
    screenshot(page, "graph-qat-vs-fp16")


def test_sidebar_report_button_downloads_the_same_report(page, graph_store):
    url, ids, _ = graph_store
    open_graph(page, url, f"run={ids['resnet-qat']}&baseline={ids['fp16/resnet']}")
    with page.expect_download(timeout=60000) as download:
        page.get_by_role("button", name="Report (HTML)").click()
    html = open(download.value.path(), encoding="utf-8").read()
    assert download.value.suggested_filename == "layerlens-report-resnet-qat.html"
    assert "resnet-qat is 1.83× fp16/resnet (FP16): faster by 1.826 ms GPU compute median." in html
    assert all(f"id='{anchor}'" in html for anchor in SECTIONS)


def test_a_dashboard_chart_downloads_as_svg_with_its_provenance(browser, graph_store):
    url, ids, _ = graph_store
    page = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000}).new_page()
    open_app(page, f"{url}/?run={ids['resnet-qat']}")
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30000)
    with page.expect_download(timeout=60000) as download:  # kaleido renders it server-side when clicked
        page.get_by_role("button", name="SVG").first.click()
    assert download.value.suggested_filename == "layerlens-share-of-time-per-precision.svg"
    svg = open(download.value.path(), encoding="utf-8").read()
    assert svg.startswith("<svg") and "resnet-qat · NVIDIA GeForce RTX 3090 · TensorRT unknown · FP32+FP16+INT8" in svg
    page.context.close()


def test_graph_of_ten_thousand_layers_folds_and_finds(page, graph_store, screenshot):
    url, ids, _ = graph_store
    main = open_graph(page, url, f"run={ids['synthetic-10k']}")
    expect(main).to_contain_text("10,000 layers as 334 nodes (folded by ONNX scope at depth 1")
    label = page.locator(".js-plotly-plot .textpoint text", has_text="t0 … block1").bounding_box()
    page.mouse.click(label["x"] - 7, label["y"] + label["height"] / 2)  # its node sits just left of its label
    expect(main).to_contain_text("t0 … block1: 20 layers", timeout=30000)
    page.get_by_placeholder("name, ONNX node or type").fill("block500/")
    page.keyboard.press("Enter")
    expect(main).to_contain_text("layers match 'block500/'", timeout=30000)
    screenshot(page, "graph-synthetic-10k")


def test_bundle_imports_on_the_import_page(page, graph_store, tmp_path, artifacts, screenshot):
    _, ids, store = graph_store
    from engine_core.store import RunStore
    from engine_core.store.bundle import write_bundle

    bundle = write_bundle(store, [ids["resnet-qat"], ids["fp16/resnet"]], tmp_path / "resnet.lens.zip")
    theirs = RunStore(tmp_path / "teammate")
    proc, url = _serve(theirs.root, artifacts)
    try:
        main = open_app(page, f"{url}/import_page")
        page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(bundle))
        page.get_by_role("button", name="Import files").click()
        expect(main).to_contain_text(f"Imported: resnet-qat as {ids['resnet-qat']} (from resnet.lens.zip)", timeout=60000)
        expect(main).to_contain_text(f"Imported: fp16/resnet as {ids['fp16/resnet']}")
        screenshot(page, "import-bundle")
    finally:
        _stop(proc)
    assert sorted(r.run_id for r in theirs.list_runs()) == sorted([ids["resnet-qat"], ids["fp16/resnet"]])


def pick_run(page, run_id: str) -> None:
    box = page.locator("[data-testid='stMain'] [data-testid='stMultiSelect'] input")
    box.click()
    box.fill(run_id)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    wait_for_app(page)


def test_delete_on_the_runs_page_asks_first(page, tmp_path, artifacts, screenshot):
    from engine_core.discover import load_engines
    from engine_core.store import RunStore

    store = RunStore(tmp_path / "runs")
    for engine in load_engines([FIXTURES / "trex-rtx3090"])[0]:
        store.add(engine)
    qat = next(r for r in store.list_runs() if r.name == "resnet-qat")
    proc, url = _serve(store.root, artifacts)
    try:
        open_app(page, f"{url}/runs")
        pick_run(page, qat.run_id)
        page.get_by_role("button", name="Delete 1 run(s)…").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("cannot be undone")
        screenshot(page, "runs-delete-asks")
        dialog.get_by_role("button", name="Cancel").click()
        wait_for_app(page)
        assert qat.run_id in {r.run_id for r in store.list_runs()}  # cancelled: still there, still picked
        page.get_by_role("button", name="Delete 1 run(s)…").click()
        page.get_by_role("dialog").get_by_role("button", name="Delete", exact=True).click()
        expect(page.locator("[data-testid='stMain']")).to_contain_text("Deleted 1 run(s).", timeout=30000)
        assert qat.run_id not in {r.run_id for r in store.list_runs()}
    finally:
        _stop(proc)
