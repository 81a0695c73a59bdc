"""The CLI's answers on real TensorRT-RTX builds of every sample model stay byte for byte what they were.

tests/test_golden_outputs.py keeps them for every real fixture; these are the engines LayerLens builds itself
(the session's builds, tests/conftest.py), so a change in how a build's log is read, or in anything downstream,
shows here. See tests/golden.py for what is left out (the run folder, the build's seconds, its accuracy).
"""

from __future__ import annotations

import pytest

from golden import (BUILD_COMPARISON, BUILDER, REGENERATE, assert_same_as_golden, build_comparison_folder,
                    build_comparison_outputs, build_folder, build_outputs, sample_build_keys)

KEYS = sample_build_keys()


@pytest.fixture(scope="module")
def sample_builds(rtx_builds, rtx_zoo_builds) -> dict:
    builds = {**rtx_builds, **rtx_zoo_builds}
    assert set(builds) == set(KEYS), ("tests/golden.py sample_build_plan and the suite's builds differ: "
                                      f"{sorted(set(builds) ^ set(KEYS))}")
    builders = {engine.builder for engine in builds.values()}
    assert builders == {BUILDER.read_text().strip()}, (
        f"these builds come from {sorted(builders)}, the goldens from {BUILDER.read_text().strip()}: a new "
        f"TensorRT-RTX may build other engines; {REGENERATE.replace('make_goldens.py', 'make_goldens.py --builds')}")
    return builds


@pytest.mark.parametrize("model,recipe", KEYS, ids=lambda v: v)
def test_build_outputs_unchanged(sample_builds, model, recipe):
    assert_same_as_golden(build_folder(model, recipe), build_outputs(sample_builds[(model, recipe)]))


@pytest.mark.parametrize("model", sorted({model for model, _ in KEYS}))
def test_build_comparison_outputs_unchanged(sample_builds, model):
    engines = [sample_builds[(model, recipe)] for recipe in BUILD_COMPARISON]
    assert_same_as_golden(build_comparison_folder(model), build_comparison_outputs(engines))
