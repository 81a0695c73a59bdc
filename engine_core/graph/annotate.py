"""The graph the pages and the report draw: wired, with fallback reasons, each layer's SQNR when the build measured
it, and (given a baseline) the change per group."""

from __future__ import annotations

import pandas as pd

from engine_core.accuracy.join import layer_sqnr
from engine_core.analysis.compare import Comparison
from engine_core.engine import Engine
from engine_core.graph.model import EngineGraph, build_graph, mark_precision_change, mark_quantization_error


def engine_graph(engine: Engine, baseline: Engine | None = None, comparison: Comparison | None = None,
                 fallbacks: pd.DataFrame | None = None) -> EngineGraph:
    """``engine`` as a graph; with ``baseline`` (or a ready ``comparison`` of [baseline, engine]) each layer
    carries its aligned group's precision change. ``fallbacks``: the fallback table of ``engine``
    (default: ``engine.analysis.fallbacks``)."""
    graph = build_graph(engine, engine.analysis.fallbacks if fallbacks is None else fallbacks)
    if engine.accuracy is not None:
        graph = mark_quantization_error(graph, layer_sqnr(engine.layers, engine.accuracy)["sqnr_db"].to_numpy())
    if comparison is None and baseline is not None:
        comparison = engine.analysis.compared_with(baseline)[0]
    if comparison is not None:
        graph = mark_precision_change(graph, comparison.groups)
    return graph
