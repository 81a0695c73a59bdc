"""All caching and all reads of the run store for the dashboard live here.

Loaded engines are cached as resources (large, shared, never mutated) keyed by
run id, which is a content hash, so a cached engine can never go stale. An
engine's own analyses live on it (``engine.analysis``: computed once, shared by
every page, diagnose and the report); analyses of several engines or another GPU
are cached per (run ids, GPU). Every cache is bounded. The heavy results are also
kept in the run's folder (:meth:`RunStore.analysis`): a new server process, or the
first visit after a restart, reads them instead of computing them again, which on
an LLM-size engine is the difference between seconds and a minute. Nothing here
draws; pages call ``load_*`` and render.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pandas as pd
import streamlit as st

from layerlens import access
from engine_core.accuracy.join import layer_sqnr
from engine_core.accuracy.tradeoff import tradeoff_points
from engine_core.analysis import compare as compare_mod
from engine_core.analysis import diagnose as diagnose_mod
from engine_core.analysis import estimate, roofline, size
from engine_core.analysis.attribution import Attribution, attribute
from engine_core.analysis.gpus import CATALOG, GpuSpec, gpu_by_name, gpu_for_engine
from engine_core.analysis.kernels import describe_kernel, quantize_count
from engine_core.engine import Engine
from engine_core.graph import (EngineGraph, engine_graph, fit_for_drawing, layout_graph, mark_precision_change,
                               scope_depth)
from engine_core.graph.layout import GraphLayout
from engine_core.models.zoo import NAMINGS, ZOO, models_cache_dir
from engine_core.store import BrokenRun, RunManifest, RunStore


def store_root() -> Path:
    """``--store DIR`` after ``streamlit run app.py --``, else ``$LAYERLENS_RUNS``, else ``~/.layerlens/runs``."""
    argv = sys.argv[1:]
    if "--store" in argv and argv.index("--store") + 1 < len(argv):
        return Path(argv[argv.index("--store") + 1]).expanduser()
    return RunStore().root


def store() -> RunStore:
    """The run store; read-only (every write refused) on a dashboard started with ``--read-only``."""
    return RunStore(store_root(), read_only=access.read_only())


def fence(path: str | Path, what: str) -> Path:
    """``path`` resolved, when inside a folder this dashboard may read (raises access.PathNotAllowedError)."""
    return access.fence(path, access.readable_roots(store_root()), what)


def user_models() -> list[Path]:
    """The user's own ONNX files: in the models cache (besides generated samples) and the ``--allow-dir`` folders."""
    cache = models_cache_dir()
    generated = {f"{name}.onnx" for name in ZOO} | {f"{name}-{naming}.onnx" for name in ZOO for naming in NAMINGS}
    found = [p for p in sorted(cache.glob("*.onnx")) if p.name not in generated]
    for folder in access.allowed_dirs():
        found += sorted(folder.glob("*.onnx"))
    return found


def _store_stamp(root: Path) -> float:
    try:
        return root.stat().st_mtime
    except OSError:
        return 0.0


@st.cache_data(max_entries=8, show_spinner=False)
def _runs(root: str, stamp: float) -> tuple[list[RunManifest], list[BrokenRun]]:
    return RunStore(root).scan()


def load_runs() -> list[RunManifest]:
    root = store_root()
    return _runs(str(root), _store_stamp(root))[0]


def load_broken_runs() -> list[BrokenRun]:
    """Run folders that cannot be read, with the reason (the Runs page lists them)."""
    root = store_root()
    return _runs(str(root), _store_stamp(root))[1]


def clear_run_list() -> None:
    _runs.clear()


#: Layer columns an outline of an engine leaves unread (``inputs`` and ``outputs`` go with ``record``): per-row
#: JSON, most of the time a 100k-layer run takes to open, and nothing a page draws looks at them.
OUTLINE_SKIPS = ("record", "onnx_nodes")


@st.cache_resource(max_entries=24, show_spinner="Loading engine…")
def _engine(root: str, run_id: str) -> Engine:
    engine = RunStore(root).load(run_id)
    _seed_requested_precision(root, run_id, engine, engine)
    return engine


@st.cache_resource(max_entries=24, show_spinner="Loading engine…")
def _outline(root: str, run_id: str) -> Engine:
    engine = RunStore(root).load(run_id, without=OUTLINE_SKIPS)
    _seed_requested_precision(root, run_id, engine, None)
    return engine


