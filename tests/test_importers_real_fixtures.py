"""Every importer against the real TensorRT outputs in ../shared/fixtures, with exact numbers."""

from __future__ import annotations

import pytest

from conftest import FIXTURES, load_one
from engine_core.discover import load_engines
from engine_core.summary import summarize_engine

RTX3090 = FIXTURES / "trex-rtx3090"


def test_qat_resnet50_rtx3090_summary_facts():
    s = summarize_engine(load_one(RTX3090 / "qat"))
    assert s["name"] == "resnet-qat"
    assert len(s["files"]) == 5
    assert s["device"] == "NVIDIA GeForce RTX 3090"
    assert s["tensorrt_version"] is None  # TREx metadata does not record it
    assert s["build_precision"] == "FP32+FP16+INT8"
    assert s["layers"]["count"] == 63
    assert s["layers"]["by_type"] == {"CaskConvolution": 54, "Reformat": 2, "CudaPooling": 2, "Slice": 1,
                                      "Shuffle": 1, "Padding": 1, "NoOp": 1, "CudaSoftMax": 1}
    # 54 INT8 convs + INT8 shuffle/pad/2 pools; the input pad, the quantize reformat,
    # the output reformat, NoOp and softmax run on FP32 data.
    assert s["layers"]["by_precision"] == {"INT8": 58, "FP32": 5}
    assert s["weights"]["count_by_dtype"] == {"INT8": 25502912}
    assert s["weights"]["bytes"] == 25502912
    assert s["weights"]["bias_count_by_dtype"] == {"FP32": 27560}
    assert s["weights"]["bias_bytes"] == 27560 * 4
    lat = s["latency_ms"]
    assert lat["profile_iterations"] == 1
    assert lat["per_layer_sum"] == pytest.approx(2.38061, abs=1e-5)
    assert lat["gpu_compute_source"] == "times_json"
    assert lat["gpu_compute_median"] == pytest.approx(2.19641, abs=1e-5)
    assert lat["gpu_compute_mean"] == pytest.approx(2.19719, abs=1e-5)
    assert s["input_shapes"] == "input_1=32x224x224x3"
    assert s["status"] == "ok" and s["warnings"] == []


def test_fp32_resnet50_is_tf32_on_ampere():
    layers = load_one(RTX3090 / "fp32").layers
    assert len(layers) == 103
    assert (layers["compute_precision"] == "TF32").sum() == 40  # tactic names with "tf32"
    assert (layers["weights_precision"] == "FP32").sum() == 54
    assert layers["weights_count"].sum() == 25502912


def test_fp16_resnet50_weights_are_half():
    s = summarize_engine(load_one(RTX3090 / "fp16"))
    assert s["layers"]["count"] == 86
    assert s["layers"]["by_type"]["NoOp"] == 25
    assert s["weights"]["count_by_dtype"] == {"FP16": 25502912}
    assert s["weights"]["bytes"] == 25502912 * 2
    assert s["latency_ms"]["per_layer_sum"] == pytest.approx(4.27274, abs=1e-5)
    assert s["latency_ms"]["gpu_compute_median"] == pytest.approx(4.02222, abs=1e-5)


def test_qat_int8_conv_writing_fp32_is_flagged():
    layers = load_one(RTX3090 / "qat").layers
    wide = layers[layers["wide_output"]]
    assert len(wide) == 1
    row = wide.iloc[0]
    assert "i8f32" in row["tactic_name"]
    assert row["compute_precision"] == "INT8" and row["output_precision"] == "FP32"


def test_mobilenet_qat_pair_from_trex_tests():
    engines, _ = load_engines([FIXTURES / "trex-mobilenet"])
    by_name = {e.name: e for e in engines}
    assert set(by_name) == {"mobilenet.qat", "mobilenet_v2_residuals.qat"}
    m = by_name["mobilenet.qat"]
    assert len(m.layers) == 73 and int(m.layers["is_reformat"].sum()) == 18
    assert m.device == "NVIDIA TITAN RTX"
    assert m.profile_iterations == 6610
    r = by_name["mobilenet_v2_residuals.qat"]
    assert len(r.layers) == 58
    assert summarize_engine(r)["weights"]["count_by_dtype"] == {"INT8": 3469760}


def test_rtx3060_trt10_kgen_gemm_shape_call_and_metadata():
    engines, _ = load_engines([FIXTURES / "rtx3060-trt10"])
    by_name = {e.name: e for e in engines}
    resnet = by_name["resnet18_fp16"].layers
    assert len(resnet) == 26
    assert (resnet["layer_type"] == "kgen").sum() == 1 and (resnet["layer_type"] == "shape_call").sum() == 1
    conv1 = resnet[resnet["name"] == "/conv1/Conv + /relu/Relu"].iloc[0]
    assert conv1["onnx_nodes"] == ("/conv1/Conv", "/relu/Relu")  # \u001e-separated Metadata
    assert conv1["compute_precision"] == "FP16" and conv1["stream_id"] == 0
    shape_call = resnet[resnet["layer_type"] == "shape_call"].iloc[0]
    assert shape_call["compute_precision"] == "NONE"
    kgen = resnet[resnet["layer_type"] == "kgen"].iloc[0]
    assert kgen["onnx_nodes"] == ("/fc/Gemm",) and kgen["compute_precision"] == "FP16" and kgen["is_myelin"]
    mobilenet = summarize_engine(by_name["mobilenet_v2_fp16"])
    assert mobilenet["layers"]["count"] == 57
    assert mobilenet["layers"]["by_type"]["gemm"] == 1
    assert mobilenet["weights"]["count_by_dtype"] == {"FP16": 2189760}
    assert mobilenet["device"] == "NVIDIA GeForce RTX 3060 Laptop GPU"
    assert mobilenet["latency_ms"]["profile_iterations"] == 18488
    assert mobilenet["latency_ms"]["per_layer_sum"] == pytest.approx(0.41127, abs=1e-5)
    gemm = by_name["mobilenet_v2_fp16"].layers.query("layer_type == 'gemm'").iloc[0]
    assert gemm["compute_precision"] == "FP16"  # ...gemvx_f16f16_f32_f32...


