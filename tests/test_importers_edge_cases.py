"""Formats no real fixture covers, from small files in tests/data written to the real format."""

from __future__ import annotations

import pytest

from conftest import DATA, load_one
from engine_core.importers.sniff import ArtifactKind, sniff_file
from engine_core.importers.trtexec_log import trtexec_log_from_text, version_from_banner
from engine_core.summary import summarize_engine


def test_trt10_multiprofile_with_new_dtypes():
    e = load_one(DATA / "layer_info" / "trt10_multiprofile.graph.json")
    layers = e.layers
    assert len(layers) == 10  # every record counts, both profiles
    assert list(layers["profile_index"]) == [0] * 5 + [1] * 5
    p0 = layers[layers["profile_index"] == 0].set_index("name")
    assert p0.loc["/proj/MatMul", "compute_precision"] == "BF16"
    assert p0.loc["/proj/MatMul", "weights_bytes"] == 524288 * 2
    assert p0.loc["/proj/MatMul", "onnx_nodes"] == ("/proj/MatMul", "/proj/Add")  # \u001f separator
    assert p0.loc["/fc8/MatMul", "compute_precision"] == "FP8"
    assert p0.loc["/fc8/MatMul", "weights_bytes"] == 1048576
    assert p0.loc["/fc8/MatMul", "bias_precision"] == "NONE"  # Count 0
    # kgen tactic hash "0xbf16f16f32..." must not read as BF16: weights decide (INT4)
    assert p0.loc["/w4/MatMul", "compute_precision"] == "INT4"
    assert p0.loc["/w4/MatMul", "compute_precision_source"] == "weights"
    assert p0.loc["/w4/MatMul", "weights_bytes"] == 523777  # ceil(1047553 / 2)
    assert p0.loc["/fp4/MatMul", "compute_precision"] == "FP4"
    assert p0.loc["/fp4/MatMul", "weights_bytes"] == 5115
    assert p0.loc["/shape/Gather", "compute_precision"] == "INT64"
    assert list(p0["stream_id"]) == [0, 1, 1, 0, 0]
    s = summarize_engine(e)
    assert s["weights"]["count_by_dtype"] == {"BF16": 2 * 524288, "FP8": 2 * 1048576, "INT4": 2 * 1047553, "FP4": 2 * 10230}


def test_names_only_layer_info_warns_with_fix():
    e = load_one(DATA / "layer_info" / "names_only.graph.json")
    assert list(e.layers["name"]) == ["/conv1/Conv + /relu/Relu", "/maxpool/MaxPool", "{ForeignNode[/fc/Gemm]}"]
    assert set(e.layers["compute_precision"]) == {"NONE"}
    assert e.layer_source == "layer_names_only"
    assert any("--profilingVerbosity=detailed" in w for w in e.warnings)
    assert e.layers.iloc[0]["onnx_nodes"] == ("/conv1/Conv", "/relu/Relu")
    assert e.layers.iloc[2]["onnx_nodes"] == ("/fc/Gemm",)




def test_each_appended_profile_document_is_a_run_of_its_own(tmp_path):
    import shutil

    from engine_core.discover import load_engines

    shutil.copy(DATA / "layer_info" / "per_layer_blocks.layers.json", tmp_path / "net.layers.json")
    shutil.copy(DATA / "profiles" / "two_runs_no_median.profile.json", tmp_path / "net.profile.json")
    engines = {e.name: e for e in load_engines([tmp_path])[0]}
    assert sorted(engines) == ["net run 1", "net run 2"]
    for name, iterations, conv_avg, conv_total in (("net run 1", 10, 0.15, 1.5), ("net run 2", 30, 0.11, 3.3)):
        e = engines[name]
        assert len(e.layers) == 2 and e.profile_iterations == iterations
        conv = e.layers.iloc[0]
        assert conv["compute_precision"] == "TF32"
        assert (conv["avg_ms"], conv["total_ms"]) == (pytest.approx(conv_avg), pytest.approx(conv_total))
        assert pd_isnan(conv["median_ms"])  # TensorRT < 8.4 wrote no medianMs
    assert engines["net run 1"].per_layer_sum_ms == pytest.approx(0.2)


def pd_isnan(x) -> bool:
    return x != x


