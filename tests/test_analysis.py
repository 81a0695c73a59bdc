"""Analysis pinned on the real fixtures: fallback reasons, bytes, reformats, roofline, compare, diagnose."""

from __future__ import annotations

import glob
import math

import pandas as pd
import pytest

from conftest import FIXTURES, load_one
from engine_core.analysis.compare import compare_engines, normalize_node
from engine_core.analysis.diagnose import diagnose
from engine_core.analysis.fallback import REASONS, explain_fallbacks
from engine_core.analysis.gpus import CATALOG, find_gpu, gpu_for_engine
from engine_core.analysis.latency import aggregate_waterfall, reconcile, reformat_boundaries, time_by, waterfall
from engine_core.analysis.lint import lint_fairness, lint_pair
from engine_core.analysis.roofline import best_case_ms, roofline_table
from engine_core.analysis.size import account_bytes
from engine_core.discover import load_engines

RTX3090 = FIXTURES / "trex-rtx3090"


@pytest.fixture(scope="module")
def qat():
    return load_one(RTX3090 / "qat")


@pytest.fixture(scope="module")
def fp16():
    return load_one(RTX3090 / "fp16")


@pytest.fixture(scope="module")
def fp32():
    return load_one(RTX3090 / "fp32")


def mobilenet(name):
    return load_one(*glob.glob(str(FIXTURES / "trex-mobilenet" / f"{name}.onnx.engine.*")))


def test_every_non_int8_layer_of_qat_has_a_reason(qat):
    fallbacks = explain_fallbacks(qat)
    layers = qat.layers
    not_int8 = set(layers.loc[(layers["compute_precision"] != "INT8") | (layers["output_precision"] != "INT8"), "name"])
    assert set(fallbacks["name"]) == not_int8 and len(not_int8) == 6
    assert fallbacks["reason"].isin(list(REASONS)).all() and (fallbacks["evidence"].str.len() > 0).all()
    by_name = dict(zip(fallbacks["name"], fallbacks["reason"]))
    assert by_name["resnet50/conv1_pad/Pad"] == "no_qdq"            # before the first QuantizeLinear
    assert by_name["QuantLinearNode__838"] == "quantize_boundary"
    assert by_name["resnet50/quant_predictions/Softmax"] == "no_qdq"
    fc = [n for n in by_name if "quant_predictions/MatMul" in n][0]
    assert by_name[fc] == "int8_wide_output"                         # i8f32 tactic


def test_mobilenet_residual_add_without_qdq_vs_fixed():
    plain, fixed = mobilenet("mobilenet.qat"), mobilenet("mobilenet_v2_residuals.qat")
    wide_plain = explain_fallbacks(plain).query("reason == 'int8_wide_output' and inherited_from.isna()")
    wide_fixed = explain_fallbacks(fixed).query("reason == 'int8_wide_output' and inherited_from.isna()")
    assert len(wide_plain) == 17 and len(wide_fixed) == 2
    assert wide_plain["evidence"].str.startswith("residual Add without Q/DQ").sum() == 10
    assert (wide_plain["output_precision"] == "FP16").sum() == 13
    inherited = explain_fallbacks(fixed).dropna(subset=["inherited_from"])
    assert list(inherited["name"]) == ["Reformatting CopyNode for Input Tensor 0 to GlobalAveragePool_747"]


def test_reformat_boundaries_exact():
    b = reformat_boundaries(mobilenet("mobilenet.qat").layers).set_index("boundary")
    assert b.loc["FP16->INT8", "layers"] == 13
    assert b.loc["FP16->INT8", "time_ms"] == pytest.approx(0.05639762 + 0.00391285, abs=1e-9)
    assert b.loc["FP32->INT8", "layers"] == 4
    assert b.loc["FP32->INT8", "time_ms"] == pytest.approx(0.00474854 + 0.01341148, abs=1e-9)
    assert b.loc["FP16->FP16 (layout)", "time_ms"] == pytest.approx(0.00406848, abs=1e-9)
    assert b["time_ms"].sum() == pytest.approx(0.082539, abs=1e-6)
    assert b["share_pct"].sum() == pytest.approx(17.5470, abs=1e-3)


