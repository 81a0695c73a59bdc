"""Compare and diagnose any two real engines: alignment without names, a verdict whose attribution adds up,
and no internal error on any pair of shapes (every fixture engine, every test-data engine, every TensorRT-RTX
build: see ``conftest.engine_shape``)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import DATA, FIXTURES, REPO, RTX_MODELS, RTX_RECIPES, engine_names, engine_shape, load_one
from engine_core.analysis.align import EXACT_MATCH_LIMIT, NAMES_ONLY_CONFIDENCE, _matching_blocks, align_engines, is_glue
from engine_core.analysis.attribution import compare_pair
from engine_core.analysis.compare import compare_engines
from engine_core.analysis.diagnose import diagnose
from engine_core.analysis.estimate import estimate_basis
from twins import write_renamed_twin

ENGINE_NAMES = engine_names()
DETAILED = [("trex-rtx3090", d, s) for d, s in (("fp32", "resnet.onnx.engine"), ("fp16", "resnet.onnx.engine"),
                                                 ("qat", "resnet-qat.onnx.engine"))] + [
    ("trex-mobilenet", ".", "mobilenet.qat.onnx.engine"), ("trex-mobilenet", ".", "mobilenet_v2_residuals.qat.onnx.engine"),
    ("rtx3060-trt10", ".", "resnet18_fp16"), ("rtx3060-trt10", ".", "mobilenet_v2_fp16")]


@pytest.mark.parametrize("folder,sub,stem", DETAILED, ids=[f"{f}/{s}" for f, _, s in DETAILED])
def test_renamed_twin_aligns_like_the_names(folder, sub, stem, tmp_path):
    base = FIXTURES / folder / sub
    original = load_one(*[p for p in base.glob(stem + ".*") if "metadata" not in p.name])
    twin = load_one(*write_renamed_twin(base / f"{stem}.graph.json", base / f"{stem}.profile.json", tmp_path))
    assert not set(original.layers["name"]) & set(twin.layers["name"])
    alignment = align_engines([original.layers, twin.layers])
    compute = ~is_glue(original.layers).to_numpy()
    a_ids, b_ids = alignment.group_ids
    # layer i of the twin is layer i of the original: the name-based alignment, which structure must reproduce
    same = [a_ids[i] == b_ids[i] and a_ids[i] in alignment.match for i in np.flatnonzero(compute)]
    assert np.mean(same) >= 0.95, f"{np.mean(same):.1%} of {compute.sum()} compute layers"
    assert set(alignment.match.values()) == {"structure"}
    att = compare_pair(original, twin)[1]
    assert att.verdict.startswith("twin is 1.00× ")
    assert abs(att.delta_ms) < 1e-9 and not att.different_networks


def test_a_renamed_llm_twin_aligns_by_structure_in_linear_time(tmp_path):
    """Thousands of identical decoder blocks, no shared name: structure alone must pair each layer with its twin.

    SequenceMatcher's longest blocks paired most layers with the next block's (28% right at 6k layers) in
    quadratic time; above EXACT_MATCH_LIMIT the sequences are walked side by side instead.
    """
    sys.path.insert(0, str(REPO / "benchmarks"))
    from synthetic import write_transformer_engine

    source = write_transformer_engine(tmp_path / "llm", 6000, name="llm")
    original = load_one(source)
    twin = load_one(*write_renamed_twin(source / "llm.graph.json", source / "llm.profile.json", tmp_path / "twin"))
    alignment = align_engines([original.layers, twin.layers])
    compute = np.flatnonzero(~is_glue(original.layers).to_numpy())
    assert len(compute) > EXACT_MATCH_LIMIT  # the walk, not the exact matcher
    a_ids, b_ids = alignment.group_ids
    same = [a_ids[i] == b_ids[i] and a_ids[i] in alignment.match for i in compute]
    assert np.mean(same) >= 0.9 and set(alignment.match.values()) == {"structure"}


@pytest.mark.parametrize("seed", range(20))
def test_short_sequences_align_exactly_as_sequence_matcher(seed):
    import difflib
    import random

    rng = random.Random(seed)
    a = [rng.choice("abcde") for _ in range(rng.randint(0, 300))]
    b = [rng.choice("abcde") for _ in range(rng.randint(0, 300))]
    expected = [tuple(m) for m in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks() if m.size]
    assert _matching_blocks(a, b) == expected
    walked = _matching_blocks(a, b, limit=10)  # the linear walk: runs of equal elements, increasing on both sides
    assert all(a[i:i + n] == b[j:j + n] for i, j, n in walked)
    assert all(i1 + n1 <= i2 and j1 + n1 <= j2 for (i1, j1, n1), (i2, j2, _) in zip(walked, walked[1:]))


def test_names_only_aligns_on_type_and_order_and_says_so():
    a = load_one(DATA / "layer_info" / "names_only.graph.json")
    b = load_one(DATA / "layer_info" / "names_only_legacy_export.graph.json")
    cmp = compare_engines([a, b])
    assert cmp.match_counts() == {"structure": 3} and set(cmp.groups["confidence"]) == {NAMES_ONLY_CONFIDENCE}
    assert any("names-only layer info" in n for n in cmp.notes)
    assert [g[-1] for g in cmp.groups["b_layers"]] == ["Conv_0 + Relu_1", "MaxPool_2", "{ForeignNode[Gemm_5]}"]


def test_different_networks_are_reported_as_such(all_engines):
    resnet, mobilenet = all_engines["resnet-qat"], all_engines["mobilenet.qat"]
    cmp, att = compare_pair(resnet, mobilenet)
    assert cmp.different_networks and cmp.aligned_share < 0.5
    assert att.verdict.startswith(f"These engines are different networks: {cmp.aligned_share:.0%} of compute layers align")
    kinds = [f.kind for f in diagnose(mobilenet, resnet)]
    assert "different_networks" in kinds and "speedup" not in kinds and "bytes_moved" not in kinds


@pytest.mark.parametrize("a,b,expected", [
    ("fp16/resnet", "resnet-qat", "resnet-qat is 1.83× fp16/resnet (FP16): faster by 1.826 ms GPU compute median."),
    ("fp32/resnet", "resnet-qat", "resnet-qat is 5.54× fp32/resnet (FP32): faster by 9.972 ms GPU compute median."),
])
def test_verdict_and_attribution_reconcile_exactly(all_engines, a, b, expected):
    base, engine = all_engines[a], all_engines[b]
    cmp, att = compare_pair(base, engine)
    assert att.verdict == expected
    parts = {p.kind: p.ms for p in att.parts}
    assert sum(parts.values()) == pytest.approx(engine.per_layer_sum_ms - base.per_layer_sum_ms, abs=1e-9)
    assert att.a_sum_ms == pytest.approx(base.per_layer_sum_ms, abs=1e-9)
    assert att.b_sum_ms == pytest.approx(engine.per_layer_sum_ms, abs=1e-9)
    assert parts["faster"] < 0 < parts["slower"] and parts["only_new"] > 0 > parts["only_baseline"]
    # The only-in-QAT layers are the input quantize, the classifier's squeeze and its reformat (0.0899 ms).
    assert parts["only_new"] == pytest.approx(0.08992, abs=1e-9)
    assert att.e2e_delta_ms == pytest.approx(engine.gpu_compute.median_ms - base.gpu_compute.median_ms)
    assert "explain the end-to-end change to within" in att.reconciliation


def test_legacy_named_export_aligns_with_the_pytorch_export(rtx_builds, rtx_env):
    """A second export of ResNet-18 with PyTorch < 1.13 names (Conv_3 vs /layer1/layer1.0/conv1/Conv), built for real."""
    from engine_core.build.matrix import Variant, build_matrix
    from engine_core.models.zoo import sample_model_path

    legacy = build_matrix(sample_model_path("resnet18", naming="legacy"), [Variant("fp16")],
                          accuracy=False).results[0].engine  # alignment only: no onnxruntime run of the model
    modern = rtx_builds[("resnet18", "int8-tensorrt-uncalibrated")]
    assert legacy.layers["name"].str.contains(r"^Conv_\d+", regex=True).any()
    cmp, att = compare_pair(legacy, modern)
    assert cmp.aligned_share >= 0.95 and not cmp.different_networks
    counts = cmp.match_counts()
    assert counts.get("structure", 0) >= 19 and "onnx" not in counts
    assert (cmp.groups["precision_change"] == "FP16->INT8").sum() >= 19
    assert att.estimate and estimate_basis("RTX 4090") in att.verdict


def _check_pair(baseline, engine) -> None:
    cmp, att = engine.analysis.compared_with(baseline)  # what diagnose reads below
    assert sum(p.ms for p in att.parts) == pytest.approx(att.delta_ms, abs=1e-9)
    if not (baseline.measured and engine.measured):  # never a measured number against an estimated one
        assert att.estimate or att.a_sum_ms == att.b_sum_ms == 0
    json.dumps(cmp.to_json()) and json.dumps(att.to_json())
    for finding in diagnose(engine, baseline):
        json.dumps(finding.to_dict())


@pytest.fixture(scope="module")
def every_engine(all_engines, rtx_builds) -> dict:
    """Every fixture and test-data engine by name, and every TensorRT-RTX build as ``model/recipe``."""
    return {**all_engines, **{f"{m}/{r}": e for (m, r), e in rtx_builds.items()}}


@pytest.fixture(scope="module")
def archetypes(every_engine) -> dict:
    """``{shape: name}``: the first engine (by name) of every shape."""
    found: dict = {}
    for name in sorted(every_engine):
        found.setdefault(engine_shape(every_engine[name]), name)
    return found


@pytest.mark.parametrize("name", ENGINE_NAMES + [f"{m}/{r}" for m in RTX_MODELS for r in RTX_RECIPES])
def test_every_pair_of_shapes_compares_and_diagnoses(every_engine, archetypes, name):
    """The first engine of each shape as B against the first of every shape as baseline A (every ordered pair
    of shapes once); every other engine against itself and the first engine of its shape, both ways. A pair
    of engines whose shapes were paired already proves nothing new: this replaced all ~2,200 pairs of
    fixtures and builds (each against each) with ~500."""
    engine = every_engine[name]
    own = every_engine[archetypes[engine_shape(engine)]]
    if own is engine:
        for baseline in archetypes.values():
            _check_pair(every_engine[baseline], engine)
    else:
        for a, b in ((engine, engine), (own, engine), (engine, own)):
            _check_pair(a, b)
    assert len(archetypes) >= 20, sorted(archetypes.values())  # fixtures and builds span many shapes


def test_cli_compare_and_diagnose_never_fail_internally():
    def run(*args):
        return subprocess.run([sys.executable, "-m", "layerlens", *args], capture_output=True, text=True, cwd=REPO,
                              timeout=120)

    qat, h100 = str(FIXTURES / "trex-rtx3090" / "qat"), str(FIXTURES / "h100-trt10-logs" / "result-01.log")
    for args in (("compare", h100, qat), ("diagnose", qat, "--baseline", h100), ("diagnose", qat, "--baseline", qat),
                 ("compare", qat, qat, "--json")):
        proc = run(*args)
        assert proc.returncode == 0 and "internal error" not in proc.stderr, (args, proc.stderr)
    verdict = run("diagnose", qat, "--baseline", str(FIXTURES / "trex-rtx3090" / "fp16")).stdout.splitlines()[0]
    assert verdict == "resnet-qat is 1.83× resnet (FP16): faster by 1.826 ms GPU compute median."


def test_a_groups_side_reads_the_layer_doing_the_real_work():
    """One engine's side of three matched groups: its precisions come from the layer doing the work (not data
    movement, with weights, most time, timed before untimed), each from the first ranked layer that has one."""
    from engine_core.analysis.compare import _side

    nan = float("nan")
    layers = pd.DataFrame({
        "name": ["reformat", "epilogue", "conv", "conv2", "lone", "elsewhere"],
        "order": [0, 1, 2, 3, 4, 5],
        "avg_ms": [0.5, 0.3, 0.1, nan, nan, 1.0],
        "compute_precision": ["FP32", "INT8", None, "FP16", "FP16", "FP32"],
        "output_precision": ["FP32", "INT8", "FP16", "FP16", "FP16", "FP32"],
        "weights_precision": ["NONE", "NONE", "INT8", "FP16", "NONE", "NONE"],
        "weights_bytes": [0, 0, 100, 300, 0, 0],
        "is_data_movement": [True, False, False, False, False, False],
    })
    gids = np.array([7, 7, 7, 7, 3, 9])
    matched = np.array([3, 5, 7])  # group 5 has no layer in this engine; group 9 is not matched
    side = _side(layers, gids, np.isin(gids, matched), matched)
    assert side["layers"].tolist() == [("lone",), (), ("reformat", "epilogue", "conv", "conv2")]
    assert np.isnan(side["ms"][:2]).all() and side["ms"][2] == pytest.approx(0.9)
    # conv ranks first (weights, timed) but has no compute precision: the next in rank is conv2 (weights before
    # time: the untimed conv2 before the timed epilogue), not the epilogue's INT8.
    assert side["precision"].tolist() == ["FP16", None, "FP16"]
    assert side["output_precision"].tolist() == ["FP16", None, "FP16"]
    assert side["weights_precision"].tolist() == ["NONE", "NONE", "INT8"]  # only layers with weights hold one
    assert side["weights_bytes"].tolist() == [0, 0, 400]
    assert side["first_order"][0] == 4 and np.isnan(side["first_order"][1]) and side["first_order"][2] == 0
