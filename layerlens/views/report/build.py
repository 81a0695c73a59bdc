"""What a report says: the analyses of one engine (and its baseline), as sections of figures, tables and text.

Pure: engines in, a :class:`Report` out; :mod:`layerlens.views.report.html` turns it
into one offline HTML file. The same figure builders as the dashboard, with big
engines aggregated (bucketed waterfall, folded graph, top-N tables) so a
10k-layer report stays a few MB, most of it plotly.js.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from layerlens.views import figures as F
from layerlens.views.accuracy_figures import make_layer_sqnr_figure
from layerlens.views.graph_figure import make_engine_graph_figure
from layerlens.views.key_numbers import key_numbers
from layerlens.views.provenance import provenance_text
from engine_core import __version__
from engine_core.accuracy.join import engine_layers_by_node, with_layer_accuracy
from engine_core.accuracy.report import format_local_sqnr, format_sqnr
from engine_core.accuracy.tradeoff import tradeoff_points
from engine_core.analysis.attribution import Attribution
from engine_core.analysis.compare import Comparison
from engine_core.analysis.diagnose import diagnose
from engine_core.analysis.latency_model import default_latency_model
from engine_core.analysis.latency import aggregate_waterfall, time_by, top_layers
from engine_core.analysis.size import ByteAccount
from engine_core.engine import Engine
from engine_core.graph import engine_graph, fit_for_drawing, layout_graph

TABLE_COLUMNS = ("order", "name", "layer_type", "compute_precision", "output_precision", "avg_ms", "latency_share_pct",
                 "weights_precision", "weights_bytes", "fallback_reason", "tactic_name")


@dataclass
class Block:
    """One thing in a section: a figure, a table, a paragraph, or raw HTML built by the renderer."""

    kind: str                      # "figure" | "table" | "text" | "kpis" | "findings" | "layers" | "provenance"
    title: str = ""
    figure: go.Figure | None = None
    table: pd.DataFrame | None = None
    text: str = ""
    items: list = field(default_factory=list)


@dataclass
class Section:
    anchor: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Report:
    title: str
    verdict: str
    estimate_notice: str | None
    sections: list[Section]
    layer_table: pd.DataFrame
    generated_utc: str

    def figures(self) -> list[tuple[str, go.Figure]]:
        """Every chart, in order, named for ``--png``."""
        return [(b.title, b.figure) for s in self.sections for b in s.blocks if b.kind == "figure" and b.figure is not None]


def build_report(engine: Engine, baseline: Engine | None = None) -> Report:
    """Every section of the report of ``engine`` (against ``baseline`` when given)."""
    # Every analysis through engine.analysis: diagnose and these sections share one computation of each.
    timed = engine.analysis.timed()
    prov = provenance_text(timed)
    comparison = attribution = None
    if baseline is not None:
        comparison, attribution = engine.analysis.compared_with(baseline)
    findings = diagnose(engine, baseline)  # its fairness warnings included
    fallbacks = engine.analysis.fallbacks
    account = engine.analysis.byte_account
    verdict = attribution.verdict if attribution else _single_verdict(engine, timed, fallbacks)
    sections = [
        Section("summary", "Verdict and findings", [Block("kpis", items=key_numbers(engine, timed, account)),
                                                     Block("findings", items=findings)]),
        Section("precision", "Precision", _precision_blocks(engine, timed, fallbacks, prov)),
        Section("size", "Size", _size_blocks(account, prov)),
        Section("latency", "Latency", _latency_blocks(timed, prov)),
    ]
    if engine.accuracy is not None or (baseline is not None and baseline.accuracy is not None):
        sections.insert(2, Section("accuracy", "Accuracy", _accuracy_blocks(engine, baseline, prov)))
    if comparison is not None:
        sections.append(Section("comparison", f"Comparison with {baseline.name}",
                                 _comparison_blocks(comparison, attribution, prov)))
    sections.append(Section("graph", "Engine graph", _graph_blocks(timed, comparison, fallbacks, prov)))
    sections.append(Section("layers", "Layers", [Block("layers")]))
    sections.append(Section("provenance", "Provenance", [Block("provenance", items=_provenance(engine, "Engine"))]
                            + ([Block("provenance", items=_provenance(baseline, "Baseline"))] if baseline else [])))
    notice = None
    if timed.is_estimate:
        notice = (f"Not measured: {engine.builder or 'this build'} produced a real engine, but nothing timed it. "
                  f"Every time in this report is an {timed.time_basis}: each layer's FLOPs and bytes through a model "
                  "calibrated on real TensorRT profiles, for comparing layers and builds, not a latency to quote.")
    title = f"LayerLens report: {engine.name}" + (f" vs {baseline.name}" if baseline else "")
    return Report(title, verdict, notice, sections, _layer_table(timed, fallbacks),
                  time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))


def _single_verdict(engine: Engine, timed: Engine, fallbacks: pd.DataFrame) -> str:
    requested, _ = engine.analysis.requested_precision
    ms = engine.gpu_compute.median_ms if engine.gpu_compute else timed.per_layer_sum_ms
    basis = "GPU compute median" if engine.gpu_compute else timed.time_basis if timed.is_estimate else "per-layer sum"
    time_text = f"{ms:.4f} ms {basis}" if ms else "no time measured"
    if requested is None:
        return f"{engine.name}: {len(engine.layers)} layers, {time_text}."
    above = int(sum(fallbacks["compute_precision"] != requested)) if not fallbacks.empty else 0
    return (f"{engine.name}: {time_text}; {len(engine.layers) - above} of {len(engine.layers)} layers compute in "
            f"{requested} or narrower, {above} do not.")


def _precision_blocks(engine: Engine, timed: Engine, fallbacks: pd.DataFrame, prov: str) -> list[Block]:
    blocks = []
    by_precision = time_by(timed.layers, "compute_precision")
    if by_precision["time_ms"].sum() > 0:
        blocks.append(Block("figure", "Share of time per precision", F.make_precision_share_figure(by_precision, prov)))
    counts = engine.layers["compute_precision"].value_counts()
    blocks.append(Block("text", text="Layers per compute precision: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + "."))
    if not fallbacks.empty:
        blocks.append(Block("figure", "Fallback reasons", F.make_fallback_reasons_figure(engine.analysis.fallback_summary, prov)))
        blocks.append(Block("table", "Layers not in the requested precision, and why",
                            table=fallbacks[["order", "name", "compute_precision", "output_precision", "reason_text",
                                             "evidence", "avg_ms"]].head(200)))
    return blocks


def _accuracy_blocks(engine: Engine, baseline: Engine | None, prov: str) -> list[Block]:
    """The output error beside size and speed (both engines with a baseline), and the per-layer SQNR."""
    points = tradeoff_points([e for e in (engine, baseline) if e is not None])
    blocks = [Block("table", "Accuracy beside size and speed", table=pd.DataFrame({
        "engine": points["name"], "recipe": points["recipe"], "output SQNR": points["sqnr_db"].map(format_sqnr),
        "inputs": points["inputs"], "engine MiB": (points["engine_bytes"] / 2**20).round(2),
        "latency ms": points["latency_ms"], "latency basis": points["latency_basis"]}))]
    report = engine.accuracy
    if report is None:
        return blocks + [Block("text", text=f"{engine.name} carries no accuracy measurement (built before LayerLens "
                                            "measured it, or not by LayerLens): `layerlens accuracy` measures it.")]
    blocks.insert(0, Block("text", text=report.statement()))
    if not report.nodes.empty:
        blocks.append(Block("figure", "Per-layer SQNR", make_layer_sqnr_figure(
            report.nodes, report.output.sqnr_db, report.inputs_label, prov)))
        mapping = engine_layers_by_node(engine.layers)
        noisy = report.nodes.sort_values("local_sqnr_db", na_position="last").head(15)
        blocks.append(Block("table", "Noisiest nodes (lowest local SQNR: the noise a node adds itself)", table=pd.DataFrame({
            "onnx node": noisy["onnx_node"], "op": noisy["op_type"], "precision": noisy["precision"],
            "local SQNR": noisy["local_sqnr_db"].map(format_local_sqnr), "output SQNR": noisy["sqnr_db"].map(format_sqnr),
            "engine layers": noisy["onnx_node"].map(lambda n: ", ".join(mapping.get(n, []))[:120])})))
    return blocks


def _size_blocks(account: ByteAccount, prov: str) -> list[Block]:
    blocks = [Block("text", text=account.statement),
              Block("figure", "Where the bytes go", F.make_size_components_figure(
                  account.components(), account.ideal_weights_bytes, account.requested_precision, prov))]
    if not account.by_precision.empty:
        blocks.append(Block("figure", "Bytes by precision", F.make_bytes_by_figure(account.by_precision, "precision", prov)))
    blocks.append(Block("table", "Largest layers", table=account.top_layers))
    return blocks


def _latency_blocks(timed: Engine, prov: str) -> list[Block]:
    layers = timed.layers
    wf = timed.analysis.waterfall
    if wf.empty:
        return [Block("text", text="No per-layer times in these artifacts (add --exportProfile).")]
    if len(wf) > F.MAX_BARS:
        chart = F.make_bucket_waterfall_figure(aggregate_waterfall(layers), prov)
    else:
        chart = F.make_waterfall_figure(wf, prov)
    blocks = [Block("figure", "Latency waterfall", chart),
              Block("figure", "Top layers", F.make_top_layers_figure(top_layers(layers, 15), prov)),
              Block("figure", "Time by layer type", F.make_time_by_figure(time_by(layers, "layer_type").head(15), "layer_type", prov))]
    against = timed.analysis.measured_vs_estimated  # empty for an estimate, or when the GPU is unknown
    if not against.empty:
        model = default_latency_model()
        gpu = timed.analysis.estimate_gpu
        blocks.append(Block("figure", "Measured vs estimated", F.make_measured_vs_estimated_figure(
            against, model.label, model.error.outlier_ratio, gpu.name, prov)))
    return blocks


def _comparison_blocks(cmp: Comparison, att: Attribution, prov: str) -> list[Block]:
    blocks = [Block("text", text=att.verdict), Block("text", text=att.reconciliation)]
    if att.different_networks:
        return blocks
    blocks.append(Block("figure", "Where the difference comes from", F.make_attribution_figure(
        [(p.label, p.ms) for p in att.parts], f"{att.baseline} (sum)", att.a_sum_ms, f"{att.engine} (sum)", att.b_sum_ms,
        prov, estimate=att.estimate)))
    groups = cmp.groups
    if not groups.empty:
        top = groups.reindex(groups["delta_ms"].abs().sort_values(ascending=False, na_position="last").index).head(40)
        blocks.append(Block("table", f"Aligned groups with the largest change (of {len(groups)})", table=pd.DataFrame({
            "onnx nodes": top["onnx_nodes"].map(lambda n: " + ".join(n)[:80]), "match": top["match"],
            "baseline precision": top["a_precision"], "precision": top["b_precision"],
            "baseline ms": top["a_ms"], "ms": top["b_ms"], "delta ms": top["delta_ms"]})))
    return blocks


def _graph_blocks(timed: Engine, comparison: Comparison | None, fallbacks: pd.DataFrame, prov: str) -> list[Block]:
    graph = engine_graph(timed, comparison=comparison, fallbacks=fallbacks)
    drawn = fit_for_drawing(graph)
    colour = "change" if comparison is not None else "precision"
    title = "Engine graph" + (" · colour = precision change vs baseline" if comparison is not None else "")
    blocks = [Block("figure", "Engine graph", make_engine_graph_figure(drawn, layout_graph(drawn), colour, "ms",
                                                                     provenance=prov, title=title))]
    if len(drawn.nodes) < len(graph.nodes):
        blocks.insert(0, Block("text", text=f"{len(timed.layers):,} layers folded into {len(drawn.nodes)} nodes "
                                            "(by ONNX scope, then execution order); the layer table below has every layer."))
    return blocks


def _layer_table(timed: Engine, fallbacks: pd.DataFrame) -> pd.DataFrame:
    reasons = dict(zip(fallbacks["name"].tolist(), fallbacks["reason_text"].tolist())) if not fallbacks.empty else {}
    table = timed.layers.assign(fallback_reason=timed.layers["name"].map(reasons))
    if timed.accuracy is None:
        return table[list(TABLE_COLUMNS)]
    return with_layer_accuracy(table[list(TABLE_COLUMNS)], timed.layers, timed.accuracy)[[*TABLE_COLUMNS, "sqnr_db"]]


def _provenance(engine: Engine, role: str) -> list[tuple[str, str]]:
    meta = engine.metadata
    rows = [(f"{role}", engine.name),
            ("GPU", engine.device or (f"none: built for {engine.target}" if engine.target else "unknown")),
            ("TensorRT", engine.tensorrt_version or "unknown"), ("Builder", engine.builder or "trtexec / TensorRT (from the artifacts)"),
            ("Recipe", engine.recipe or "—"), ("Precision flags", engine.precision_label or "unknown"),
            ("Input shapes", engine.input_shapes or "unknown")]
    if engine.command:
        rows.append(("Command", engine.command))
    if meta.build_options:
        rows.append(("Build options", "; ".join(f"{k}: {v}" for k, v in meta.build_options.items())))
    for key, value in engine.build_facts.items():  # what LayerLens recorded when it built the engine
        if key not in ("builder", "recipe"):
            rows.append((key[:1].upper() + key[1:], value))
    for path in engine.files:
        rows.append(("Source file", f"{Path(path).name}  sha256 {_sha256(path)}"))
    rows.append(("LayerLens", __version__))
    return rows


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return "(file no longer readable)"
    return digest.hexdigest()
