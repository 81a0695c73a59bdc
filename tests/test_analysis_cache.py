"""A run's analyses kept in its folder (engine_core/store/analysis_cache.py): every result the dashboard keeps reads
back equal to a fresh computation on every real fixture engine; a kept result is read, not computed, by the next
process; and one computed by other code, from a renamed or changed run or another baseline, or damaged, is
computed again and written over, never served and never a traceback."""

from __future__ import annotations

import dataclasses
import os
import zipfile

import numpy as np
import pandas as pd
import pytest

from conftest import store_of_every_fixture
from engine_core.analysis.diagnose import diagnose
from engine_core.graph import engine_graph, fit_for_drawing, layout_graph
from engine_core.store import RunStore
from engine_core.store import analysis_cache
from engine_core.store.analysis_cache import ANALYSES_DIR, AnalysisMiss, read_analysis, write_analysis
from engine_core.store.bundle import import_bundle, write_bundle

#: What the dashboard keeps per run (dashboard/data.py), as engine.analysis names.
KEPT = ("requested_precision", "fallbacks", "fallback_summary", "byte_account", "fairness", "measured_vs_estimated")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return store_of_every_fixture(tmp_path_factory.mktemp("analysed"))


def assert_same(a, b, where: str = "value") -> None:
    """Equal values of equal types: tables exactly (values, dtypes, index, column index), dataclasses field by field."""
    if isinstance(b, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=where)
        pd.testing.assert_index_equal(a.index, b.index, exact=True, obj=f"{where}.index")
    elif isinstance(b, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=b.dtype.kind == "f"), where
    elif dataclasses.is_dataclass(b) and not isinstance(b, type):
        assert type(a) is type(b), where
        for field in dataclasses.fields(b):
            assert_same(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    elif isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(b, dict):
        assert a.keys() == b.keys(), where
        for k in b:
            assert_same(a[k], b[k], f"{where}[{k}]")
    else:
        assert type(a) is type(b) and (a == b or (a != a and b != b)), (where, a, b)


def _round_trip(tmp_path, value, where: str):
    assert write_analysis(tmp_path, "value", [], value), f"{where}: not stored"
    assert_same(read_analysis(tmp_path, "value", []), value, where)


def test_every_kept_analysis_of_every_fixture_engine_reads_back_equal(store, tmp_path):
    runs = store.list_runs()
    assert len(runs) >= 30
    for run in runs:
        engine = store.load(run.run_id)
        for name in KEPT:
            _round_trip(tmp_path, getattr(engine.analysis, name), f"{run.name}.{name}")
        _round_trip(tmp_path, diagnose(engine), f"{run.name}.diagnosis")
        graph = engine_graph(engine, fallbacks=engine.analysis.fallbacks)
        _round_trip(tmp_path, graph, f"{run.name}.graph")
        drawn = fit_for_drawing(graph, "auto")
        _round_trip(tmp_path, (drawn, layout_graph(drawn)), f"{run.name}.drawn graph")


def test_a_comparison_and_a_diagnosis_against_a_baseline_read_back_equal(store, tmp_path):
    by_name = {r.name: store.load(r.run_id) for r in store.list_runs()}
    pairs = [("fp32/resnet", "fp16/resnet"), ("fp16/resnet", "resnet-qat"), ("fp32/resnet", "resnet-qat")]
    for a, b in pairs:
        baseline, engine = by_name[a], by_name[b]
        _round_trip(tmp_path, engine.analysis.compared_with(baseline), f"{b} vs {a}")
        _round_trip(tmp_path, diagnose(engine, baseline), f"diagnose {b} vs {a}")


def _counted(value):
    calls = []

    def compute():
        calls.append(1)
        return value
    return compute, calls


def test_a_kept_result_is_read_by_the_next_process_not_computed(store):
    run = store.list_runs()[0]
    fallbacks = store.load(run.run_id).analysis.fallbacks
    compute, calls = _counted(fallbacks)
    assert_same(RunStore(store.root).analysis(run.run_id, "fallbacks-test", compute), fallbacks)
    assert len(calls) == 1 and (store.root / run.run_id / ANALYSES_DIR / "fallbacks-test.arrow").is_file()
    assert_same(RunStore(store.root).analysis(run.run_id, "fallbacks-test", compute), fallbacks)  # a new store object
    assert len(calls) == 1


def test_other_code_a_renamed_or_changed_run_and_another_baseline_compute_again(store, monkeypatch, tmp_path):
    runs = store.list_runs()
    run, other, third = runs[0].run_id, runs[1].run_id, runs[2].run_id
    compute, calls = _counted({"a": [1, 2.5, None]})
    store.analysis(run, "pair-test", compute, depends_on=[other])
    store.analysis(run, "pair-test", compute, depends_on=[other])
    assert len(calls) == 1
    store.analysis(run, "pair-test", compute, depends_on=[third])  # another baseline
    assert len(calls) == 2
    store.analysis(run, "pair-test", compute, depends_on=[third])
    assert len(calls) == 2

    monkeypatch.setattr(analysis_cache, "analysis_fingerprint", lambda: "other-code")  # the library changed
    store.analysis(run, "pair-test", compute, depends_on=[third])
    assert len(calls) == 3
    monkeypatch.undo()

    store.analysis(run, "pair-test", compute, depends_on=[third])  # written by the "other code": computed again
    assert len(calls) == 4
    store.rename(third, "renamed-baseline")  # names show in results (a verdict names both engines)
    store.analysis(run, "pair-test", compute, depends_on=[third])
    assert len(calls) == 5
    artifact = store.artifact_paths(run)[0]
    os.utime(artifact, ns=(artifact.stat().st_atime_ns, artifact.stat().st_mtime_ns + 1_000_000))
    store.analysis(run, "pair-test", compute, depends_on=[third])  # an artifact changed in place
    assert len(calls) == 6
    store.analysis(run, "pair-test", compute, depends_on=[third])
    assert len(calls) == 6


@pytest.mark.parametrize("damage", [b"", b"not arrow at all", b"ARROW1\x00\x00" + b"\xff" * 64, "truncated"])
def test_a_damaged_file_is_computed_again_and_written_over(store, damage):
    run = store.list_runs()[0].run_id
    value = store.load(run).analysis.byte_account
    compute, calls = _counted(value)
    path = store.root / run / ANALYSES_DIR / "damage-test.arrow"
    path.unlink(missing_ok=True)
    store.analysis(run, "damage-test", compute)
    path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2] if damage == "truncated" else damage)
    with pytest.raises(AnalysisMiss):
        read_analysis(store.root / run, "damage-test", [])
    assert_same(store.analysis(run, "damage-test", compute), value)
    assert len(calls) == 2
    assert_same(store.analysis(run, "damage-test", compute), value)  # written over: read again
    assert len(calls) == 2


