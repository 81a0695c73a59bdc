"""Cold pages read a run's kept analyses (engine_core/store/analysis_cache.py) instead of computing them: a page opened
in a fresh process (every Streamlit cache cleared) shows exactly what it showed the first time, while every analysis
it keeps is made to fail if called. Real fixture engines: the QAT ResNet-50 against its FP16 build, and the
RTX 3090 TREx engines."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from conftest import FIXTURES, store_of
from tests.pages.test_app import APP, metrics, open_page, texts

#: Every page that shows one engine (with its baseline), and Compare.
PAGES = ("overview", "layers", "precision", "size", "latency", "graph", "compare")


@pytest.fixture(scope="module")
def store_root(tmp_path_factory):
    return store_of(tmp_path_factory.mktemp("kept"), [FIXTURES / "trex-rtx3090", FIXTURES / "rtx3060-trt10"]).root


@pytest.fixture
def runs(store_root):
    from engine_core.store import RunStore

    return {r.name: r.run_id for r in RunStore(store_root).list_runs()}


def _app(store_root, monkeypatch) -> AppTest:
    monkeypatch.setenv("LAYERLENS_RUNS", str(store_root))
    monkeypatch.setenv("LAYERLENS_NO_DEMO", "1")
    return AppTest.from_file(APP, default_timeout=120)


def _fresh_process() -> None:
    """What a new server starts with: nothing cached in memory (the run folders keep what they keep)."""
    st.cache_resource.clear()
    st.cache_data.clear()


def _fail_if_computed(monkeypatch) -> None:
    """Every analysis the dashboard keeps in a run's folder raises when called (each where the app looks it up)."""
    from engine_core.analysis import engine_analysis

    def refuse(what):
        def called(*args, **kwargs):
            raise AssertionError(f"{what} computed on a cold open: it should have been read from the run's folder")
        return called

    for name in ("requested_precision", "explain_fallbacks", "summarize_fallbacks", "account_bytes", "lint_fairness",
                 "measured_vs_estimated", "compare_pair"):
        monkeypatch.setattr(engine_analysis, name, refuse(name))
    from dashboard import data

    monkeypatch.setattr(data.diagnose_mod, "diagnose", refuse("diagnose"))
    monkeypatch.setattr(data.size, "explain_growth", refuse("explain_growth"))
    monkeypatch.setattr(data.size, "diff_bytes", refuse("diff_bytes"))
    monkeypatch.setattr(data.roofline, "roofline_table", refuse("roofline_table"))
    monkeypatch.setattr(data, "engine_graph", refuse("engine_graph"))
    monkeypatch.setattr(data, "fit_for_drawing", refuse("fit_for_drawing"))
    monkeypatch.setattr(data, "layout_graph", refuse("layout_graph"))


@pytest.mark.parametrize("engine, baseline", [("resnet-qat", "fp16/resnet"), ("fp16/resnet", "fp32/resnet")])
def test_a_cold_page_reads_what_the_first_open_kept_and_shows_the_same(store_root, runs, monkeypatch, engine, baseline):
    _fresh_process()
    first = {}
    for page in PAGES:
        app = open_page(_app(store_root, monkeypatch), page, runs[engine], runs[baseline])
        first[page] = (texts(app), metrics(app), [d.value.to_csv() for d in app.dataframe])
    _fresh_process()
    _fail_if_computed(monkeypatch)
    for page in PAGES:
        app = open_page(_app(store_root, monkeypatch), page, runs[engine], runs[baseline])
        assert (texts(app), metrics(app), [d.value.to_csv() for d in app.dataframe]) == first[page], page
        assert "Something went wrong" not in texts(app)
