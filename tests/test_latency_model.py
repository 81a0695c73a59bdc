"""The calibrated latency model against real profiles: its training set, the error it must keep on engines it was
not fitted on, one estimate recomputed by hand, the GPU each TensorRT-RTX target is estimated on, verdicts that
never name a winner inside the model's error, and `layerlens estimate --json`."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from conftest import FIXTURES, REPO, load_one
from engine_core.analysis.attribution import attribute, compare_pair
from engine_core.analysis.compare import compare_engines
from engine_core.analysis.diagnose import diagnose
from engine_core.analysis.estimate import (engine_with_estimated_times, estimate_basis, estimate_gpu, estimate_latency,
                                           measured_vs_estimated)
from engine_core.analysis.fit_latency_model import (TRAINING_FOLDERS, evaluate, fit_model, measured_engines)
from engine_core.analysis.gpus import find_gpu, gpu_by_name
from engine_core.analysis.latency_model import default_latency_model, gpu_generation
from engine_core.analysis.roofline import layer_work

MODEL = default_latency_model()
TRAINED = [t["engine"] for t in MODEL.training]
RTX3090 = FIXTURES / "trex-rtx3090"


@pytest.fixture(scope="module")
def measured():
    return measured_engines(FIXTURES)


@pytest.fixture(scope="module")
def evaluation(measured):
    """The leave-one-out evaluation recomputed from the fixtures (not read from the shipped file)."""
    return evaluate(measured)


def _row(evaluation, kind: str, name: str) -> dict:
    return next(r for r in evaluation[0][kind] if r["engine"] == name)


def test_training_set_is_every_measured_fixture_and_nothing_else(measured):
    assert sorted(e.name for e in measured) == sorted(TRAINED) == sorted([
        "fp32/resnet", "fp16/resnet", "resnet-qat", "mobilenet.qat", "mobilenet_v2_residuals.qat",
        "resnet18_fp16", "mobilenet_v2_fp16", "result-05"])
    assert {t["source"].split("/")[0] for t in MODEL.training} == set(TRAINING_FOLDERS)
    assert {t["gpu"] for t in MODEL.training} == {"RTX 3090", "TITAN RTX", "NVIDIA GeForce RTX 3060 Laptop GPU", "H100 PCIe"}
    assert sorted(MODEL.generations) == ["Ampere", "Hopper", "Turing"]


def _flat(params: dict) -> dict:
    return pd.json_normalize(params, sep=".").iloc[0].to_dict()


def test_shipped_parameters_are_what_the_script_fits(measured, evaluation):
    """engine_core/data/latency_model_v1.json is reproducible: `python -m engine_core.analysis.fit_latency_model`."""
    refit = fit_model(measured, evaluation[1])
    assert refit.error == MODEL.error
    assert sorted(refit.generations) == sorted(MODEL.generations)
    for generation, params in MODEL.generations.items():
        fresh, shipped = _flat(refit.generations[generation].to_dict()), _flat(params.to_dict())
        assert fresh.keys() == shipped.keys()
        for key, value in shipped.items():
            assert fresh[key] == (pytest.approx(value, rel=1e-3) if isinstance(value, float) else value), key
    for kind, rows in evaluation[0].items():
        shipped = {r["engine"]: r for r in MODEL.evaluation[kind]}
        for row in rows:
            assert row["model"]["total_ms"] == pytest.approx(shipped[row["engine"]]["model"]["total_ms"], rel=1e-3)


@pytest.mark.parametrize("name", TRAINED)
def test_leave_one_engine_out_beats_the_roofline(evaluation, name):
    row = _row(evaluation, "leave_one_engine_out", name)
    model, roofline = row["model"], row["roofline"]
    assert abs(model["total_error_pct"]) < abs(roofline["total_error_pct"])
    assert model["median_layer_error_pct"] < roofline["median_layer_error_pct"]
    if row["layer_information"]:  # the thresholds the fit must keep on engines it never saw
        assert abs(model["total_error_pct"]) <= 10.0 and model["median_layer_error_pct"] <= 25.0
        assert model["rank_correlation"] >= 0.5
    else:  # a profile table alone: the model can only count kernels, still far closer than the roofline's zero
        assert abs(model["total_error_pct"]) <= 40.0 and roofline["total_ms"] == 0


@pytest.mark.parametrize("name", TRAINED)
def test_leave_one_gpu_out_stays_inside_the_error_band(evaluation, name):
    row = _row(evaluation, "leave_one_gpu_out", name)
    assert abs(row["model"]["total_error_pct"]) < abs(row["roofline"]["total_error_pct"])
    assert row["model"]["median_layer_error_pct"] < row["roofline"]["median_layer_error_pct"]
    if row["layer_information"]:
        assert abs(row["model"]["total_error_pct"]) <= MODEL.error.total_pct <= 25.0


def test_error_band_is_the_worst_held_out_gpu(evaluation):
    banded = [r for r in evaluation[0]["leave_one_gpu_out"] if r["layer_information"]]
    assert MODEL.error.engines == len(banded) == 7
    assert MODEL.error.total_pct == math.ceil(max(abs(r["model"]["total_error_pct"]) for r in banded))
    assert MODEL.basis == f"LayerLens latency model v1, ±{MODEL.error.total_pct:.0f}% on 7 real engines"
    assert 1.0 < MODEL.error.outlier_ratio < 2.0 and 0 < MODEL.error.per_layer_median_pct < 25


def test_one_estimate_recomputed_by_hand_from_flops_bytes_and_the_fitted_parameters():
    """ResNet-50 QAT on the RTX 3090, conv2_block1_2: a 3x3 INT8 convolution, 64 -> 64 channels, 56x56, batch 32."""
    engine = load_one(RTX3090 / "qat")
    gpu = find_gpu(engine.device)
    row = int(np.flatnonzero(engine.layers["name"].str.contains("quant_conv2_block1_2_conv/"))[0])
    work = layer_work(engine.layers).iloc[row]
    flops = 2 * 32 * 56 * 56 * (64 * 64 * 3 * 3)
    elements = 32 * 64 * 56 * 56
    moved = elements + elements + 64 * 64 * 9 + 64 * 4  # INT8 input and output, INT8 weights, FP32 bias
    assert (work["flops"], work["output_elements"], work["bytes_moved"]) == (flops, elements, moved)
    p = MODEL.generations["Ampere"]
    compute_s = flops * (1 + p.half_occupancy_outputs_per_sm * 82 / elements) / (p.compute_efficiency["matmul"]["INT8"] * 284e12)
    memory_s = (moved + p.half_occupancy_bytes_per_sm * 82) / (p.memory_efficiency["matmul"] * 936e9)
    by_hand = p.kernel_us / 1e3 + max(compute_s, memory_s) * 1e3
    predicted = MODEL.predict(engine.layers, gpu)
    assert predicted["estimated_ms"].iat[row] == pytest.approx(by_hand, rel=1e-12)
    assert predicted["layer_class"].iat[row] == "matmul" and predicted["bound"].iat[row] == "compute"
    assert predicted["estimated_ms"].iat[row] == pytest.approx(engine.layers["avg_ms"].iat[row], rel=0.1)  # 0.0430 ms measured


def test_one_memory_bound_estimate_recomputed_by_hand():
    """The same engine's stem, conv1: 7x7 stride 2, 3 -> 64 channels, batch 32 (its floor: tests/test_estimate.py).

    It reads and writes far more than it computes, so its estimate is the memory term, which the compute-bound
    layer above never exercises: the bytes plus the occupancy ramp, at the class's fitted memory efficiency.
    """
    engine = load_one(RTX3090 / "qat")
    gpu = find_gpu(engine.device)
    row = int(np.flatnonzero(engine.layers["name"].str.contains("quant_conv1_conv/LastValueQuant"))[0])
    work = layer_work(engine.layers).iloc[row]
    flops = 2 * 32 * 112 * 112 * (64 * 3 * 7 * 7)
    elements = 32 * 64 * 112 * 112
    moved = 32 * 3 * 230 * 230 + elements + 9408 + 64 * 4   # padded INT8 input, INT8 output, weights, FP32 bias
    assert (work["flops"], work["output_elements"], work["bytes_moved"]) == (flops, elements, moved)
    p = MODEL.generations["Ampere"]
    compute_s = flops * (1 + p.half_occupancy_outputs_per_sm * 82 / elements) / (p.compute_efficiency["matmul"]["INT8"] * 284e12)
    memory_s = (moved + p.half_occupancy_bytes_per_sm * 82) / (p.memory_efficiency["matmul"] * 936e9)
    assert memory_s > compute_s
    predicted = MODEL.predict(engine.layers, gpu)
    assert predicted["estimated_ms"].iat[row] == pytest.approx(p.kernel_us / 1e3 + memory_s * 1e3, rel=1e-12)
    assert predicted["layer_class"].iat[row] == "matmul" and predicted["bound"].iat[row] == "memory"


def test_layers_that_launch_no_kernel_cost_nothing(rtx_builds):
    fp16 = load_one(RTX3090 / "fp16")
    estimate = estimate_latency(fp16)
    noop = fp16.layers["is_noop"].to_numpy()
    assert noop.sum() == 25 and (estimate.per_layer["estimated_ms"][noop] == 0).all()
    assert (fp16.layers["avg_ms"][noop] == 0).all()  # what TensorRT's profiler reports for them
    rtx = estimate_latency(rtx_builds[("resnet18", "int8-ort-uncalibrated")])
    sync = rtx.per_layer["layer_type"].isin(["signal", "wait"])
    assert sync.sum() == 12 and (rtx.per_layer["estimated_ms"][sync] == 0).all()
    assert (rtx.per_layer["estimated_ms"][~sync] > 0).all()


TARGETS = [("SM75", "TITAN RTX", "Turing"), ("SM80", "A100 40GB", "Ampere"), ("SM86", "RTX 3090", "Ampere"),
           ("SM89", "RTX 4090", "Ampere"), ("SM120", "RTX 4090", "Ampere"), ("SM121", "RTX 4090", "Ampere"),
           ("SM75+SM86", "RTX 3090", "Ampere"), ("SM86+SM89+SM120 (TensorRT-RTX default)", "RTX 4090", "Ampere")]


@pytest.mark.parametrize("target,gpu,parameters", TARGETS, ids=[t[0] for t in TARGETS])
def test_each_tensorrt_rtx_target_is_estimated_on_its_newest_catalog_gpu(rtx_builds, target, gpu, parameters):
    built = rtx_builds[("resnet18", "fp16")]
    engine = dataclasses.replace(built, build_facts={**built.build_facts, "target": target})
    assert engine.device is None and not engine.measured
    assert estimate_gpu(engine).name == gpu
    estimate = estimate_latency(engine)
    assert estimate.gpu == gpu and estimate.parameters_from == parameters
    assert engine_with_estimated_times(engine).time_basis == estimate_basis(gpu)


def test_the_real_builds_targets(rtx_builds):
    assert estimate_gpu(rtx_builds[("resnet18", "fp16")]).name == "RTX 4090"  # the portable default set
    fp8 = rtx_builds[("resnet18", "fp8-tensorrt-uncalibrated")]
    assert fp8.target.startswith("SM89") and estimate_gpu(fp8).name == "RTX 4090"
    assert gpu_generation(gpu_by_name("RTX 4090")) == "Ada" and MODEL.generation_for(gpu_by_name("RTX 4090")) == ("Ada", "Ampere")


PAIRS = [("fp32", "fp16"), ("fp16", "qat"), ("fp32", "qat")]


def _rtx3090(variant: str):
    return load_one(RTX3090 / variant)


@pytest.fixture(scope="module")
def without_rtx3090(measured):
    """The model fitted with every RTX 3090 profile left out: the verdicts must not need them."""
    return fit_model([e for e in measured if e.gpu.name != "RTX 3090"], MODEL.error)


@pytest.mark.parametrize("baseline,variant", PAIRS)
@pytest.mark.parametrize("fit", ["shipped", "without_rtx3090"])
def test_rtx3090_variants_get_the_measured_verdict_from_estimates_alone(baseline, variant, fit, without_rtx3090):
    a, b = _rtx3090(baseline), _rtx3090(variant)
    assert b.gpu_compute.median_ms < a.gpu_compute.median_ms  # measured: each lower precision is faster
    model = MODEL if fit == "shipped" else without_rtx3090
    gpu = gpu_by_name("RTX 3090")
    ea, eb = (engine_with_estimated_times(e, gpu, force=True, model=model) for e in (a, b))
    verdict = attribute(compare_engines([ea, eb]), ea, eb).verdict
    assert ("faster by" in verdict and "slower" not in verdict) or "within the estimate's error" in verdict, verdict
    measured_ratio = a.per_layer_sum_ms / b.per_layer_sum_ms
    assert ea.per_layer_sum_ms / eb.per_layer_sum_ms == pytest.approx(measured_ratio, rel=MODEL.error.total_pct / 100)


def test_estimates_inside_the_error_band_name_no_winner(rtx_builds):
    ort, trt = rtx_builds[("resnet18", "int8-ort-uncalibrated")], rtx_builds[("resnet18", "int8-tensorrt-uncalibrated")]
    a, b = estimate_latency(ort).total_ms, estimate_latency(trt).total_ms
    assert MODEL.within_error(a, b)
    _, att = compare_pair(ort, trt)
    assert att.estimate and "within the estimate's error" in att.verdict
    assert "faster by" not in att.verdict and "slower by" not in att.verdict
    assert f"inside the model's ±{MODEL.error.total_pct:.0f}%" in att.verdict


def test_estimates_outside_the_error_band_name_the_winner(rtx_builds):
    fp32, fp16 = rtx_builds[("resnet18", "fp32")], rtx_builds[("resnet18", "fp16")]
    a, b = estimate_latency(fp32).total_ms, estimate_latency(fp16).total_ms
    assert not MODEL.within_error(a, b) and b < a
    _, att = compare_pair(fp32, fp16)
    assert att.verdict.startswith(f"resnet18-fp16 is {a / b:.2f}× resnet18-fp32 (FP32): faster by {a - b:.3f} ms")
    assert estimate_basis("RTX 4090") in att.verdict


def test_a_layer_far_slower_than_the_model_is_a_finding():
    engine = load_one(*(FIXTURES / "trex-mobilenet").glob("mobilenet.qat.onnx.engine.*"))
    table = measured_vs_estimated(engine)
    slow = table[table["slower_than_model"]]
    assert len(slow) == int((table["ratio"] > MODEL.error.outlier_ratio).sum()) > 0
    finding = next(f for f in diagnose(engine) if f.kind == "slower_than_model")
    assert finding.layers == list(slow.sort_values("excess_ms", ascending=False)["name"])
    assert finding.impact_ms == pytest.approx(slow["excess_ms"].sum()) and finding.estimate
    assert MODEL.label in finding.message and "TITAN RTX" in finding.message
    # The residual-add convolutions writing FP16 (i8f16 tactics) are among them: the wide-output story again.
    assert slow["name"].str.contains(r"Add_\d+$").sum() >= 5


def test_estimated_engines_have_nothing_to_hold_against_the_model(rtx_builds):
    engine = rtx_builds[("resnet18", "fp16")]
    assert measured_vs_estimated(engine).empty
    assert "slower_than_model" not in {f.kind for f in diagnose(engine)}


def test_a_100k_layer_engine_estimates_in_about_a_second():
    base = _rtx3090("fp32").layers
    big = pd.concat([base] * 1000, ignore_index=True).assign(order=lambda f: np.arange(len(f)))
    engine = dataclasses.replace(_rtx3090("fp32"), layers=big)
    start = time.perf_counter()
    estimate = estimate_latency(engine)
    took = time.perf_counter() - start
    assert len(estimate.per_layer) == 103_000
    assert estimate.total_ms == pytest.approx(1000 * estimate_latency(_rtx3090("fp32")).total_ms, rel=1e-9)
    assert took < 3.0, f"{took:.2f} s"  # ~0.5 s on an idle core; quadratic work would take minutes


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "layerlens", *map(str, args)], capture_output=True, text=True, cwd=REPO,
                          timeout=300)


def _strict(text: str):
    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


def test_estimate_json_of_a_measured_fixture_is_strict_and_side_by_side(evaluation):
    proc = _cli("estimate", RTX3090 / "qat", "--json")
    assert proc.returncode == 0, proc.stderr
    out = _strict(proc.stdout)
    engine = _rtx3090("qat")
    assert (out["engine"], out["gpu"], out["model"]) == ("resnet-qat", "RTX 3090", "LayerLens latency model v1")
    assert out["basis"] == estimate_basis("RTX 3090") and out["parameters_from"] == "Ampere"
    assert isinstance(out["total_ms"], float) and len(out["layers"]) == 63
    assert out["total_ms"] == pytest.approx(sum(r["estimate_ms"] for r in out["layers"]), abs=1e-4)
    assert out["total_ms"] == pytest.approx(estimate_latency(engine).total_ms, abs=1e-6)
    assert out["measured_total_ms"] == pytest.approx(engine.per_layer_sum_ms, abs=1e-6)
    assert out["total_error_pct"] == pytest.approx(100 * (out["total_ms"] / out["measured_total_ms"] - 1), abs=0.01)
    assert [r["measured_ms"] for r in out["layers"]] == pytest.approx(list(engine.layers["avg_ms"]), abs=1e-6)
    assert out["in_training_set"] and out["held_out_total_error_pct"] == \
        _row(evaluation, "leave_one_engine_out", "resnet-qat")["model"]["total_error_pct"]
    text = _cli("estimate", RTX3090 / "qat").stdout
    assert f"estimate {out['total_error_pct']:+.1f}%" in text and "fitted without it" in text


def test_estimate_json_of_a_tensorrt_rtx_build(rtx_builds):
    engine = rtx_builds[("resnet18", "int8-ort-uncalibrated")]
    log = next(f for f in engine.files if f.endswith(".build.log"))
    out = _strict(_cli("estimate", log, "--json", "--gpu", "A100 40GB").stdout)
    assert out["gpu"] == "A100 40GB" and out["parameters_from"] == "Ampere" and out["measured_total_ms"] is None
    assert out["total_error_pct"] is None and all(r["measured_ms"] is None and r["error_pct"] is None for r in out["layers"])
    assert out["total_ms"] == pytest.approx(estimate_latency(engine, gpu_by_name("A100 40GB")).total_ms, abs=1e-6)
    text = _cli("estimate", log, "--gpu", "rtx 4090", "--top", "5").stdout
    assert "no Ada GPU was profiled: Ampere parameters" in text and "the 5 layers with the largest estimate (of 53" in text


def test_estimate_says_what_it_cannot_do():
    unknown = _cli("estimate", RTX3090 / "qat", "--gpu", "GTX 480")
    assert unknown.returncode == 1 and "Unknown GPU 'GTX 480'" in unknown.stderr and "RTX 4090" in unknown.stderr
    no_layers = _cli("estimate", FIXTURES / "h100-trt10-logs" / "result-01.log")
    assert no_layers.returncode == 1 and "has no layers to estimate" in no_layers.stderr
    profile_only = _cli("estimate", FIXTURES / "h100-trt10-logs" / "result-05.log")
    assert profile_only.returncode == 0 and "no layer information" in profile_only.stdout


def test_compare_and_diagnose_label_estimates(rtx_builds):
    fp32, int8 = (next(f for f in rtx_builds[("resnet18", r)].files if f.endswith(".build.log"))
                  for r in ("fp32", "int8-tensorrt-uncalibrated"))
    compared = _strict(_cli("compare", fp32, int8, "--json").stdout)
    assert compared["time_basis"] == compared["attribution"]["time_basis"] == estimate_basis("RTX 4090")
    assert estimate_basis("RTX 4090") in compared["attribution"]["verdict"]
    text = _cli("diagnose", int8, "--baseline", fp32).stdout
    assert estimate_basis("RTX 4090") in text.splitlines()[0]
