"""AppTest on real TensorRT-RTX builds: estimates are labelled everywhere, the comparison explains the bytes,
and the Build page builds here."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import state
from engine_core.analysis.estimate import estimate_basis, estimate_latency
from engine_core.analysis.latency_model import default_latency_model
from tests.pages.test_app import APP, metrics, open_page, texts


def test_overview_labels_the_estimate_and_warns_uncalibrated(rtx_app, rtx_runs):
    open_page(rtx_app, "overview", rtx_runs["resnet18-int8-tensorrt-uncalibrated"])
    m = metrics(rtx_app)
    band = default_latency_model().error.total_pct
    assert m[f"Latency (estimate ±{band:.0f}%)"].startswith("~") and m["Per-layer sum"] == "not measured"
    assert m["Built for"] == "SM86+SM89+SM120 (TensorRT-RTX default)" and m["Layers"] == "53"
    assert m["Engine size"] == "13.72 MiB" and m["Requested precision"] == "INT8"
    body = texts(rtx_app)
    assert "Not measured." in body and estimate_basis("RTX 4090") in body
    assert "calibrated on synthetic inputs" in body
    assert "INT8 convolution writes FP32" in body  # the split-epilogue finding


def test_compare_explains_bytes_reasons_and_kernels(rtx_app, rtx_runs, rtx_store):
    ids = [rtx_runs["resnet18-fp32"], rtx_runs["resnet18-int8-tensorrt-uncalibrated"], rtx_runs["resnet18-fp16"]]
    open_page(rtx_app, "compare", ids[1], ids[0], ids[2:])
    body = texts(rtx_app)
    assert "resnet18-int8-tensorrt-uncalibrated is 13.72 MiB, 31% of resnet18-fp32's 44.88 MiB" in body
    assert "shrank to 25%" in body and "grew from" in body
    # The roofline reads weights and bias; the constants of generated kernels are a part of their own now.
    assert f"were compared on **{estimate_basis('RTX 4090')}** times" in body
    fp32, int8 = (estimate_latency(rtx_store.load(ids[i])).total_ms for i in (0, 1))
    assert f"#### resnet18-int8-tensorrt-uncalibrated is {fp32 / int8:.2f}× resnet18-fp32 (FP32): faster by" in body
    # 19 kernels: the input quantize, 10 single epilogues, 8 residual epilogues that quantize twice.
    assert "19 generated (kgen) kernels perform 29 quantize steps" in body
    m = metrics(rtx_app)
    assert m["resnet18-fp32 (est.)"].startswith("~") and "Speedup resnet18-int8-tensorrt-uncalibrated vs resnet18-fp32 (estimate)" in m
    reasons = next(d.value for d in rtx_app.dataframe if "reason" in d.value.columns)
    assert dict(zip(reasons["reason"], reasons["layers"])) == {"split_epilogue": 34, "quantize_boundary": 1}


def test_latency_page_draws_estimates_with_their_label(rtx_app, rtx_runs):
    open_page(rtx_app, "latency", rtx_runs["resnet18-fp16"])
    body = texts(rtx_app)
    assert "Not measured." in body and "No per-layer times" not in body
    rtx_app.selectbox(key=state.GPU).set_value("RTX 3090").run()
    assert not rtx_app.exception and estimate_basis("RTX 3090") in texts(rtx_app)


def test_build_page_builds_real_engines_and_opens_them(rtx_env, tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERLENS_RUNS", str(tmp_path))
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.switch_page("app_pages/build.py").run()
    app.selectbox(key="build.model").set_value("tiny_cnn (sample)").run()
    app.multiselect(key="build.rtx.placement").set_value(["tensorrt"]).run()
    assert app.button(key="build.rtx.go").label == "Build 2 recipe(s)"  # FP32 and INT8 are ticked by default
    app.button(key="build.rtx.go").click().run()
    assert not app.exception, [e.value for e in app.exception]
    from engine_core.store import RunStore

    names = sorted(r.name for r in RunStore(tmp_path).list_runs())
    assert names == ["tiny_cnn-fp32", "tiny_cnn-int8-tensorrt-uncalibrated"]
    assert app.session_state[state.RUN].startswith("tiny_cnn-int8") and app.session_state[state.BASELINE].startswith("tiny_cnn-fp32")


@pytest.fixture
def netron_urls():
    """URLs of the Netron servers a test started: each is stopped, and forgotten by the app's cache, when it ends."""
    urls: list[str] = []
    yield urls
    import urllib.error
    import urllib.parse
    import urllib.request

    import netron

    from dashboard.components.onnx_viewer import _serve

    for url in urls:
        where = urllib.parse.urlparse(url)
        netron.stop((where.hostname, where.port))
        # netron.stop shuts its server thread down asynchronously: poll until the port refuses (busy 2-core CI).
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
            except OSError:  # refused (URLError), or reset mid-request while it shuts down
                break
            assert time.monotonic() < deadline, f"the Netron server at {url} still answers after netron.stop"
            time.sleep(0.2)
    _serve.clear()


def test_graph_of_a_build_opens_its_onnx_in_netron(rtx_app, rtx_runs, netron_urls):
    import urllib.request

    open_page(rtx_app, "graph", rtx_runs["resnet18-int8-ort-uncalibrated"], "")
    body = texts(rtx_app)
    assert "53 layers. Drag to pan" in body and "Not measured." in body
    button = next(b for b in rtx_app.button if "Open the ONNX graph" in b.label)
    button.click().run()
    assert not rtx_app.exception
    url = next(c.value for c in rtx_app.caption if "Netron serves" in c.value).split(" at ")[1].split(" ")[0]
    netron_urls.append(url)
    page = urllib.request.urlopen(url, timeout=10).read().decode()
    assert "Netron" in page  # a real Netron, on a local port, serving the recipe's ONNX


def test_a_shared_dashboard_says_where_the_onnx_is_instead_of_linking_to_its_own_loopback(rtx_app, rtx_runs,
                                                                                           monkeypatch):
    # `layerlens dashboard --host` sets a token: a Netron link (a loopback URL) would point at the viewer's machine.
    monkeypatch.setenv("LAYERLENS_TOKEN", "s3cret")
    rtx_app.query_params["token"] = "s3cret"
    open_page(rtx_app, "graph", rtx_runs["resnet18-int8-ort-uncalibrated"], "")
    assert not [b for b in rtx_app.button if "Open the ONNX graph" in b.label]
    note = next(c.value for c in rtx_app.caption if "This dashboard is shared" in c.value)
    assert "netron.app" in note and ".onnx" in note