def test_byte_accounts_exact(qat, fp16, fp32):
    a = account_bytes(qat)
    assert (a.weights_bytes, a.bias_bytes) == (25502912, 27560 * 4)
    assert a.requested_precision == "INT8" and a.ideal_weights_bytes == 25502912
    assert a.engine_size_bytes is None and "unknown" in a.statement
    assert account_bytes(fp16).weights_bytes == 25502912 * 2
    f32 = account_bytes(fp32)
    assert f32.weights_bytes == 25502912 * 4 and f32.by_precision.iloc[0]["precision"] == "FP32"


def test_byte_account_reconciles_h100_engine_size():
    e = load_one(FIXTURES / "h100-trt10-logs" / "result-04.log", FIXTURES / "h100-trt10-logs" / "model-trained-exportLayerInfo.log")
    a = account_bytes(e)
    assert a.engine_size_bytes == round(12.5765 * 2**20) == 13187416
    assert a.weights_bytes + a.bias_bytes == 208384
    assert a.weights_memory_bytes == 13100672
    assert a.unitemised_weights_bytes == 13100672 - 208384       # the Myelin gemm's 3136x1024 FP32 weights
    assert a.remainder_bytes == 13187416 - 13100672
    assert "Myelin" in a.statement and "12.58 MiB engine" in a.statement
    parts = a.components()
    assert int(parts["bytes"].sum()) == 13187416


def test_latency_waterfall_and_groupings(qat):
    wf = waterfall(qat.layers)
    assert len(wf) == 63 and wf["end_ms"].iloc[-1] == pytest.approx(2.38061, abs=1e-5)
    assert (wf["start_ms"].diff().dropna() >= 0).all()
    by_prec = time_by(qat.layers, "compute_precision").set_index("compute_precision")
    assert by_prec.loc["INT8", "layers"] == 58
    assert by_prec["share_pct"].sum() == pytest.approx(100.0)
    buckets = aggregate_waterfall(qat.layers, max_bars=10)
    assert len(buckets) == 9 and buckets["layers"].sum() == 63  # ceil(63 / 10) = 7 layers a bucket
    assert buckets["avg_ms"].sum() == pytest.approx(2.38061, abs=1e-5)


def test_reconciliation_names_profiler_overhead(qat):
    rec = reconcile(qat)
    assert rec.gap_ms == pytest.approx(2.38061 - 2.19641, abs=1e-5)
    assert "Profiler overhead" in rec.explanation and rec.streams == 0


def test_gpu_catalog_coverage_and_matching():
    names = {g.name for g in CATALOG}
    for required in ("A100 40GB", "H100 SXM", "H100 PCIe", "L4", "T4", "A10", "RTX 3080", "RTX 3090", "RTX 4090",
                     "Jetson AGX Orin 64GB", "Jetson AGX Xavier"):
        assert required in names
    assert all(g.source.startswith("http") for g in CATALOG)
    assert find_gpu("NVIDIA A100-SXM4-40GB").name == "A100 40GB"
    assert find_gpu("NVIDIA A100-SXM4-80GB").name == "A100 80GB SXM"
    assert find_gpu("NVIDIA H100 PCIe").name == "H100 PCIe"
    assert find_gpu("NVIDIA GeForce RTX 3090").name == "RTX 3090"
    assert find_gpu("Tesla T4").name == "T4" and find_gpu("NVIDIA A10").name == "A10"
    assert find_gpu("NVIDIA L4").name == "L4" and find_gpu("Orin (nvgpu)").name.startswith("Jetson AGX Orin")
    assert find_gpu("NVIDIA GeForce RTX 3060 Laptop GPU") is None


def test_derived_gpu_from_device_information():
    e = load_one(FIXTURES / "rtx3060-trt10" / "resnet18_fp16.graph.json", FIXTURES / "rtx3060-trt10" / "resnet18_fp16.build.metadata.json")
    gpu = gpu_for_engine(e.device, e.metadata.device_information)
    assert gpu.derived and gpu.bandwidth_gbps == pytest.approx(192 / 8 * 7.001 * 2)
    assert gpu.peak("FP16") == pytest.approx(30 * 1.425e9 * 1024)