H100 = FIXTURES / "h100-trt10-logs"


def test_h100_folder_reads_every_log():
    engines, skipped = load_engines([H100])
    assert skipped == []
    by_name = {e.name: e for e in engines}
    # result-04's command exported model-trained-exportLayerInfo.log: one engine.
    assert set(by_name) == {"result-01", "result-02", "result-03", "result-04", "result-05"}
    assert all(e.tensorrt_version == "10.16.1" and e.device == "NVIDIA H100 PCIe" for e in engines)
    assert all(e.status == "ok" for e in engines)


def test_h100_result01_build_and_benchmark():
    e = load_one(H100 / "result-01.log")
    assert e.build_precision == "FP32"
    assert e.gpu_compute.median_ms == pytest.approx(0.0361328)
    assert e.gpu_compute.mean_ms == pytest.approx(0.0359588)
    assert e.gpu_compute.p99_ms == pytest.approx(0.041748)
    assert e.throughput_qps == pytest.approx(15374.3)
    assert e.engine_size_bytes == round(12.5744 * 2**20)
    assert e.sizes["weights_memory_bytes"] == 13100672
    assert e.sizes["activation_memory_bytes"] == 125440
    assert e.sizes["build_time_s"] == pytest.approx(8.09138)
    assert e.metadata.device_information["Compute Capability"] == "9.0"
    assert [ev.kind for ev in e.events] == ["tf32_default"]


def test_h100_result02_verbose_layer_lines_and_fallback_message():
    e = load_one(H100 / "result-02.log")
    layers = e.layers
    assert e.layer_source == "verbose"
    assert list(layers["layer_type"]) == ["Myelin", "CaskPooling", "Reformat", "Myelin", "CaskPooling", "Myelin"]
    assert list(layers["output_precision"]) == ["FP32", "FP32", "FP16", "FP16", "FP16", "FP32"]
    last = layers.iloc[-1]
    assert [o["Name"] for o in last["outputs"]] == ["y", "z"]
    assert last["outputs"][1]["Format/Datatype"] == "Int64"
    assert layers.iloc[2]["outputs"][0]["Dimensions"] == [-1, 32, 14, 14]  # "32:8" vectorized
    assert e.build_passes == 3 and e.engine_size_bytes == round(6.42511 * 2**20)
    assert e.sizes["weights_memory_bytes"] == 6553216  # last pass
    ignored = [ev for ev in e.events if ev.kind == "precision_ignored"]
    assert [ev.subject for ev in ignored] == ["{ForeignNode[node_conv2d...node_relu]}"]
    assert e.input_shapes == "x=4x1x28x28" or e.input_shapes.startswith("x:")


def test_h100_result04_dumplayerinfo_text_matches_exported_json():
    text_only = load_one(H100 / "result-04.log")  # alone: layers come from the one-line dump
    assert text_only.layer_source == "dumpLayerInfo"
    json_only = load_one(H100 / "model-trained-exportLayerInfo.log")
    assert json_only.layer_source == "layer_info_json"
    # Same layers and fields; the JSON came from a separate build, so some tactics differ.
    cols = ["name", "layer_type", "compute_precision", "output_precision", "weights_count", "bias_count", "stream_id", "onnx_nodes"]
    assert text_only.layers[cols].equals(json_only.layers[cols])
    assert text_only.bindings == ["x", "y", "z"]
    assert len(text_only.layers) == 9
    assert list(text_only.layers["compute_precision"]).count("INT32") == 1  # CastReshCast on Int32 data


def test_h100_result05_trt10_profile_table():
    e = load_one(H100 / "result-05.log")
    assert e.profile_iterations == 18362
    assert len(e.layers) == 15
    assert e.layers.iloc[1]["name"] == "node_conv2d_myl0_1"
    assert e.layers.iloc[1]["avg_ms"] == pytest.approx(0.0105)
    assert e.layers.iloc[1]["median_ms"] == pytest.approx(0.0098)
    assert e.per_layer_sum_ms == pytest.approx(0.0833, abs=2e-4)
    assert any("no layer information" in w for w in e.warnings)


def test_h100_result03_cuda_graph_benchmark():
    e = load_one(H100 / "result-03.log")
    assert e.metadata.inference_options["CUDA Graph"] == "Enabled"
    assert e.metadata.inference_options["Spin-wait"] == "Enabled"
    assert e.gpu_compute is not None and e.gpu_compute_source == "performance_summary"
