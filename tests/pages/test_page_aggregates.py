"""What a page reads instead of a whole analysis (dashboard/data.py): each kept aggregate holds exactly what the page
showed when it computed from the whole table, and reads back equal in a fresh process. On an LLM-size engine the whole
tables (fallbacks of nearly every layer, a comparison's per-group layer lists) took most of a cold page's time to read.
Real fixture engines: the QAT ResNet-50 against its FP16 build, and the RTX 3060 TensorRT 10 engines."""

from __future__ import annotations

import pandas as pd
import pytest
import streamlit as st

from conftest import FIXTURES, store_of
from dashboard import data


@pytest.fixture(scope="module")
def store_root(tmp_path_factory):
    return store_of(tmp_path_factory.mktemp("aggregates"), [FIXTURES / "trex-rtx3090", FIXTURES / "rtx3060-trt10"]).root


@pytest.fixture
def runs(store_root, monkeypatch):
    from engine_core.store import RunStore

    monkeypatch.setenv("LAYERLENS_RUNS", str(store_root))
    return {r.name: r.run_id for r in RunStore(store_root).list_runs()}


def _fresh_process() -> None:
    st.cache_resource.clear()
    st.cache_data.clear()


def _with_fallbacks(runs) -> list[str]:
    ids = [r for r in runs.values() if not data.load_fallbacks(r).empty]
    assert ids, "no fixture engine has fallbacks: the tests below would check nothing"
    return ids


@pytest.mark.parametrize("rows", [3, 500])
def test_fallback_tables_are_each_reasons_layers_as_the_fallbacks_give_them(runs, rows):
    for run_id in _with_fallbacks(runs):
        _fresh_process()
        fallbacks = data.load_fallbacks(run_id)
        for kept in (data.load_fallback_tables(run_id, rows), _read_again(lambda: data.load_fallback_tables(run_id, rows))):
            assert kept["layers"] == len(fallbacks)
            assert kept["own_cause"] == fallbacks["inherited_from"].isna().sum()
            assert list(kept["reasons"]) == list(dict.fromkeys(fallbacks["reason"]))
            for reason, (count, table) in kept["reasons"].items():
                layers = fallbacks[fallbacks["reason"] == reason]
                assert count == len(layers)
                if len(layers) > rows:  # the slowest first, as the page ordered them
                    layers = layers.sort_values("avg_ms", ascending=False, na_position="last", kind="stable")
                pd.testing.assert_frame_equal(table, layers.head(rows)[list(data.FALLBACK_TABLE_COLUMNS)])
    assert any(len(t) > 3 for r in _with_fallbacks(runs) for _, t in data.load_fallback_tables(r, 500)["reasons"].values())


def test_a_layers_kept_fallback_is_the_first_fallback_of_its_name(runs):
    for run_id in _with_fallbacks(runs):
        _fresh_process()
        fallbacks = data.load_fallbacks(run_id)
        layers = data.load_engine(run_id).layers
        reasons = dict(zip(fallbacks["name"], fallbacks["reason"]))
        view = data.load_layer_view(run_id, ("order", "name"))
        assert view["fallback_reason"].tolist() == layers["name"].map(reasons).tolist()
        for _ in range(2):
            for row, name in layers["name"].items():
                kept = data.load_layer_fallback(run_id, row)
                whole = fallbacks[fallbacks["name"] == name]
                assert len(kept) == (1 if len(whole) else 0)
                if len(whole):
                    assert kept.iloc[0].to_dict() == whole.iloc[0][kept.columns].to_dict()
            _fresh_process()  # again, read from the run's folder


def test_fallback_examples_are_each_reasons_first_evidence(runs):
    for run_id in runs.values():
        _fresh_process()
        fallbacks = data.load_fallbacks(run_id)
        for kept in (data.load_fallback_examples(run_id), _read_again(lambda: data.load_fallback_examples(run_id))):
            assert kept.empty == fallbacks.empty
            if not fallbacks.empty:
                assert kept["evidence"].to_dict() == fallbacks.groupby("reason")["evidence"].first().to_dict()
                assert set(kept["requested_precision"]) == {fallbacks["requested_precision"].iloc[0]}


@pytest.mark.parametrize("engine, baseline", [("resnet-qat", "fp16/resnet"), ("fp16/resnet", "fp32/resnet")])
def test_the_comparison_outline_is_the_comparison_without_its_layer_lists(runs, engine, baseline):
    ids = [runs[baseline], runs[engine]]
    _fresh_process()
    whole = data.load_comparison(ids)
    assert len(whole.groups) > 10
    for outline in (data.load_comparison_outline(ids), _read_again(lambda: data.load_comparison_outline(ids))):
        pd.testing.assert_frame_equal(outline.groups, whole.groups[list(data.OUTLINE_GROUP_COLUMNS)])
        assert outline.match_counts() == whole.match_counts()
        for fact in ("names", "unmatched", "speedup", "speedup_basis", "summaries", "aligned_share", "notes", "time_basis"):
            assert getattr(outline, fact) == getattr(whole, fact)
        with pytest.raises(KeyError):
            outline.groups["a_layers"]


def _read_again(load):
    """``load()`` in a fresh process: read from the run's folder, where the first call kept it."""
    _fresh_process()
    return load()


def test_each_aggregate_is_kept_in_its_run_folder(store_root, runs):
    run_id, baseline = runs["resnet-qat"], runs["fp16/resnet"]
    _fresh_process()
    data.load_fallback_tables(run_id, 500), data.load_layer_fallback(run_id, 0), data.load_fallback_examples(run_id)
    data.load_comparison_outline([baseline, run_id])
    kept = {p.stem for p in (store_root / run_id / "analyses").glob("*.arrow")}
    assert {"fallback_tables@500", "layer_fallbacks", "fallback_examples", f"comparison_outline@{baseline}"} <= kept
