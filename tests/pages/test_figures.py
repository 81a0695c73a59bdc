"""Figure builders without Streamlit: traces, axes, ordering, provenance, and the bar limit."""

from __future__ import annotations

import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from conftest import FIXTURES, load_one
from offline_html import external_references
from layerlens.views import figures
from layerlens.views.export_html import ViewItem, build_html_report
from engine_core.analysis.compare import compare_engines
from engine_core.analysis.gpus import find_gpu
from engine_core.analysis.latency import aggregate_waterfall, time_by, top_layers, waterfall
from engine_core.analysis.roofline import roofline_table
from engine_core.analysis.size import account_bytes

PROV = "resnet-qat · NVIDIA GeForce RTX 3090 · TensorRT unknown · FP32+FP16+INT8"


@pytest.fixture(scope="module")
def qat():
    return load_one(FIXTURES / "trex-rtx3090" / "qat")


def test_precision_share_stacks_to_100_in_precision_order(qat):
    fig = figures.make_precision_share_figure(time_by(qat.layers, "compute_precision"), PROV)
    assert [t.name for t in fig.data] == ["INT8", "FP32"]
    assert sum(t.x[0] for t in fig.data) == pytest.approx(100.0)
    assert fig.layout.barmode == "stack" and PROV in fig.layout.title.text


def test_waterfall_bars_start_where_previous_ended(qat):
    wf = waterfall(qat.layers)
    fig = figures.make_waterfall_figure(wf, PROV)
    bars = {t.name: t for t in fig.data}
    assert set(bars) == {"FP32", "INT8"}
    int8 = bars["INT8"]
    for order, base, height in zip(int8.x, int8.base, int8.y):
        row = wf[wf["order"] == order].iloc[0]
        assert base == pytest.approx(row["start_ms"]) and height == pytest.approx(row["avg_ms"])
    assert fig.layout.xaxis.title.text == "layer (execution order)"


def test_waterfall_refuses_too_many_bars():
    big = pd.DataFrame({"order": range(301), "name": "x", "layer_type": "t", "compute_precision": "FP16",
                        "avg_ms": 1.0, "start_ms": 0.0, "end_ms": 1.0, "share_pct": 0.1})
    with pytest.raises(ValueError, match="aggregate"):
        figures.make_waterfall_figure(big)


def test_bucket_waterfall_keeps_total(qat):
    buckets = aggregate_waterfall(qat.layers, max_bars=20)
    fig = figures.make_bucket_waterfall_figure(buckets, PROV)
    assert len(fig.data[0].x) == len(buckets) <= 20
    assert sum(fig.data[0].y) == pytest.approx(qat.layers["avg_ms"].sum())


def test_top_layers_largest_on_top(qat):
    fig = figures.make_top_layers_figure(top_layers(qat.layers, 10), PROV)
    x = list(fig.data[0].x)
    assert x == sorted(x) and len(x) == 10  # horizontal bars: the last drawn is the top one


def test_size_components_and_ideal(qat):
    account = account_bytes(qat)
    fig = figures.make_size_components_figure(account.components(), account.ideal_weights_bytes, "INT8", PROV)
    names = [t.name for t in fig.data]
    assert names == ["weights", "bias", "ideal weights at INT8"]  # no constants of generated kernels, no engine size
    assert fig.data[0].y[0] == pytest.approx(25502912 / 2**20)
    assert fig.data[0].marker.color == figures.component_color("weights") != fig.data[1].marker.color


def test_roofline_is_labelled_estimate_with_log_axes(qat):
    gpu = find_gpu("NVIDIA GeForce RTX 3090")
    fig = figures.make_roofline_figure(roofline_table(qat.layers, gpu), gpu, PROV)
    assert "estimate" in fig.layout.title.text
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    roofs = [t for t in fig.data if t.name.endswith("roof")]
    assert {t.name for t in roofs} >= {"INT8 roof", "FP32 roof"}
    points = [t for t in fig.data if t.mode == "markers"]
    assert {t.name for t in points} == {"INT8", "FP32"}


def test_speedup_waterfall_runs_from_a_to_b():
    fp16 = load_one(FIXTURES / "trex-rtx3090" / "fp16")
    qat = load_one(FIXTURES / "trex-rtx3090" / "qat")
    groups = compare_engines([fp16, qat]).groups
    a_total = groups["a_ms"].sum()
    fig = figures.make_speedup_waterfall_figure(groups, "fp16", "qat", a_total, top=10)
    w = fig.data[0]
    assert list(w.measure) == ["absolute"] + ["relative"] * 11 + ["total"]
    assert w.y[0] == pytest.approx(a_total)
    assert a_total + sum(w.y[1:-1]) == pytest.approx(groups["b_ms"].sum())


def test_sunburst_parents_are_precisions(qat):
    fig = figures.make_precision_sunburst_figure(qat.layers, "avg_ms", PROV)
    sb = fig.data[0]
    roots = [i for i, p in zip(sb.ids, sb.parents) if p == ""]
    assert set(roots) == {"INT8", "FP32"}
    assert sum(v for v, p in zip(sb.values, sb.parents) if p == "") == pytest.approx(qat.layers["avg_ms"].sum())


