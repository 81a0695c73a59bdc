"""Work done once: an engine's derived analyses, each computed on first use and then handed on.

Following one engine through ``layerlens report`` used to analyse it again and again: the requested precision
eleven times, the latency model's prediction four times, the fallback table, the byte account and the
comparison with the baseline twice each, because every consumer called the analysis functions afresh.
:class:`EngineAnalysis` (``engine.analysis``, one per :class:`~engine_core.engine.Engine` object) holds each
derived table as a lazily computed field (``functools.cached_property``), and the analyses themselves ask it
for what they build on, so diagnose, the report, the summary and the dashboard's cache (which keeps engines
per run id, a content hash) share one computation. Safe because an engine is not changed once read: a
changed copy (``dataclasses.replace``, e.g. the estimated-times copy) is a new engine with its own analysis.
Callers treat what it returns as read-only. Pure library: never imports layerlens, dashboard, plotly or
streamlit.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from engine_core.analysis.align import is_glue
from engine_core.analysis.attribution import Attribution, compare_pair
from engine_core.analysis.compare import Comparison
from engine_core.analysis.estimate import (LatencyEstimate, engine_with_estimated_times, estimate_gpu, estimate_latency,
                                           measured_vs_estimated)
from engine_core.analysis.fallback import explain_fallbacks, summarize_fallbacks
from engine_core.analysis.findings import Finding
from engine_core.analysis.gpus import GpuSpec, gpu_for_engine
from engine_core.analysis.latency import waterfall
from engine_core.analysis.latency_model import default_latency_model
from engine_core.analysis.lint import lint_fairness, lint_layers
from engine_core.analysis.requested import requested_precision
from engine_core.analysis.roofline import layer_work
from engine_core.analysis.size import ByteAccount, account_bytes
from engine_core.engine import Engine
from engine_core.tensor_index import TensorIndex


class EngineAnalysis:
    """The derived tables of one engine; each attribute is computed once, when first asked for.

    Args:
        engine: the engine analysed (its ``analysis`` attribute builds this; build it directly only in tests).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._predictions: dict[tuple[str, str | None], pd.DataFrame] = {}
        self._estimates: dict[str, LatencyEstimate | None] = {}
        self._timed: dict[tuple[str, bool], Engine] = {}
        # Keyed by the baseline object's id; the baseline is held beside its result so the id stays its own.
        self._pairs: dict[int, tuple[Engine, tuple[Comparison, Attribution]]] = {}

    @cached_property
    def requested_precision(self) -> tuple[str | None, str]:
        """``(precision, source)``: :func:`engine_core.analysis.requested.requested_precision`."""
        return requested_precision(self.engine)

    @cached_property
    def glue(self) -> np.ndarray:
        """Per layer (bool), the glue TensorRT inserted around the real work: :func:`~engine_core.analysis.align.is_glue`
        (alignment and the graph both read it)."""
        return is_glue(self.engine.layers).to_numpy()

    @cached_property
    def tensors(self) -> TensorIndex:
        """Which layers write and read each tensor (:class:`~engine_core.tensor_index.TensorIndex`): alignment, the
        fallback reasons and the graph look layers up by tensor name."""
        return TensorIndex(self.engine.layers)

    @cached_property
    def fallbacks(self) -> pd.DataFrame:
        """Every layer above the requested precision with its reason: :func:`~engine_core.analysis.fallback.explain_fallbacks`."""
        return explain_fallbacks(self.engine)

    @cached_property
    def fallback_summary(self) -> pd.DataFrame:
        """Per fallback reason: layers, time and bytes (:func:`~engine_core.analysis.fallback.summarize_fallbacks`)."""
        return summarize_fallbacks(self.fallbacks)

    @cached_property
    def byte_account(self) -> ByteAccount:
        """Where the engine's bytes go (:func:`engine_core.analysis.size.account_bytes`, top 15 layers)."""
        return account_bytes(self.engine)

    @cached_property
    def fairness(self) -> list[Finding]:
        """Fair-comparison warnings (:func:`engine_core.analysis.lint.lint_fairness`)."""
        return lint_fairness(self.engine)

    @cached_property
    def lints(self) -> list[Finding]:
        """Reformat, Q/DQ placement, alignment and tactic lints (:func:`engine_core.analysis.lint.lint_layers`):
        diagnose reads them against every baseline."""
        return lint_layers(self.engine)

    @cached_property
    def layer_work(self) -> pd.DataFrame:
        """FLOPs and bytes of every layer (:func:`engine_core.analysis.roofline.layer_work`): what every estimate reads."""
        return layer_work(self.engine.layers)

    @cached_property
    def own_gpu(self) -> GpuSpec | None:
        """The catalog GPU the engine was built and measured on, None when unknown (a CPU build, a renamed GPU)."""
        return gpu_for_engine(self.engine.device, self.engine.metadata.device_information)

    @cached_property
    def estimate_gpu(self) -> GpuSpec | None:
        """The GPU estimates are made for by default (:func:`engine_core.analysis.estimate.estimate_gpu`)."""
        return estimate_gpu(self.engine)

    def predicted(self, gpu: GpuSpec, precision: str | None = None) -> pd.DataFrame:
        """The shipped latency model's per-layer prediction on ``gpu`` (as if in ``precision``), once per pair.

        See :meth:`engine_core.analysis.latency_model.LatencyModel.predict` for the columns.
        """
        key = (gpu.name, precision)
        if key not in self._predictions:
            self._predictions[key] = default_latency_model().predict(self.engine.layers, gpu, self.layer_work, precision)
        return self._predictions[key]

    def estimate(self, gpu: GpuSpec | None = None) -> LatencyEstimate | None:
        """The shipped model's estimate on ``gpu`` (default :attr:`estimate_gpu`): :func:`~engine_core.analysis.estimate.estimate_latency`."""
        gpu = gpu or self.estimate_gpu
        if gpu.name not in self._estimates:
            self._estimates[gpu.name] = estimate_latency(self.engine, gpu)
        return self._estimates[gpu.name]

    def timed(self, gpu: GpuSpec | None = None, force: bool = False) -> Engine:
        """The engine for time views: :func:`~engine_core.analysis.estimate.engine_with_estimated_times` (one copy per GPU)."""
        gpu = gpu or self.estimate_gpu
        key = (gpu.name, force)
        if key not in self._timed:
            self._timed[key] = engine_with_estimated_times(self.engine, gpu, force)
        return self._timed[key]

    @cached_property
    def measured_vs_estimated(self) -> pd.DataFrame:
        """Each measured layer beside the model's estimate on the engine's own GPU (:func:`~engine_core.analysis.estimate.measured_vs_estimated`)."""
        return measured_vs_estimated(self.engine)

    @cached_property
    def waterfall(self) -> pd.DataFrame:
        """Cumulative per-layer time in execution order (:func:`engine_core.analysis.latency.waterfall`)."""
        return waterfall(self.engine.layers)

    def compared_with(self, baseline: Engine) -> tuple[Comparison, Attribution]:
        """This engine against ``baseline``: :func:`engine_core.analysis.attribution.compare_pair`, once per baseline."""
        held = self._pairs.get(id(baseline))
        if held is None or held[0] is not baseline:
            held = self._pairs[id(baseline)] = (baseline, compare_pair(baseline, self.engine))
        return held[1]
