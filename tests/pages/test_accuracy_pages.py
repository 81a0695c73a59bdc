"""AppTest on real TensorRT-RTX builds: accuracy on the Layers, Precision, Graph, Compare and Build pages,
labelled synthetic wherever it is."""

from __future__ import annotations

import math

from streamlit.testing.v1 import AppTest

from tests.pages.test_app import APP, metrics, open_page, texts


def test_layers_table_carries_each_layers_sqnr(rtx_app, rtx_runs):
    open_page(rtx_app, "layers", rtx_runs["resnet18-int8-tensorrt-uncalibrated"])
    table = rtx_app.dataframe[0].value
    assert "sqnr_db" in table.columns and len(table) == 53
    convs = table[table["layer_type"] == "correlation"]
    assert len(convs) == 20 and convs["sqnr_db"].between(25, 45).all()
    assert table.loc[table["layer_type"].isin(["signal", "wait"]), "sqnr_db"].isna().all()
    body = texts(rtx_app)
    assert "SQNR on synthetic inputs" in body and "select rows to keep them in FP16/FP32" in body


def test_precision_page_shows_the_per_layer_error_and_says_synthetic(rtx_app, rtx_runs):
    open_page(rtx_app, "precision", rtx_runs["resnet18-int8-tensorrt-uncalibrated"])
    body = texts(rtx_app)
    assert "Quantization error per layer" in [h.value for h in rtx_app.subheader]  # texts() holds no headings
    assert "Output SQNR 36.1 dB against resnet18.onnx (min cosine 0.99987, top-1 agreement" in body
    assert "relative error between the two models, not task accuracy" in body and "**Synthetic inputs**" in body
    noisiest = next(d.value for d in rtx_app.dataframe if "local SQNR dB" in d.value.columns)
    assert len(noisiest) == 15 and noisiest["local SQNR dB"].is_monotonic_increasing


def test_compare_puts_accuracy_beside_size_and_speed(rtx_app, rtx_runs):
    ids = [rtx_runs["resnet18-fp32"], rtx_runs["resnet18-int8-tensorrt-uncalibrated"]]
    open_page(rtx_app, "compare", ids[1], ids[0], [])
    m = metrics(rtx_app)
    assert m["resnet18-fp32: output SQNR"] == "identical"
    assert m["resnet18-int8-tensorrt-uncalibrated: output SQNR"] == "36.1 dB"
    body = texts(rtx_app)
    # Six stored builds of resnet18 (fp32, fp16, bf16 without a measurement, int8 x2, fp8): five on the chart.
    assert "Every stored build of this model (5)" in body and "**Synthetic inputs**" in body
    groups = next(d.value for d in rtx_app.dataframe if "b_sqnr_db" in d.value.columns)
    assert groups["a_sqnr_db"].isna().all() and groups["b_sqnr_db"].dropna().between(25, 70).all()


def test_graph_colours_by_quantization_error(rtx_app, rtx_runs):
    open_page(rtx_app, "graph", rtx_runs["resnet18-int8-ort-uncalibrated"], "")
    radio = rtx_app.radio(key="graph.colour")
    assert radio.options == ["Compute precision", "Quantization error"]
    radio.set_value("Quantization error").run()
    assert not rtx_app.exception
    assert "colour = SQNR vs the float model (synthetic inputs)" in rtx_app.get("plotly_chart")[0].proto.spec


def test_build_page_advises_with_a_target(rtx_env, tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERLENS_RUNS", str(tmp_path))
    app = AppTest.from_file(APP, default_timeout=300).run()
    app.switch_page("app_pages/build.py").run()
    app.selectbox(key="build.model").set_value("tiny_cnn (sample)").run()
    app.slider(key="advise.target").set_value(20.0).run()
    app.button(key="advise.go").click().run()
    assert not app.exception, [e.value for e in app.exception]
    body = texts(app)
    assert "Met 20 dB keeping 0 layer(s) in FP16." in body and "INT8 everywhere already meets 20 dB" in body
    steps = next(d.value for d in app.dataframe if "output SQNR" in d.value.columns)
    assert len(steps) == 1 and steps["meets"].tolist() == ["yes"] and not math.isnan(steps["engine MiB"][0])