def _seed_requested_precision(root: str, run_id: str, engine: Engine, whole: Engine | None) -> None:
    """Asked for by nearly every view of an engine (the key numbers, the fallbacks): read when kept, never
    recomputed; computed (when not kept) on ``whole``, else on the whole engine loaded for it."""
    vars(engine.analysis)["requested_precision"] = _stored(
        root, run_id, "requested_precision", lambda: (whole or _engine(root, run_id)).analysis.requested_precision)


def load_engine(run_id: str) -> Engine:
    """The stored run as an Engine (raises LayerLensError for unreadable runs)."""
    return _engine(str(store_root()), run_id)


def load_engine_outline(run_id: str) -> Engine:
    """The stored run without the layer columns of :data:`OUTLINE_SKIPS` (every other fact and column as
    :func:`load_engine`), for pages that draw: opens in a fraction of the time. Whatever needs a column left
    out (a layer's full record, an analysis) reads it from :func:`load_layer_rows`, :func:`load_engine` or a kept
    result; asked of the outline, it raises KeyError rather than answer from less."""
    return _outline(str(store_root()), run_id)


@st.cache_resource(max_entries=64, show_spinner=False)
def _layer_rows(root: str, run_id: str, rows: tuple[int, ...]) -> pd.DataFrame:
    return RunStore(root).load_layers(run_id, rows)


def load_layer_rows(run_id: str, rows) -> pd.DataFrame:
    """Every column of the layers ``rows`` (their index in ``engine.layers``), without the whole engine."""
    return _layer_rows(str(store_root()), run_id, tuple(int(r) for r in rows))


@st.cache_resource(max_entries=32, show_spinner=False)
def _timed_engine(root: str, run_id: str, gpu_name: str) -> Engine:
    engine = _engine(root, run_id)
    return engine.analysis.timed(estimate.estimate_gpu(engine, gpu_name or None))


def load_timed_engine(run_id: str, gpu_name: str = "") -> Engine:
    """The engine for time views: as measured (its outline: :func:`load_engine_outline`), or (never timed) a
    copy with the model's labelled estimates (made from every column).

    ``gpu_name`` picks the estimate's GPU (default: the engine's own or its target's stand-in).
    """
    root = str(store_root())
    outline = _outline(root, run_id)
    if outline.measured:  # shown as measured: the outline holds every time
        return outline.analysis.timed(estimate.estimate_gpu(outline, gpu_name or None))
    return _timed_engine(root, run_id, gpu_name)


def engine_gpu(engine: Engine, override: str | None = None) -> GpuSpec | None:
    if override:
        return gpu_by_name(override)
    return gpu_for_engine(engine.device, engine.metadata.device_information)


def gpu_names() -> list[str]:
    return [g.name for g in CATALOG]


def _stored(root: str, run_id: str, key: str, compute, *others: str):
    """A result of ``run_id`` (and ``others``) kept in its run folder: read when this code stored it, else computed."""
    return RunStore(root).analysis(run_id, key, compute, depends_on=others)


@st.cache_resource(max_entries=128, show_spinner=False)
def _kept(root: str, run_id: str, name: str):
    """``engine.analysis.<name>`` of a stored run, read from the run's folder when kept there (the engine is not
    even loaded), else computed and kept."""
    return _stored(root, run_id, name, lambda: getattr(_engine(root, run_id).analysis, name))


def _analysis(root: str, run_id: str, name: str):
    """:func:`_kept`, also handed to the outline's analysis as its value (pages hold the outline), so what builds on
    it there reuses it; computed, it was computed on the whole engine, whose analysis keeps it too."""
    value = _kept(root, run_id, name)
    vars(_outline(root, run_id).analysis).setdefault(name, value)  # where functools.cached_property keeps its value
    return value


def run_name(run_id: str) -> str:
    """A stored run's name, from its manifest (no engine loaded)."""
    return next((r.name for r in load_runs() if r.run_id == run_id), None) or store().manifest(run_id).name


@st.cache_resource(max_entries=32, show_spinner=False)
def _diagnosis(root: str, run_id: str, baseline_id: str | None) -> list:
    def compute() -> list:
        baseline = _engine(root, baseline_id) if baseline_id else None
        return diagnose_mod.diagnose(_engine(root, run_id), baseline)

    if baseline_id:
        return _stored(root, run_id, f"diagnosis@{baseline_id}", compute, baseline_id)
    return _stored(root, run_id, "diagnosis", compute)


