"""The CLI's answers stay byte for byte what they were on every real fixture and tests/data engine.

A faster analysis or a cached table must give exactly the same `summary --json`, `layers --csv`,
`diagnose --json` (alone and against a baseline), `compare --json` and `calib --json`. When an output changes on
purpose, regenerate with `python tests/tools/make_goldens.py` and review the diff. The same outputs of real
TensorRT-RTX builds of every sample model are kept too (tests/test_build_goldens.py).
"""

from __future__ import annotations

import pytest

from golden import (BUILDER, GOLDEN, REGENERATE, assert_same_as_golden, build_comparison_folder, build_folder,
                    calib_folder, calib_output, calib_sets, compare_folder, compare_outputs, compare_sets,
                    engine_folder, engine_outputs, golden_keys, sample_build_keys)


@pytest.mark.parametrize("key", sorted(golden_keys()))
def test_engine_outputs_unchanged(key):
    assert_same_as_golden(engine_folder(key), engine_outputs(key))


@pytest.mark.parametrize("keys", compare_sets(), ids=lambda keys: " vs ".join(keys))
def test_comparison_outputs_unchanged(keys):
    assert_same_as_golden(compare_folder(keys), compare_outputs(keys))


@pytest.mark.parametrize("paths", calib_sets(), ids=lambda paths: " vs ".join(p.rsplit("/", 2)[-2] + "/" + p.rsplit("/", 1)[-1] for p in paths))
def test_calib_outputs_unchanged(paths):
    assert_same_as_golden(calib_folder(paths), calib_output(paths))


def test_every_golden_folder_is_still_produced():
    """A fixture removed or renamed leaves no stale goldens that nothing checks."""
    builds = sample_build_keys()
    expected = ({engine_folder(k) for k in golden_keys()} | {compare_folder(s) for s in compare_sets()}
                | {calib_folder(s) for s in calib_sets()} | {build_folder(*k) for k in builds}
                | {build_comparison_folder(model) for model, _ in builds})
    found = {p.parent for p in GOLDEN.rglob("*") if p.is_file() and p != BUILDER}
    assert found == expected, REGENERATE
