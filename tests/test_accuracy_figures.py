"""The size/latency-vs-SQNR figure labels an estimated latency with the model that made it."""

from __future__ import annotations

import math

import pandas as pd

from engine_core.accuracy.tradeoff import POINT_COLUMNS, pareto_front
from engine_core.analysis.estimate import estimate_basis
from layerlens.views.accuracy_figures import make_accuracy_tradeoff_figure


def _points(basis: str) -> pd.DataFrame:
    rows = [("m-fp32", None, "fp32", math.inf, 46_000_000, 0.45, basis, "synthetic", 0),
            ("m-int8", None, "int8-ort-uncalibrated", 35.1, 14_400_000, 0.29, basis, "synthetic", 0)]
    return pd.DataFrame(rows, columns=list(POINT_COLUMNS)).astype({"sqnr_db": float})


def test_an_estimated_latency_panel_names_the_latency_model():
    points = _points(estimate_basis("RTX 4090"))
    fig = make_accuracy_tradeoff_figure(points, pareto_front(points, "engine_bytes"), pareto_front(points, "latency_ms"),
                                         "synthetic inputs")
    titles = [a.text for a in fig.layout.annotations]
    assert titles[:2] == ["engine size", f"latency ({estimate_basis('RTX 4090')})"]
    assert "LayerLens latency model v1" in titles[1] and "roofline" not in titles[1]


def test_a_measured_latency_panel_says_nothing_more():
    points = _points("measured")
    fig = make_accuracy_tradeoff_figure(points, pareto_front(points, "engine_bytes"), pareto_front(points, "latency_ms"),
                                         "synthetic inputs")
    assert [a.text for a in fig.layout.annotations][:2] == ["engine size", "latency"]


def test_builds_sitting_together_get_their_labels_on_different_sides():
    """The demo's two INT8 recipes have the same estimated latency and SQNR a dB apart: their names printed over
    each other. Neighbours now take different sides; a build far from the others keeps its label on top."""
    basis = estimate_basis("RTX 4090")
    rows = [("m-fp32", None, "fp32", math.inf, 46_000_000, 0.461, basis, "synthetic", 0),
            ("m-fp16", None, "fp16", 68.8, 23_000_000, 0.206, basis, "synthetic", 0),
            ("m-int8-tensorrt", None, "int8-tensorrt-uncalibrated", 36.1, 14_390_000, 0.2906, basis, "synthetic", 0),
            ("m-int8-ort", None, "int8-ort-uncalibrated", 35.1, 14_420_000, 0.2906, basis, "synthetic", 0)]
    points = pd.DataFrame(rows, columns=list(POINT_COLUMNS)).astype({"sqnr_db": float})
    fig = make_accuracy_tradeoff_figure(points, pareto_front(points, "engine_bytes"), pareto_front(points, "latency_ms"),
                                        "synthetic inputs")
    for builds in (t for t in fig.data if t.mode == "markers+text"):  # the size panel and the latency panel
        assert len(builds.textposition) == len(points)  # one place per build
        places = dict(zip(points["name"], builds.textposition))
        assert places["m-int8-tensorrt"] != places["m-int8-ort"]
        assert places["m-fp32"] == places["m-fp16"] == "top center"