def test_html_report_is_self_contained(qat):
    fig = figures.make_precision_share_figure(time_by(qat.layers, "compute_precision"), PROV)
    html = build_html_report("LayerLens · Overview", PROV, [ViewItem("Share", figure=fig),
                                                           ViewItem("Table", table=qat.layers[["name", "avg_ms"]].head(3))],
                             "2026-11-25")
    assert html.startswith("<!DOCTYPE html>") and get_plotlyjs() in html  # plotly.js inlined, whole
    assert external_references(html) == []  # no script, stylesheet, image or link to fetch, anywhere in the page
    assert html.count("Plotly.newPlot") == 1 and PROV in html and "resnet50/conv1_pad/Pad" in html and "estimates" in html


def test_a_view_items_table_may_be_made_only_when_the_view_is_exported(qat):
    """A page records a whole table it does not hold (the Precision page's fallbacks) as a callable: exported, the
    view holds the same table as when recorded as a frame, and the callable runs only then."""
    table = qat.layers[["name", "avg_ms"]].head(3)
    made = []
    item = ViewItem("Table", table=lambda: made.append(1) or table)
    assert made == []
    assert (build_html_report("T", PROV, [item], "2026-12-02") == build_html_report("T", PROV, [ViewItem("Table", table=table)],
                                                                                  "2026-12-02"))
    assert made == [1]


def test_roofline_caps_points_for_big_engines(qat):
    gpu = find_gpu("NVIDIA GeForce RTX 3090")
    roof = roofline_table(qat.layers, gpu)
    fig = figures.make_roofline_figure(roof, gpu, PROV, max_points=10)
    points = sum(len(t.x) for t in fig.data if t.mode == "markers")
    assert points == 10 and "10 slowest of" in fig.layout.title.text


def test_stream_lanes_never_draw_a_bar_per_layer():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from synthetic import make_layers

    from engine_core.layer_table import layer_table_from_records

    layers = layer_table_from_records(make_layers(3000)).assign(avg_ms=0.01)
    fig = figures.make_stream_lanes_figure(layers, max_segments=100)
    assert {t.name for t in fig.data} == {"stream 0", "stream 1"}
    assert all(len(t.x) <= 100 for t in fig.data)
    assert sum(sum(t.x) for t in fig.data) == pytest.approx(30.0)


def test_measured_vs_estimated_plots_every_timed_layer_and_rings_the_slow_ones(qat):
    from engine_core.analysis.estimate import measured_vs_estimated
    from engine_core.analysis.latency_model import default_latency_model

    model = default_latency_model()
    table = measured_vs_estimated(qat)
    fig = figures.make_measured_vs_estimated_figure(table, model.label, model.error.outlier_ratio, "RTX 3090", PROV)
    classes = [t for t in fig.data if t.name in figures.CLASS_COLORS]
    timed = table[(table["measured_ms"] > 0) & (table["estimated_ms"] > 0)]
    assert sum(len(t.x) for t in classes) == len(timed) == 62  # every layer but the NoOp
    diagonal, band = fig.data[0], fig.data[1]
    assert list(diagonal.x) == list(diagonal.y) and band.y[0] == pytest.approx(band.x[0] * model.error.outlier_ratio)
    rings = next(t for t in fig.data if t.name == "slower than the model expects")
    assert len(rings.x) == int(table["slower_than_model"].sum()) >= 3
    assert fig.layout.xaxis.type == "log" and model.label in fig.layout.xaxis.title.text and PROV in fig.layout.title.text


def test_every_figure_carries_the_plotly_white_template_as_plotly_would_validate_it(qat):
    """_titled sets the template unvalidated (validating it again cost 40-300 ms a figure): the figure's JSON holds
    exactly the template ``template="plotly_white"`` gives, and a figure still refuses an invalid property."""
    import plotly.graph_objects as go

    fig = figures.make_time_by_figure(time_by(qat.layers, "layer_type"), "layer_type", PROV)
    validated = go.Figure(layout={"template": "plotly_white"})
    assert fig.to_plotly_json()["layout"]["template"] == validated.to_plotly_json()["layout"]["template"]
    assert fig.layout._validate
    with pytest.raises(ValueError):
        fig.update_layout(height="tall")


def test_stream_lanes_bucket_each_stream_and_colour_a_bucket_by_its_dominant_precision(qat):
    """Two streams of the QAT engine's timed layers (alternating; layers 10-29 relabelled FP16, so that buckets differ),
    drawn in 8 buckets a lane: each bar's time is its bucket's sum and its colour the precision with the most time
    in it, found per bucket here one by one."""
    order = qat.layers["order"]
    layers = qat.layers.assign(stream_id=order % 2, compute_precision=qat.layers["compute_precision"].where(
        ~order.between(10, 29), "FP16"))
    fig = figures.make_stream_lanes_figure(layers, PROV, max_segments=8)
    timed = layers[layers["avg_ms"].notna()].sort_values("order")
    assert [t.name for t in fig.data] == ["stream 0", "stream 1"]
    for trace, (_, lane) in zip(fig.data, timed.groupby("stream_id")):
        size = -(-len(lane) // 8)
        buckets = [lane.iloc[i:i + size] for i in range(0, len(lane), size)]
        assert 1 < size and len(trace.x) == len(buckets)
        assert list(trace.x) == pytest.approx([b["avg_ms"].sum() for b in buckets])
        dominant = [b.groupby("compute_precision")["avg_ms"].sum().idxmax() for b in buckets]
        assert list(trace.marker.color) == [figures.PRECISION_COLORS[p] for p in dominant]
    assert len({c for t in fig.data for c in t.marker.color}) > 1  # the buckets differ: the check above can fail