def load_diagnosis(run_id: str, baseline_id: str | None = None) -> list:
    return _diagnosis(str(store_root()), run_id, baseline_id)


def load_fallbacks(run_id: str) -> pd.DataFrame:
    return _analysis(str(store_root()), run_id, "fallbacks")


def load_fallback_summary(run_id: str) -> pd.DataFrame:
    return _analysis(str(store_root()), run_id, "fallback_summary")


#: The columns of the Precision page's table of each fallback reason's layers.
FALLBACK_TABLE_COLUMNS = ("order", "name", "layer_type", "compute_precision", "output_precision", "avg_ms", "evidence")


@st.cache_resource(max_entries=8, show_spinner=False)
def _fallback_tables(root: str, run_id: str, rows: int) -> dict:
    def compute() -> dict:
        fallbacks = _analysis(root, run_id, "fallbacks")
        tables = {}
        for reason, layers in fallbacks.groupby("reason", sort=False):  # each reason's layers in their order
            if len(layers) > rows:
                layers = layers.sort_values("avg_ms", ascending=False, na_position="last", kind="stable")
            tables[reason] = (len(layers), layers.head(rows)[list(FALLBACK_TABLE_COLUMNS)])
        return {"layers": len(fallbacks), "own_cause": int(fallbacks["inherited_from"].isna().sum()), "reasons": tables}

    return _stored(root, run_id, f"fallback_tables@{rows}", compute)


def load_fallback_tables(run_id: str, rows: int) -> dict:
    """What the Precision page shows of the fallbacks, kept apart from them (nearly every layer of an LLM-size
    engine): ``layers`` (how many fall back), ``own_cause`` (how many of them do not inherit a neighbour's reason)
    and ``reasons``: per reason, ``(its layers, at most rows of them)``, the slowest first when there are more,
    else in their order, with :data:`FALLBACK_TABLE_COLUMNS`."""
    return _fallback_tables(str(store_root()), run_id, rows)


@st.cache_resource(max_entries=32, show_spinner=False)
def _fallback_examples(root: str, run_id: str) -> pd.DataFrame:
    def compute() -> pd.DataFrame:
        return _analysis(root, run_id, "fallbacks").groupby("reason")[["requested_precision", "evidence"]].first()

    return _stored(root, run_id, "fallback_examples", compute)


def load_fallback_examples(run_id: str) -> pd.DataFrame:
    """Per fallback reason (the index, sorted): the requested precision and the first layer's evidence, kept
    apart from the fallbacks (nearly every layer of an LLM-size engine): empty when every layer is as requested."""
    return _fallback_examples(str(store_root()), run_id)


def load_requested_precision(run_id: str) -> tuple[str | None, str]:
    return _analysis(str(store_root()), run_id, "requested_precision")


def load_fairness(run_id: str) -> list:
    return _analysis(str(store_root()), run_id, "fairness")


def load_byte_account(run_id: str) -> size.ByteAccount:
    return _kept(str(store_root()), run_id, "byte_account")  # a baseline's too (Size page): no engine to load


@st.cache_resource(max_entries=8, show_spinner=False)
def _generated_kernels(root: str, run_id: str) -> pd.DataFrame:
    def compute() -> pd.DataFrame:
        layers = _outline(root, run_id).layers
        kernels = layers[layers["name"].map(lambda n: describe_kernel(n) is not None)]
        quantized = kernels["output_precision"].isin(["INT8", "FP8", "INT4", "FP4"])
        return pd.DataFrame({"order": kernels["order"], "kernel": kernels["name"],
                             "does": [describe_kernel(n, q) for n, q in zip(kernels["name"], quantized)],
                             "quantize steps": [quantize_count(n, q) for n, q in zip(kernels["name"], quantized)],
                             "in": kernels["input_precision"], "out": kernels["output_precision"]})

    return _stored(root, run_id, "generated_kernels", compute)


def load_generated_kernels(run_id: str) -> pd.DataFrame:
    """The run's generated (kgen) kernels in execution order: what each does and its quantize steps (every name
    parsed once per run and kept: tens of thousands on an LLM engine)."""
    return _generated_kernels(str(store_root()), run_id)


