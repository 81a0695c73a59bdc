"""The first-run demo without a browser: what it builds, which runs the dashboard opens on, and when it builds nothing.
The real build into an empty store is tested with the dashboard that makes it (tests/test_install.py)."""

from __future__ import annotations

import argparse
import sys

import pytest

from conftest import FIXTURES
from engine_core.build.demo import DEMO_MODEL, DEMO_VARIANTS, build_demo, demo_selection
from engine_core.build.matrix import MatrixResult, VariantResult, variant_stem

STEMS = {f"{v.precision}-{v.placement}": variant_stem(DEMO_MODEL, v, "minmax", False) for v in DEMO_VARIANTS}


def _result(failed: tuple[str, ...] = ()) -> MatrixResult:
    """A demo matrix result as build_demo returns it: run ids for the variants that built."""
    result = MatrixResult()
    for variant in DEMO_VARIANTS:
        stem = STEMS[f"{variant.precision}-{variant.placement}"]
        ok = stem not in failed
        result.results.append(VariantResult(variant, stem, run_id=f"{stem}-0123456789" if ok else None,
                                            error=None if ok else "the build failed"))
    return result


def test_the_demo_builds_what_the_readme_promises():
    assert sorted(STEMS.values()) == ["resnet18-fp16", "resnet18-fp32", "resnet18-int8-ort-uncalibrated",
                                      "resnet18-int8-tensorrt-uncalibrated"]


def test_selection_opens_int8_tensorrt_against_fp32_with_the_others_beside():
    run, baseline, more = demo_selection(_result())
    assert run == "resnet18-int8-tensorrt-uncalibrated-0123456789" and baseline == "resnet18-fp32-0123456789"
    assert more == ["resnet18-fp16-0123456789", "resnet18-int8-ort-uncalibrated-0123456789"]


@pytest.mark.parametrize("failed,expected", [
    (("resnet18-fp16",), ("resnet18-int8-tensorrt-uncalibrated", "resnet18-fp32", ["resnet18-int8-ort-uncalibrated"])),
    (("resnet18-int8-tensorrt-uncalibrated",), (None, "resnet18-fp32", ["resnet18-fp16", "resnet18-int8-ort-uncalibrated"])),
    (tuple(STEMS.values()), (None, None, [])),
])
def test_selection_leaves_out_what_failed(failed, expected):
    run, baseline, more = demo_selection(_result(failed))
    ids = lambda stem: f"{stem}-0123456789" if stem else None  # noqa: E731
    assert (run, baseline, more) == (ids(expected[0]), ids(expected[1]), [ids(s) for s in expected[2]])


def test_without_tensorrt_rtx_the_demo_says_how_to_install_before_any_work(tmp_path, monkeypatch):
    from engine_core.errors import MissingDependencyError
    from engine_core.store import RunStore

    monkeypatch.setitem(sys.modules, "tensorrt_rtx_bindings", None)  # not installed, as far as Python can tell
    monkeypatch.setenv("LAYERLENS_MODELS", str(tmp_path / "models"))
    store = RunStore(tmp_path / "runs")
    with pytest.raises(MissingDependencyError, match=r"TensorRT-RTX is needed to build engines") as err:
        build_demo(store)
    assert "pip install 'layerlens[rtx]'" in err.value.fix
    assert not (tmp_path / "models").exists() and store.list_runs() == []  # no model generated, nothing stored


def test_the_dashboard_skips_the_demo_when_it_cannot_or_need_not_build(tmp_path, monkeypatch):
    from engine_core.discover import load_engines
    from engine_core.store import RunStore
    from layerlens.cli.main import _demo_if_empty

    empty = str(tmp_path / "empty")
    assert _demo_if_empty(argparse.Namespace(store=empty, no_demo=True)) == ""
    monkeypatch.setitem(sys.modules, "tensorrt_rtx_bindings", None)
    assert _demo_if_empty(argparse.Namespace(store=empty, no_demo=False)) == ""
    monkeypatch.undo()
    full = RunStore(tmp_path / "full")
    full.add(load_engines([FIXTURES / "trex-rtx3090" / "qat"])[0][0])
    assert _demo_if_empty(argparse.Namespace(store=str(full.root), no_demo=False)) == ""
    assert len(full.list_runs()) == 1