def test_a_value_the_format_cannot_hold_is_computed_every_time_never_changed(store):
    run = store.list_runs()[0].run_id
    odd = {"a set": {1, 2}}
    compute, calls = _counted(odd)
    assert store.analysis(run, "odd-test", compute) is odd
    assert store.analysis(run, "odd-test", compute) is odd
    assert len(calls) == 2 and not (store.root / run / ANALYSES_DIR / "odd-test.arrow").exists()


def test_a_stored_result_never_builds_a_class_outside_the_library(tmp_path):
    assert write_analysis(tmp_path, "value", [], {"x": 1})
    path = tmp_path / ANALYSES_DIR / "value.arrow"
    path.write_bytes(path.read_bytes().replace(b'{"d": {"x": 1}}', b'{"c": "os:system", "f": {}}'))
    with pytest.raises(AnalysisMiss):
        read_analysis(tmp_path, "value", [])


def test_bundles_never_carry_kept_analyses(store, tmp_path):
    run = store.list_runs()[0]
    store.analysis(run.run_id, "bundle-test", lambda: [1, 2])
    bundle = write_bundle(store, [run.run_id], tmp_path / "runs.lens.zip")
    with zipfile.ZipFile(bundle) as zf:
        assert not [n for n in zf.namelist() if f"/{ANALYSES_DIR}/" in n]
        zf_names = zf.namelist()
    planted = tmp_path / "planted.lens.zip"  # one carrying a result anyway: dropped on import
    with zipfile.ZipFile(bundle) as zf, zipfile.ZipFile(planted, "w") as out:
        for name in zf_names:
            out.writestr(name, zf.read(name))
        out.writestr(f"runs/{run.run_id}/{ANALYSES_DIR}/bundle-test.arrow", b"whatever")
    fresh = RunStore(tmp_path / "fresh")
    import_bundle(fresh, planted)
    assert not (fresh.root / run.run_id / ANALYSES_DIR).exists()


def test_integers_up_to_64_bits_nan_and_long_name_lists_read_back_exactly_and_wider_integers_are_not_kept(tmp_path):
    # The skeleton is read with orjson (a finding's thousands of layer names), which would read an integer wider
    # than 64 bits back as a float: such a value is computed every time instead, never kept changed.
    edge = {"u64": 2**64 - 1, "i64": -2**63, "nan": float("nan"), "inf": float("-inf"), "surrogate": "\ud800",
            "names": [f"decoder.{i}/mlp/down_proj" for i in range(20_000)], "nested": [[1, (2, None)], {"k": ("v",)}]}
    assert write_analysis(tmp_path, "edge", [], edge)
    back = read_analysis(tmp_path, "edge", [])
    assert type(back["u64"]) is int and back["u64"] == 2**64 - 1 and back["i64"] == -2**63
    assert back["nan"] != back["nan"] and back["inf"] == float("-inf") and back["surrogate"] == "\ud800"
    assert back["names"] == edge["names"] and back["nested"] == [[1, (2, None)], {"k": ("v",)}]
    assert not write_analysis(tmp_path, "wide", [], {"x": 2**64})
    assert not write_analysis(tmp_path, "wide", [], [(-2**63 - 1,)])
    assert not (tmp_path / ANALYSES_DIR / "wide.arrow").exists()