@st.cache_resource(max_entries=8, show_spinner=False)
def _layer_search_text(root: str, run_id: str) -> pd.Series:
    """Per layer, lower case: its name, tactic and ONNX nodes (what the Layers page's search looks in), made once."""
    def compute() -> pd.DataFrame:
        layers = _engine(root, run_id).layers
        text = layers["name"] + " " + layers["tactic_name"].fillna("") + " " + layers["onnx_nodes"].map(" ".join)
        return text.str.lower().to_frame("text")

    return _stored(root, run_id, "layer_search_text", compute)["text"]


def load_layer_search_text(run_id: str) -> pd.Series:
    """Per layer, lower case: its name, tactic and ONNX nodes (what the Layers page's search looks in), made once
    per run and kept (the ONNX nodes are not in the outline: made from the whole engine)."""
    return _layer_search_text(str(store_root()), run_id)


@st.cache_resource(max_entries=8, show_spinner=False)
def _layer_view(root: str, run_id: str, columns: tuple[str, ...]) -> pd.DataFrame:
    engine = _outline(root, run_id)
    layers = engine.layers
    view = layers[list(columns)]
    if engine.accuracy is not None:  # SQNR vs the float model: the worst measured ONNX node of each layer
        sqnr = _layer_accuracy(root, run_id)["sqnr_db"]
        view.insert(5, "sqnr_db", sqnr.where(sqnr != float("inf")))
    return view.assign(fallback_reason=_layer_fallbacks(root, run_id)["fallback_reason"])


#: What a layer's record says of its fallback (:func:`dashboard.components.layer_record.render_layer_record`).
RECORD_FALLBACK_COLUMNS = ("requested_precision", "reason_text", "evidence")


@st.cache_resource(max_entries=8, show_spinner=False)
def _layer_fallbacks(root: str, run_id: str) -> pd.DataFrame:
    """Per layer (indexed as ``engine.layers``): ``fallback_reason`` (the Layers table's column) and
    :data:`RECORD_FALLBACK_COLUMNS` of the first fallback of its name, null when none; kept, so the Layers page
    never reads the fallbacks themselves (nearly every layer of an LLM-size engine)."""
    def compute() -> pd.DataFrame:
        fallbacks = _analysis(root, run_id, "fallbacks")
        names = _outline(root, run_id).layers["name"]
        # Dicts, not a Series indexed by name: layer names can repeat (join_profile pairs them in order), and
        # Series.map refuses a lookup with a repeated index.
        reasons = dict(zip(fallbacks["name"].tolist(), fallbacks["reason"].tolist()))
        first = fallbacks.drop_duplicates("name")
        return pd.DataFrame({"fallback_reason": names.map(reasons),
                             **{c: names.map(dict(zip(first["name"].tolist(), first[c].tolist())))
                                for c in RECORD_FALLBACK_COLUMNS}})

    return _stored(root, run_id, "layer_fallbacks", compute)


def load_layer_fallback(run_id: str, row: int) -> pd.DataFrame:
    """The fallback a layer's record shows: one row (``name`` and :data:`RECORD_FALLBACK_COLUMNS`) for the layer at
    ``row`` of ``engine.layers`` when a fallback has its name, else none; read from the kept per-layer table."""
    root = str(store_root())
    facts = _layer_fallbacks(root, run_id).loc[[row]]
    named = facts.assign(name=_outline(root, run_id).layers["name"].loc[[row]])
    return named.loc[facts["fallback_reason"].notna(), ["name", *RECORD_FALLBACK_COLUMNS]]  # every fallback has a reason


