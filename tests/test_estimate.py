"""The latency shown for an unmeasured engine: which GPU it is for, and the roofline floor recomputed by hand.

Every TensorRT-RTX build here is unmeasured, so the GPU an estimate stands for decides every latency a user
sees for it. The roofline (FLOPs and bytes of each layer against a datasheet GPU) is the physical floor of
that estimate; one convolution's floor is worked out below from its layer record and the datasheet alone.
"""

from __future__ import annotations

import dataclasses

import pytest

from conftest import FIXTURES, load_one
from engine_core.analysis.estimate import estimate_gpu, estimate_latency
from engine_core.analysis.gpus import find_gpu
from engine_core.analysis.roofline import roofline_table
from engine_core.build.engine_request import RTX_TARGETS

#: The catalog GPU standing in for each TensorRT-RTX target: the GPU of that compute capability in the catalog.
#: Consumer Blackwell (SM120/SM121) is not in the catalog, so the newest consumer GPU before it stands in.
TARGET_GPU = {"sm75": "TITAN RTX", "sm80": "A100 40GB", "sm86": "RTX 3090", "sm89": "RTX 4090",
              "sm120": "RTX 4090", "sm121": "RTX 4090"}


def test_every_target_has_an_expected_gpu():
    assert set(TARGET_GPU) == set(RTX_TARGETS)  # a new target joins here, with the GPU it should stand for


def _targeting(engine, label: str | None):
    """``engine`` as if its build log's ``[LayerLens] target:`` fact said ``label`` (None: no such fact)."""
    facts = {k: v for k, v in engine.build_facts.items() if k != "target"}
    return dataclasses.replace(engine, build_facts={**facts, **({"target": label} if label else {})})


@pytest.mark.parametrize("target", RTX_TARGETS)
def test_the_estimate_of_a_single_target_build_is_for_that_targets_gpu(rtx_builds, target):
    engine = _targeting(rtx_builds[("tiny_cnn", "fp32")], target.upper())  # the label a `--target` build carries
    assert estimate_gpu(engine).name == TARGET_GPU[target]
    assert estimate_latency(engine).gpu == TARGET_GPU[target]


@pytest.mark.parametrize("label,gpu", [
    ("SM86+SM89+SM120 (TensorRT-RTX default)", "RTX 4090"),   # the newest target with a stand-in wins
    ("SM75+SM86", "RTX 3090"),
    ("SM75+SM80", "A100 40GB"),
    ("", "RTX 4090"),                                         # no target known: the default
])
def test_a_multi_target_build_is_estimated_for_its_newest_target(rtx_builds, label, gpu):
    engine = _targeting(rtx_builds[("tiny_cnn", "fp32")], label or None)
    assert estimate_gpu(engine).name == gpu


def test_an_engine_with_its_own_gpu_is_estimated_for_that_gpu_and_an_override_wins():
    engine = load_one(FIXTURES / "trex-rtx3090" / "qat")
    assert estimate_gpu(engine).name == "RTX 3090"
    assert estimate_gpu(engine, "A100 40GB").name == "A100 40GB"


def test_a_real_sm86_build_is_estimated_on_an_rtx_3090(rtx_env, tmp_path):
    """End to end: `--target sm86` reaches the build log, the importer and the estimate's GPU."""
    from engine_core.build.matrix import Variant, build_matrix
    from engine_core.models.zoo import sample_model_path

    result = build_matrix(sample_model_path("tiny_cnn"), [Variant("fp32")], targets=("sm86",), out_dir=tmp_path)
    assert not result.failures, [f.error for f in result.failures]
    engine = result.results[0].engine
    assert engine.target == "SM86" and not engine.measured
    assert estimate_latency(engine).gpu == "RTX 3090"


def test_roofline_floor_of_one_convolution_by_hand():
    """ResNet-50's INT8 stem convolution (7x7, stride 2, 3 -> 64 channels, batch 32) on an RTX 3090.

    Datasheet (GA102 whitepaper, Appendix A): 284 dense INT8 TOPS, 936 GB/s.
    """
    engine = load_one(FIXTURES / "trex-rtx3090" / "qat")
    gpu = find_gpu(engine.device)
    assert (gpu.name, gpu.peak("INT8"), gpu.bandwidth) == ("RTX 3090", 284e12, 936e9)
    roof = roofline_table(engine.layers, gpu).set_index("name")
    conv1 = roof.loc[next(n for n in roof.index if n.endswith("quant_conv1_conv/BiasAdd"))]
    # The record: input 32x3x230x230 Int8 (padded), output 32x64x112x112 Int8, 9408 Int8 weights, 64 Float biases.
    flops = 2 * 32 * 112 * 112 * (64 * 3 * 7 * 7)            # N x P x Q output pixels, one multiply-add per weight
    moved = 32 * 3 * 230 * 230 + 32 * 64 * 112 * 112 + 9408 + 64 * 4   # kernel 7 > stride 2: the whole input is read
    assert conv1["flops"] == flops == 7_552_892_928 and conv1["bytes_moved"] == moved == 30_778_176
    compute_ms = flops / 284e12 * 1e3          # 0.0266 ms
    memory_ms = moved / 936e9 * 1e3            # 0.0329 ms: the stem is memory-bound even in INT8
    assert conv1["bound"] == "memory" and conv1["roofline_ms"] == pytest.approx(max(compute_ms, memory_ms), rel=1e-12)
    assert conv1["roofline_ms"] == pytest.approx(0.032883, abs=5e-7)
    # The profile says 0.167936 ms: the kernel reaches a fifth of the floor, and the table says so.
    assert conv1["avg_ms"] == 0.167936
    assert conv1["fraction_of_peak_pct"] == pytest.approx(100 * memory_ms / 0.167936)
