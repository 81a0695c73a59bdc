"""Work done once (issue 15, item 6): ``engine.analysis`` computes each derived table of an engine once and hands
it to every consumer, and what it hands on is exactly what the analysis functions compute afresh.

Counted on real fixtures: following one engine and its baseline through ``layerlens report`` (the report runs
diagnose, which compares the pair, builds the byte account and the fallback table) and through
``layerlens diagnose --baseline``, every analysis runs at most once per engine.
"""

from __future__ import annotations

import dataclasses
import sys
from collections import Counter

import pandas as pd
import pytest

from conftest import FIXTURES, engine_names, load_one
from engine_core.analysis import attribution, estimate, fallback, lint, requested, roofline, size
from engine_core.analysis.latency_model import LatencyModel

QAT = FIXTURES / "trex-rtx3090" / "qat"
FP16 = FIXTURES / "trex-rtx3090" / "fp16"

#: The analyses counted: (module, function).
_COUNTED = [(requested, "requested_precision"), (fallback, "explain_fallbacks"), (size, "account_bytes"),
            (lint, "lint_fairness"), (roofline, "layer_work"), (attribution, "compare_pair"),
            (estimate, "estimate_latency")]


@pytest.fixture
def calls(monkeypatch):
    """``Counter`` of (function, engine name) for every analysis of :data:`_COUNTED` and each model prediction."""
    counter: Counter = Counter()

    def counted(name, original):
        def wrapper(*args, **kwargs):
            subject = args[-1] if name == "compare_pair" else args[0]
            counter[(name, id(subject) if isinstance(subject, pd.DataFrame) else subject.name)] += 1
            return original(*args, **kwargs)
        return wrapper

    # Loaded before patching, so that every module importing a counted name is patched.
    import engine_core.analysis.engine_analysis  # noqa: F401
    import layerlens.cli.analysis  # noqa: F401
    import layerlens.views.report  # noqa: F401

    for module, name in _COUNTED:
        original = getattr(module, name)
        wrapper = counted(name, original)
        # Patched where it is defined and in every module that imported it by name.
        for loaded in list(sys.modules.values()):
            if getattr(loaded, "__name__", "").startswith(("engine_core", "layerlens")) and \
                    getattr(loaded, name, None) is original:
                monkeypatch.setattr(loaded, name, wrapper)
    predict = LatencyModel.predict

    def counted_predict(self, layers, gpu, work=None, precision=None):
        counter[("predict", id(layers), gpu.name, precision)] += 1
        return predict(self, layers, gpu, work, precision)

    monkeypatch.setattr(LatencyModel, "predict", counted_predict)
    return counter


def _fresh_pair():
    """The QAT ResNet-50 engine and its FP16 baseline, loaded anew (no analysis cached on them yet)."""
    return load_one(QAT), load_one(FP16)


def test_the_report_analyses_each_engine_once(calls, tmp_path):
    from layerlens.views.report import write_report

    engine, baseline = _fresh_pair()
    write_report(engine, baseline, tmp_path / "report.html")
    repeated = {key: n for key, n in calls.items() if n > 1}
    assert not repeated, f"analysed more than once: {repeated}"
    # Each analysis ran, once for each engine that needs it.
    for name in ("requested_precision", "explain_fallbacks", "account_bytes", "lint_fairness"):
        assert calls[(name, engine.name)] == 1, name
    assert calls[("compare_pair", engine.name)] == 1


def test_diagnose_against_a_baseline_compares_the_pair_once(calls):
    from layerlens.cli.analysis import diagnose_with_attribution

    engine, baseline = _fresh_pair()
    findings, att = diagnose_with_attribution(engine, baseline)
    assert findings and att is not None
    assert calls[("compare_pair", engine.name)] == 1
    assert not {key: n for key, n in calls.items() if n > 1}


@pytest.mark.parametrize("name", engine_names())
def test_what_is_handed_on_is_what_the_analyses_compute(all_engines, name):
    engine = all_engines[name]
    fresh = dataclasses.replace(engine)  # a new engine object: nothing cached on it yet
    assert fresh.analysis is not engine.analysis
    assert fresh.analysis.requested_precision == requested.requested_precision(engine)
    pd.testing.assert_frame_equal(fresh.analysis.fallbacks, fallback.explain_fallbacks(engine))
    pd.testing.assert_frame_equal(fresh.analysis.fallback_summary,
                                  fallback.summarize_fallbacks(fallback.explain_fallbacks(engine)))
    account, expected = fresh.analysis.byte_account, size.account_bytes(engine)
    assert account.statement == expected.statement
    pd.testing.assert_frame_equal(account.components(), expected.components())
    pd.testing.assert_frame_equal(account.top_layers, expected.top_layers)
    assert [f.message for f in fresh.analysis.fairness] == [f.message for f in lint.lint_fairness(engine)]
    if not engine.layers.empty:
        gpu = fresh.analysis.estimate_gpu
        model = estimate.default_latency_model()
        for precision in (None, "FP16", "INT8"):
            pd.testing.assert_frame_equal(fresh.analysis.predicted(gpu, precision),
                                          model.predict(engine.layers, gpu, precision=precision))
        ours, theirs = fresh.analysis.estimate(), estimate.estimate_latency(engine, gpu, model)
        assert (ours.gpu, ours.total_ms, ours.label) == (theirs.gpu, theirs.total_ms, theirs.label)
        pd.testing.assert_frame_equal(ours.per_layer, theirs.per_layer)
        pd.testing.assert_frame_equal(fresh.analysis.timed().layers,
                                      estimate.engine_with_estimated_times(engine, gpu, model=model).layers)
    # Asked again, the same objects come back: computed once.
    assert fresh.analysis.fallbacks is fresh.analysis.fallbacks
    assert fresh.analysis.byte_account is fresh.analysis.byte_account


def test_a_changed_copy_is_analysed_on_its_own():
    """An estimated-times copy is a new engine: its waterfall is of its own (estimated) times."""
    engine = load_one(FIXTURES / "trex-rtx3090" / "fp32")
    forced = engine.analysis.timed(force=True)
    assert forced is not engine and forced.analysis is not engine.analysis
    assert forced.is_estimate and not engine.is_estimate
    assert forced.analysis.waterfall["avg_ms"].tolist() != engine.analysis.waterfall["avg_ms"].tolist()
    assert engine.analysis.timed(force=True) is forced  # one copy per GPU