def load_layer_view(run_id: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """The Layers table of a run, every row: ``columns`` of its layers, its SQNR when measured (after the fifth
    column), and each layer's fallback reason; indexed as ``engine.layers``. Made once per run."""
    return _layer_view(str(store_root()), run_id, columns)


@st.cache_resource(max_entries=16, show_spinner=False)
def _layer_choices(root: str, run_id: str, column: str) -> list:
    return sorted(_outline(root, run_id).layers[column].dropna().unique())


def load_layer_choices(run_id: str, column: str) -> list:
    """The distinct values of a layer column, sorted (a Layers filter's options)."""
    return _layer_choices(str(store_root()), run_id, column)


@st.cache_resource(max_entries=32, show_spinner=False)
def _matching_layers(root: str, run_id: str, search: str, types: tuple, precisions: tuple) -> pd.Index:
    layers = _outline(root, run_id).layers
    keep = pd.Series(True, index=layers.index)
    if search:
        keep &= _layer_search_text(root, run_id).str.contains(search.lower(), regex=False)
    if types:
        keep &= layers["layer_type"].isin(types)
    if precisions:
        keep &= layers["compute_precision"].isin(precisions)
    return layers.index[keep.to_numpy()]


def load_matching_layers(run_id: str, search: str, types: tuple, precisions: tuple) -> pd.Index:
    """The index of the layers whose search text holds ``search`` (any case) and whose type and compute precision
    are among ``types`` and ``precisions`` (each: any, when empty). Kept per filter, so a click reruns none."""
    return _matching_layers(str(store_root()), run_id, search, types, precisions)


@st.cache_resource(max_entries=24, show_spinner=False)
def _layer_accuracy(root: str, run_id: str) -> pd.DataFrame:
    engine = _engine(root, run_id)
    return layer_sqnr(engine.layers, engine.accuracy)


def load_layer_accuracy(run_id: str) -> pd.DataFrame:
    """Per layer: ``sqnr_db`` (worst measured ONNX node; NaN not measured, inf identical), ``sqnr_node``."""
    return _layer_accuracy(str(store_root()), run_id)


def model_build_ids(run_id: str) -> list[str]:
    """Every stored LayerLens build of the same model as ``run_id`` (its ``model`` label), newest first."""
    runs = load_runs()
    model = next((r.labels.get("model") for r in runs if r.run_id == run_id), None)
    return [r.run_id for r in runs if model and r.labels.get("model") == model]


@st.cache_resource(max_entries=8, show_spinner="Collecting the builds of this model…")
def _tradeoff(root: str, run_ids: tuple[str, ...]) -> pd.DataFrame:
    measured = [r for r in run_ids if _outline(root, r).accuracy is not None]  # the others make no point: not loaded
    return tradeoff_points([_engine(root, r) for r in measured], measured)


def load_tradeoff(run_ids: list[str]) -> pd.DataFrame:
    """Accuracy, size and latency of each run that measured its accuracy (:func:`tradeoff_points`)."""
    return _tradeoff(str(store_root()), tuple(run_ids))


@st.cache_data(max_entries=16, show_spinner=False)
def _node_names(path: str, stamp: float) -> frozenset[str]:
    from engine_core.recipes.keep import read_node_names

    return frozenset(read_node_names(path))


def load_model_node_names(path: Path) -> frozenset[str]:
    """The node names of an ONNX model on this machine (cached by path and modification time)."""
    return _node_names(str(path), path.stat().st_mtime)


@st.cache_resource(max_entries=32, show_spinner=False)
def _size_growth(root: str, baseline_id: str, run_id: str) -> size.SizeGrowth | None:
    return _stored(root, run_id, f"size_growth@{baseline_id}",
                   lambda: size.explain_growth(_engine(root, baseline_id), _engine(root, run_id)), baseline_id)


def load_size_growth(baseline_id: str, run_id: str) -> size.SizeGrowth | None:
    """Why the run is bigger than its (wider-precision) baseline, or None when it is not."""
    return _size_growth(str(store_root()), baseline_id, run_id)


@st.cache_resource(max_entries=32, show_spinner=False)
def _roofline(root: str, run_id: str, gpu_name: str) -> pd.DataFrame | None:
    def compute() -> pd.DataFrame | None:
        engine = _engine(root, run_id)
        gpu = engine_gpu(engine, gpu_name or None)
        return roofline.roofline_table(engine.layers, gpu, engine.analysis.layer_work) if gpu else None

    return _stored(root, run_id, f"roofline@{gpu_name}", compute)


def load_roofline(run_id: str, gpu_name: str = "") -> pd.DataFrame | None:
    return _roofline(str(store_root()), run_id, gpu_name)


def load_measured_vs_estimated(run_id: str) -> pd.DataFrame:
    """Each measured layer beside the latency model's estimate on the engine's own GPU (empty when unknown)."""
    return _analysis(str(store_root()), run_id, "measured_vs_estimated")


@st.cache_resource(max_entries=32, show_spinner=False)
def _estimates_at(root: str, run_id: str, gpu_name: str, precisions: tuple[str, ...]) -> dict[str, float]:
    def compute() -> dict[str, float]:
        engine = _engine(root, run_id)
        gpu = estimate.estimate_gpu(engine, gpu_name or None)
        return {p: float(engine.analysis.predicted(gpu, p)["estimated_ms"].sum()) for p in precisions}

    return _stored(root, run_id, f"estimates_at@{gpu_name}@{'-'.join(precisions)}", compute)


def load_estimates_at(run_id: str, gpu_name: str, precisions: tuple[str, ...]) -> dict[str, float]:
    """The model's per-layer total if every float layer ran in each precision, on ``gpu_name`` (estimates)."""
    return _estimates_at(str(store_root()), run_id, gpu_name, precisions)


@st.cache_resource(max_entries=16, show_spinner="Aligning engines…")
def _comparison(root: str, run_ids: tuple[str, ...]) -> tuple[compare_mod.Comparison, Attribution]:
    if len(run_ids) == 2:  # the pair diagnose and the report compare too: computed once, on the engine, and kept
        return _stored(root, run_ids[1], f"comparison@{run_ids[0]}",
                       lambda: _engine(root, run_ids[1]).analysis.compared_with(_engine(root, run_ids[0])), run_ids[0])
    engines = _compared_engines(root, run_ids)
    cmp = compare_mod.compare_engines(engines)
    return cmp, attribute(cmp, engines[0], engines[1])


#: The aligned groups' columns the Compare page reads of a two-engine comparison: not the layers of each group
#: (``a_layers``, ``b_layers``: lists of names, most of a comparison's bytes) nor the per-engine lists of an
#: N-way one (``times_ms``, ``precisions``).
OUTLINE_GROUP_COLUMNS = ("onnx_nodes", "match", "confidence", "a_precision", "b_precision", "precision_change", "a_ms",
                         "b_ms", "delta_ms", "speedup", "a_weights_bytes", "b_weights_bytes")


@st.cache_resource(max_entries=16, show_spinner=False)
def _comparison_outline(root: str, run_ids: tuple[str, str]) -> compare_mod.Comparison:
    def compute() -> compare_mod.Comparison:
        cmp = _comparison(root, run_ids)[0]
        return dataclasses.replace(cmp, groups=cmp.groups[list(OUTLINE_GROUP_COLUMNS)])

    return _stored(root, run_ids[1], f"comparison_outline@{run_ids[0]}", compute, run_ids[0])


def load_comparison_outline(run_ids: list[str]) -> compare_mod.Comparison:
    """:func:`load_comparison` of two runs with only :data:`OUTLINE_GROUP_COLUMNS` in its groups (every other fact
    as it is), kept apart: what the Compare page draws, read in a fraction of the time on an LLM-size pair. A
    column left out raises KeyError, so nothing is shown from less; ``to_json`` needs the whole comparison."""
    return _comparison_outline(str(store_root()), tuple(run_ids))


@st.cache_resource(max_entries=16, show_spinner=False)
def _compared_engines(root: str, run_ids: tuple[str, ...]) -> list[Engine]:
    return estimate.on_one_footing([_engine(root, r) for r in run_ids])


def load_comparison(run_ids: list[str]) -> compare_mod.Comparison:
    """Engines aligned and diffed, baseline first (all measured, or all labelled estimates)."""
    return _comparison(str(store_root()), tuple(run_ids))[0]


def load_compared_engines(run_ids: list[str]) -> list[Engine]:
    """The engines as compared: stored (their outlines, :func:`load_engine_outline`, when every one was measured and
    none measured its accuracy, which is joined by ONNX node), or their estimated copies when any was never timed."""
    root = str(store_root())
    outlines = [_outline(root, r) for r in run_ids]
    if all(e.measured and e.accuracy is None for e in outlines):  # on_one_footing would hand them back as they are
        return outlines
    return _compared_engines(root, tuple(run_ids))


@st.cache_resource(max_entries=16, show_spinner=False)
def _byte_diff(root: str, run_ids: tuple[str, str]) -> tuple[list[str], pd.DataFrame]:
    def compute() -> tuple[list[str], pd.DataFrame]:
        cmp = _comparison(root, run_ids)[0]
        return cmp.names, size.diff_bytes(cmp.groups) if not cmp.groups.empty else cmp.groups

    return _stored(root, run_ids[1], f"byte_diff@{run_ids[0]}", compute, run_ids[0])


def load_byte_diff(run_ids: list[str]) -> tuple[list[str], pd.DataFrame]:
    """``(engine names, aligned groups that changed weight storage)`` of the second run against the first
    (:func:`engine_core.analysis.size.diff_bytes`; kept apart, so the Size page reads no other group)."""
    return _byte_diff(str(store_root()), tuple(run_ids))


@st.cache_resource(max_entries=16, show_spinner=False)
def _attribution(root: str, run_ids: tuple[str, ...]) -> Attribution:
    if len(run_ids) == 2:  # kept apart from the comparison: the verdict alone is read without every aligned group
        return _stored(root, run_ids[1], f"attribution@{run_ids[0]}", lambda: _comparison(root, run_ids)[1], run_ids[0])
    return _comparison(root, run_ids)[1]


def load_attribution(run_ids: list[str]) -> Attribution:
    """Verdict and attribution of the second engine against the first."""
    return _attribution(str(store_root()), tuple(run_ids))


@st.cache_resource(max_entries=16, show_spinner=False)
def _verdict(root: str, run_ids: tuple[str, str]) -> str:
    return _stored(root, run_ids[1], f"verdict@{run_ids[0]}", lambda: _attribution(root, run_ids).verdict, run_ids[0])


def load_verdict(run_ids: list[str]) -> str:
    """The verdict of :func:`load_attribution` for two runs, kept apart: the Overview reads no attribution table."""
    return _verdict(str(store_root()), tuple(run_ids))


@st.cache_resource(max_entries=8, show_spinner="Wiring the graph…")
def _graph(root: str, run_id: str, baseline_id: str | None) -> EngineGraph:
    if baseline_id:  # the engine's own graph, stamped with the comparison's changes: wired once per engine
        return mark_precision_change(_graph(root, run_id, None), _comparison(root, (baseline_id, run_id))[0].groups)
    # Sized by time: measured, or the labelled estimate; the fallback reasons are the Precision page's.
    return _stored(root, run_id, "graph", lambda: engine_graph(_timed_engine(root, run_id, ""),
                                                               fallbacks=_analysis(root, run_id, "fallbacks")))


@st.cache_resource(max_entries=8, show_spinner=False)
def _graph_outline(root: str, run_id: str) -> tuple[int, pd.DataFrame, str]:
    def compute() -> tuple[int, pd.DataFrame, str]:
        full = _graph(root, run_id, None)
        return scope_depth(full), full.nodes[["kind", "name", "layer_type", "order"]], full.wired_by

    return _stored(root, run_id, "graph_outline", compute)


def load_graph_outline(run_id: str) -> tuple[int, pd.DataFrame, str]:
    """``(scope depth, nodes, wired_by)`` of the run's full graph: what the Graph page searches and opens groups
    with (each node's kind, name, layer type and order, indexed as the graph's nodes), without reading the graph."""
    return _graph_outline(str(store_root()), run_id)


@st.cache_resource(max_entries=8, show_spinner=False)
def _graph_facts(root: str, run_id: str) -> tuple[int, str]:
    def compute() -> tuple[int, str]:
        depth, _, wired_by = _graph_outline(root, run_id)
        return depth, wired_by

    return _stored(root, run_id, "graph_facts", compute)


def load_graph_facts(run_id: str) -> tuple[int, str]:
    """``(scope depth, wired_by)`` of :func:`load_graph_outline`, kept apart: what the Graph page shows before a
    search or a click, without reading a node (over 100,000 of them on an LLM-size engine)."""
    return _graph_facts(str(store_root()), run_id)


@st.cache_resource(max_entries=16, show_spinner="Laying out the graph…")
def _drawn_graph(root: str, run_id: str, baseline_id: str | None, depth) -> tuple[EngineGraph, GraphLayout]:
    def compute() -> tuple[EngineGraph, GraphLayout]:
        drawn = fit_for_drawing(_graph(root, run_id, baseline_id), depth)
        return drawn, layout_graph(drawn)

    if baseline_id:
        return _stored(root, run_id, f"drawn_graph@{baseline_id}@{depth}", compute, baseline_id)
    return _stored(root, run_id, f"drawn_graph@{depth}", compute)


def load_drawn_graph(run_id: str, baseline_id: str | None, depth: int | str | None) -> tuple[EngineGraph, GraphLayout]:
    """The graph folded to ``depth`` ("auto", None for every layer, or a scope depth) and laid out."""
    return _drawn_graph(str(store_root()), run_id, baseline_id, depth)


def demo_buildable() -> bool:
    """The Import page may offer to build the demo engines: TensorRT-RTX is here and the store is writable."""
    from engine_core.build.rtx import rtx_available

    return os.environ.get("LAYERLENS_NO_DEMO") != "1" and not access.read_only() and rtx_available()