def test_no_measured_layer_exceeds_peak_on_any_fixture():
    engines, _ = load_engines([FIXTURES / "trex-rtx3090", FIXTURES / "trex-mobilenet", FIXTURES / "rtx3060-trt10"])
    checked = 0
    for e in engines:
        gpu = gpu_for_engine(e.device, e.metadata.device_information)
        assert gpu is not None, e.name
        roof = roofline_table(e.layers, gpu)
        measured = roof[roof["avg_ms"] > 0]
        assert measured["fraction_of_peak_pct"].max() <= 100.0, (e.name, measured.nlargest(1, "fraction_of_peak_pct")["name"].iloc[0])
        checked += measured["fraction_of_peak_pct"].notna().sum()
    assert checked > 400


def test_roofline_flops_of_known_layers(qat):
    gpu = find_gpu("NVIDIA GeForce RTX 3090")
    roof = roofline_table(qat.layers, gpu)
    by_name = roof.set_index("name")
    conv1 = [n for n in by_name.index if n.endswith("quant_conv1_conv/BiasAdd")][0]
    assert by_name.loc[conv1, "flops"] == 2 * 32 * 112 * 112 * 9408       # 7x7x3->64, stride 2, batch 32
    best = pd.Series(best_case_ms(roof, qat.layers, gpu, "FP16").to_numpy(), index=roof["name"])
    assert len(best) == 63 and best.notna().all() and (best > 0).all()  # every layer's FLOPs and bytes are known
    # The INT8 stem as FP16: twice the bytes (INT8 -> 2-byte data) against FP16's 142 TFLOPS and 936 GB/s.
    flops, moved = by_name.loc[conv1, "flops"], by_name.loc[conv1, "bytes_moved"]
    assert best[conv1] == pytest.approx(max(flops / 142e12, 2 * moved / 936e9) * 1e3) == pytest.approx(0.065766, abs=1e-6)


def test_fair_comparison_lints(fp32, qat, fp16):
    kinds = {f.kind: f for f in lint_fairness(fp32)}
    assert "fp32_is_tf32" in kinds and kinds["fp32_is_tf32"].layers and len(kinds["fp32_is_tf32"].layers) == 40
    assert "fp32_is_tf32" not in {f.kind for f in lint_fairness(qat)}
    assert lint_pair(fp16, qat) == []  # same GPU and shapes


def test_int8_without_fp16_and_batch1_lints(data):
    e = load_one(data / "logs" / "trt82_int8_verbose_profile.log")
    kinds = {f.kind for f in lint_fairness(e)}
    assert {"int8_without_fp16", "measurement_setup", "batch_1_large_gpu"} <= kinds
    h100 = load_one(FIXTURES / "h100-trt10-logs" / "result-01.log")
    assert "measurement_setup" in {f.kind for f in lint_fairness(h100)}


def test_normalize_node_aligns_qat_and_float_names():
    assert normalize_node("resnet50/quant_conv2_block1_1_conv/Conv2D") == "resnet50/conv2_block1_1_conv/Conv2D"
    assert normalize_node("QuantLinearNode__622") is None
    assert normalize_node("resnet50/quant_conv1_conv/LastValueQuant/QuantizeAndDequantizeV4/ReadVariableOp:0") is None
    assert normalize_node("resnet50/quant_conv1_conv/BiasAdd__1121") == "resnet50/conv1_conv/BiasAdd"


def test_compare_fp16_vs_qat(fp16, qat):
    cmp = compare_engines([fp16, qat])
    assert cmp.speedup == pytest.approx(4.02222 / 2.19641, rel=1e-4)
    # 53 groups share ONNX nodes; the stem convolution (tf2onnx's unscoped "Conv__435" in FP16, the QAT
    # export's "quant_conv1_conv") shares none and aligns by structure, with its reformat and quantize glue.
    assert len(cmp.groups) == 54 and cmp.match_counts() == {"onnx": 53, "structure": 1}
    stem = cmp.groups[cmp.groups["match"] == "structure"].iloc[0]
    assert stem["a_layers"][-1] == "Conv__435 + resnet50/conv1_relu/Relu" and stem["confidence"] == 1.0
    assert (cmp.groups["precision_change"] == "FP16->INT8").sum() == 53
    assert len(cmp.unmatched["resnet"]) == 3 and len(cmp.unmatched["resnet-qat"]) == 3
    out = cmp.to_json()
    assert set(out) >= {"engines", "speedup", "groups", "unmatched"}
    assert set(out["engines"][0]) >= {"name", "gpu_compute_median", "per_layer_sum"}
    g = out["groups"][0]
    assert set(g) >= {"onnx_nodes", "a", "b", "delta_ms", "precision_change"}
    assert g["delta_ms"] == pytest.approx(g["b"]["time_ms"] - g["a"]["time_ms"])