def test_trt82_log_verbose_layers_three_column_profile_and_events():
    e = load_one(DATA / "logs" / "trt82_int8_verbose_profile.log")
    assert e.tensorrt_version == "8.2.5"
    assert e.device == "NVIDIA A100-SXM4-40GB"
    assert e.build_precision == "FP32+INT8"
    assert e.layer_source == "verbose"
    layers = e.layers
    assert list(layers["layer_type"]) == ["CaskConvolution", "CaskConvolution", "CaskConvolution", "PointWiseV2", "Reformat", "CaskConvolution"]
    assert layers.iloc[1]["tactic_value"] == "-6245237449785314302"
    assert layers.iloc[2]["output_precision"] == "FP32" and layers.iloc[2]["input_precision"] == "INT8"
    assert layers.iloc[0]["outputs"][0]["Dimensions"] == [1, 32, 320, 320]
    assert e.profile_iterations == 1187
    assert layers["avg_ms"].tolist() == pytest.approx([0.19, 0.2618, 0.1012, 0.0715, 0.0253, 0.1697])
    assert e.gpu_compute.median_ms == pytest.approx(0.81921) and e.gpu_compute.p99_ms == pytest.approx(0.97021)
    assert e.gpu_compute.p90_ms is None
    assert e.sizes["activation_memory_bytes"] == 13107200
    assert e.sizes["build_time_s"] == pytest.approx(29.5421)
    kinds = [(ev.kind, ev.subject) for ev in e.events]
    assert ("int8_without_fp16", "") in kinds and ("missing_dynamic_range", "131") in kinds
    assert e.status == "ok"


def test_crashed_trt85_log_is_failed_not_a_crash():
    e = load_one(DATA / "logs" / "trt85_profile_crashed.log")
    assert e.status == "failed"
    assert any("illegal memory access" in w for w in e.warnings)
    assert e.tensorrt_version == "8.5.2"
    assert len(e.layers) == 3
    row = e.layers.iloc[0]
    assert row["avg_ms"] == pytest.approx(0.4096) and row["median_ms"] == pytest.approx(0.4081)
    assert row["name"].startswith("{ForeignNode[") and row["onnx_nodes"] == (
        "bert/embeddings/Gather", "bert/encoder/layer_0/attention/self/Softmax")


def test_log_without_passed_is_incomplete():
    log = trtexec_log_from_text("&&&& RUNNING TensorRT.trtexec [TensorRT v100300] # trtexec --onnx=m.onnx\n"
                                "[I] === Build Options ===\n[I] Precision: FP32+FP16\n")
    assert log.status == "incomplete"
    assert log.tensorrt_version == "10.3.0"
    assert log.metadata.build_options["Precision"] == "FP32+FP16"


def test_pasted_fragment_without_timestamps():
    path = DATA / "logs" / "pasted_issue_fragment.txt"
    assert sniff_file(path) is ArtifactKind.TRTEXEC_LOG
    e = load_one(path)
    assert e.layer_source == "verbose" and len(e.layers) == 3
    assert e.profile_iterations == 2310
    assert list(e.layers["avg_ms"]) == pytest.approx([0.1786, 0.0346, 0.2191])
    assert list(e.layers["compute_precision"]) == ["INT8", "INT8", "FP16"]
    assert e.layers.iloc[1]["is_reformat"]
    assert any("completeness unknown" in w for w in e.warnings)


def test_polygraphy_inspect_model_text():
    e = load_one(DATA / "polygraphy" / "mnist_inspect_layers.txt")
    layers = e.layers
    assert list(layers["layer_type"]) == ["CaskConvolution", "CaskPooling", "Reformat", "Myelin"]
    assert layers.iloc[0]["tactic_value"] == "0x5b8bf1b8028629d9"
    assert layers.iloc[2]["origin"] == "REFORMAT" and layers.iloc[2]["output_precision"] == "FP16"
    assert [t["Name"] for t in layers.iloc[3]["outputs"]] == ["y", "z"]
    assert layers.iloc[3]["outputs"][1]["Format/Datatype"] == "Row major linear Int64 format"


@pytest.mark.parametrize("code,version", [("101601", "10.16.1"), ("100001", "10.0.1"), ("8502", "8.5.2"),
                                          ("8601", "8.6.1"), ("8205", "8.2.5"), ("7103", "7.1.3")])
def test_banner_version_codes(code, version):
    assert version_from_banner(code) == version