def test_compare_three_engines(fp32, fp16, qat):
    cmp = compare_engines([fp32, fp16, qat])
    assert len(cmp.to_json()["groups"][0]["engines"]) == 3


def test_diagnose_qat_against_fp16(qat, fp16):
    findings = diagnose(qat, fp16)
    kinds = [f.kind for f in findings]
    assert kinds[0] == "speedup"
    assert findings[0].message.startswith("resnet-qat is 1.83× resnet (FP16): faster by 1.826 ms GPU compute median.")
    assert "fallback:no_qdq" in kinds and "fallback:int8_wide_output" in kinds
    for f in findings:
        d = f.to_dict()
        assert set(d) >= {"kind", "impact_ms", "impact_pct", "layers", "message", "fix"}
        assert d["fix"]
    timed = [f.impact_ms for f in findings if f.impact_ms is not None]
    assert timed == sorted(timed, reverse=True)


def test_diagnose_fp32_flags_tf32_first(fp32):
    top = diagnose(fp32)[0]
    assert top.kind == "fp32_is_tf32" and top.severity == "high"
    assert top.impact_pct == pytest.approx(100 * top.impact_ms / fp32.per_layer_sum_ms)
    assert not math.isnan(top.impact_ms)


def test_missing_dynamic_range_links_log_line_to_layers(data):
    from engine_core.analysis.fallback import explain_fallbacks

    f = explain_fallbacks(load_one(data / "logs" / "trt82_int8_verbose_profile.log")).set_index("name")
    # "Missing scale and zero-point for tensor 131" (log line 68): Conv_4 writes 131, Sigmoid_5 reads it.
    assert f.loc["Conv_4", "reason"] == f.loc["Sigmoid_5 + Mul_6", "reason"] == "missing_dynamic_range"
    assert f.loc["Conv_4", "evidence"].startswith("build log line 68: Missing scale and zero-point for tensor 131")
    assert f.loc["Conv_7 input reformatter 0", "inherited_from"] == "Sigmoid_5 + Mul_6"


def _log_engine(tmp_path, text: str):
    path = tmp_path / "build.log"
    path.write_text(text)
    return load_one(path)


def test_int8_without_calibration_lint(tmp_path):
    e = _log_engine(tmp_path, "&&&& RUNNING TensorRT.trtexec [TensorRT v8601] # trtexec --onnx=m.onnx --fp16 --int8\n"
                              "[I] === Build Options ===\n[I] Precision: FP32+FP16+INT8\n[I] Calibration: \n"
                              "Layer(CaskConvolution): Conv_0, Tactic: 0x1, x (Int8[1,64,56,56]) -> y (Int8[1,64,56,56])\n"
                              "&&&& PASSED TensorRT.trtexec [TensorRT v8601] # trtexec --onnx=m.onnx --fp16 --int8\n")
    kinds = {f.kind for f in lint_fairness(e)}
    assert "int8_no_calibration" in kinds and "int8_without_fp16" not in kinds


def test_trt11_removed_flags_lint(tmp_path):
    e = _log_engine(tmp_path, "&&&& RUNNING TensorRT.trtexec [TensorRT v110000] # trtexec --onnx=m.onnx --int8 --fp16\n"
                              "[I] TensorRT version: 11.0.0\n"
                              "Layer(CaskConvolution): Conv_0, Tactic: 0x1, x (Half[1,64,56,56]) -> y (Half[1,64,56,56])\n")
    found = {f.kind: f for f in lint_fairness(e)}
    assert "trt11_removed_flags" in found and "--fp16" in found["trt11_removed_flags"].message
    assert e.status == "incomplete"
