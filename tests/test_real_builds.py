"""Real TensorRT-RTX builds of the sample models in every recipe, read back by the importer like any artifact.

The numbers are the builder's own (layer counts, plan bytes, Constants); they
were checked against the raw ``Layers:`` block of each build log.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from conftest import FIXTURES, REPO, RTX_MODELS, RTX_RECIPES
from engine_core.analysis.estimate import estimate_basis, estimate_latency
from engine_core.analysis.fallback import explain_fallbacks
from engine_core.analysis.latency_model import default_latency_model
from engine_core.analysis.kernels import quantize_count
from engine_core.summary import summarize_engine

# (model, recipe) -> exact layer count and compute-precision histogram of the TensorRT-RTX 1.7 engine.
EXPECTED_LAYERS = {
    ("tiny_cnn", "fp32"): (7, {"FP32": 7}),
    ("tiny_cnn", "fp16"): (7, {"FP16": 6, "FP32": 1}),
    ("tiny_cnn", "bf16"): (8, {"BF16": 5, "FP32": 3}),
    ("tiny_cnn", "int8-ort-uncalibrated"): (8, {"INT8": 4, "FP32": 4}),
    ("tiny_cnn", "int8-tensorrt-uncalibrated"): (8, {"INT8": 4, "FP32": 4}),
    ("tiny_cnn", "fp8-tensorrt-uncalibrated"): (9, {"FP8": 3, "FP32": 6}),
    ("resnet18", "fp32"): (24, {"FP32": 24}),
    ("resnet18", "fp16"): (24, {"FP16": 23, "FP32": 1}),
    ("resnet18", "bf16"): (25, {"BF16": 22, "FP32": 3}),
    ("resnet18", "int8-ort-uncalibrated"): (53, {"INT8": 27, "FP32": 14, "NONE": 12}),
    ("resnet18", "int8-tensorrt-uncalibrated"): (53, {"INT8": 27, "FP32": 14, "NONE": 12}),
    ("resnet18", "fp8-tensorrt-uncalibrated"): (54, {"FP8": 26, "FP32": 15, "NONE": 13}),
}
RESNET18_CONVS = 20


@pytest.mark.parametrize("model,recipe", [(m, r) for m in RTX_MODELS for r in RTX_RECIPES])
def test_every_recipe_builds_a_real_engine(rtx_builds, model, recipe):
    engine = rtx_builds[(model, recipe)]
    count, by_precision = EXPECTED_LAYERS[(model, recipe)]
    assert len(engine.layers) == count
    assert engine.layers["compute_precision"].value_counts().to_dict() == by_precision
    assert engine.status == "ok" and engine.layer_source == "dumpLayerInfo"
    assert re.fullmatch(r"TensorRT-RTX 1\.\d+\.\d+\.\d+ \(AOT, CPU\)", engine.builder)
    plan = re.fullmatch(r"(\d+) bytes, sha256 [0-9a-f]{64}", engine.build_facts["plan"])
    assert engine.engine_size_bytes == int(plan[1]) > 0
    assert engine.target == ("SM89" if recipe.startswith("fp8") else "SM86+SM89+SM120 (TensorRT-RTX default)")
    assert not engine.measured and engine.gpu_compute is None and engine.layers["avg_ms"].isna().all()


def test_int8_runs_every_convolution_in_int8_and_stores_a_quarter_of_fp32(rtx_builds):
    fp32, int8 = rtx_builds[("resnet18", "fp32")], rtx_builds[("resnet18", "int8-tensorrt-uncalibrated")]
    convs = int8.layers[int8.layers["layer_type"] == "correlation"]
    assert len(convs) == RESNET18_CONVS and set(convs["compute_precision"]) == {"INT8"}
    assert set(convs["weights_precision"]) == {"INT8"} and set(convs["output_precision"]) == {"FP32"}
    # 11,682,048 INT8 weight bytes vs 46,715,648 FP32: the 3-channel stem is padded to 4 channels in INT8.
    assert int(int8.layers["weights_bytes"].sum()) == 11_682_048
    assert int(fp32.layers["weights_bytes"].sum()) == 46_715_648
    assert int8.layers["weights_bytes"].sum() / fp32.layers["weights_bytes"].sum() == pytest.approx(0.25, abs=0.001)


def test_engine_sizes_strictly_decrease_with_precision(rtx_builds):
    size = {r: rtx_builds[("resnet18", r)].engine_size_bytes for r in RTX_RECIPES}
    assert size["fp32"] > size["fp16"] > size["int8-ort-uncalibrated"]
    assert size["fp16"] > size["int8-tensorrt-uncalibrated"] and size["fp16"] > size["fp8-tensorrt-uncalibrated"]
    # The tiny CNN's plan is mostly kernels: its weights shrink, its file barely does.
    weights = {r: rtx_builds[("tiny_cnn", r)].layers["weights_bytes"].sum() for r in RTX_RECIPES}
    assert weights["fp32"] > weights["fp16"] > weights["int8-tensorrt-uncalibrated"]


def test_placements_give_different_engines(rtx_builds):
    ort, trt = rtx_builds[("resnet18", "int8-ort-uncalibrated")], rtx_builds[("resnet18", "int8-tensorrt-uncalibrated")]
    steps = {name: int(e.layers["name"].map(quantize_count).sum()) for name, e in (("ort", ort), ("tensorrt", trt))}
    # ORT quantizes convolution outputs too, so its epilogues quantize, dequantize and quantize again.
    assert steps["ort"] > steps["tensorrt"] > 0
    assert ort.engine_size_bytes != trt.engine_size_bytes


@pytest.mark.parametrize("recipe,reasons", [
    ("int8-ort-uncalibrated", {"split_epilogue": 34, "quantize_boundary": 1}),
    ("int8-tensorrt-uncalibrated", {"split_epilogue": 34, "quantize_boundary": 1}),
    # FP8: the 3-channel stem convolution has no FP8 kernel. Its input is quantized and dequantized at once,
    # its FP8 weights are dequantized at run time, and it runs FP32: three layers, one reason.
    ("fp8-tensorrt-uncalibrated", {"split_epilogue": 33, "no_low_precision_kernel": 3}),
])
def test_every_float_layer_of_a_quantized_build_has_its_reason(rtx_builds, recipe, reasons):
    engine = rtx_builds[("resnet18", recipe)]
    fallbacks = explain_fallbacks(engine).set_index("name")
    assert fallbacks["reason"].value_counts().to_dict() == reasons
    convs = engine.layers[engine.layers["layer_type"] == "correlation"]
    quantized_convs = convs[convs["compute_precision"].isin(["INT8", "FP8"])]
    assert set(fallbacks.loc[quantized_convs["name"], "reason"]) == {"split_epilogue"}
    if recipe.startswith("fp8"):
        stem = fallbacks.loc["/conv1/Conv_myl0_2"]
        assert stem["reason"] == "no_low_precision_kernel" and "its input has 3 channels" in stem["evidence"]


@pytest.mark.parametrize("recipe,reasons", [
    ("fp16", {"io_boundary": 2}),
    # BF16: TensorRT-RTX pools in FP32 after the stem, with casts on both sides of the pooling.
    ("bf16", {"tactic_choice": 3, "io_boundary": 2}),
])
def test_float_recipes_explain_their_fp32_layers(rtx_builds, recipe, reasons):
    fallbacks = explain_fallbacks(rtx_builds[("resnet18", recipe)])
    assert fallbacks["reason"].value_counts().to_dict() == reasons


def test_summary_json_names_builder_recipe_target_and_labels_the_estimate(rtx_builds):
    summary = summarize_engine(rtx_builds[("resnet18", "int8-ort-uncalibrated")])
    assert summary["builder"].startswith("TensorRT-RTX ") and summary["recipe"] == "int8-ort-uncalibrated"
    assert summary["target"] == "SM86+SM89+SM120 (TensorRT-RTX default)"
    assert summary["latency_ms"]["gpu_compute_median"] is None and summary["latency_ms"]["per_layer_sum"] is None
    estimate = summary["latency_estimate"]
    model = default_latency_model()
    assert estimate["estimate"] is True and estimate["gpu"] == "RTX 4090"
    assert estimate["basis"] == estimate_basis("RTX 4090") == f"estimate on RTX 4090 ({model.basis})"
    assert estimate["model"] == "LayerLens latency model v1" and estimate["error_band_pct"] == model.error.total_pct
    assert estimate["calibration_engines"] == model.error.engines and estimate["parameters_from"] == "Ampere"
    assert estimate["total_ms"] == pytest.approx(estimate_latency(rtx_builds[("resnet18", "int8-ort-uncalibrated")]).total_ms)


def test_a_saved_build_log_is_an_engine_too(rtx_builds, tmp_path):
    """A user's own TensorRT-RTX verbose log has no [LayerLens] lines; it still reads as the same engine."""
    from conftest import load_one

    original = rtx_builds[("resnet18", "int8-tensorrt-uncalibrated")]
    log = next(f for f in original.files if f.endswith(".build.log"))
    stripped = tmp_path / "my_build.txt"
    with open(log) as src:
        stripped.write_text("".join(line for line in src if "[LayerLens]" not in line))
    engine = load_one(stripped)
    assert len(engine.layers) == len(original.layers)
    assert list(engine.layers["compute_precision"]) == list(original.layers["compute_precision"])
    assert engine.builder == "TensorRT-RTX (version not in the log)" and engine.recipe is None
    assert engine.sizes["weights_memory_bytes"] == original.sizes["weights_memory_bytes"]


def _cli(*args, env=None, timeout=300):
    import os

    return subprocess.run([sys.executable, "-m", "layerlens", *args], capture_output=True, text=True, cwd=REPO,
                          timeout=timeout, env={**os.environ, **(env or {})})


def test_build_matrix_from_the_cli_prints_a_comparison(rtx_env, tmp_path):
    proc = _cli("build", "tiny_cnn", "--precision", "fp32,int8", "--placement", "ort,tensorrt", "--store", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["variant", "run", "engine"]
    assert [line.split()[0] for line in lines[1:4]] == ["tiny_cnn-fp32", "tiny_cnn-int8-ort-uncalibrated",
                                                        "tiny_cnn-int8-tensorrt-uncalibrated"]
    assert f"* {estimate_basis('RTX 4090')}: not a measurement" in proc.stdout
    assert "[tiny_cnn-fp32] build" in proc.stderr
    runs = json.loads(_cli("runs", "--store", str(tmp_path), "--json").stdout)["runs"]
    assert sorted(r["name"] for r in runs) == ["tiny_cnn-fp32", "tiny_cnn-int8-ort-uncalibrated",
                                              "tiny_cnn-int8-tensorrt-uncalibrated"]


def _bad_models(tmp_path):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper

    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x07this is not protobuf" * 10)
    fancy = tmp_path / "fancy.onnx"
    node = helper.make_node("FancyOp", ["x"], ["y"], domain="com.example", name="fancy")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)]),
              str(fancy))
    calib = tmp_path / "calib_names"
    calib.mkdir()
    np.savez(calib / "batch0.npz", image=np.zeros((1, 1, 28, 28), np.float32))
    shapes = tmp_path / "calib_shapes"
    shapes.mkdir()
    np.savez(shapes / "batch0.npz", input=np.zeros((1, 3, 28, 28), np.float32))
    return garbage, fancy, calib, shapes


@pytest.mark.parametrize("case,expected", [
    ("garbage", "garbage.onnx: is not a readable ONNX model"),
    ("fancy", "The ONNX parser rejected fancy.onnx"),
    ("fp8_sm86", "FP8 needs SM89 or newer, but the build targets SM86"),
    ("calib_names", "calibration inputs ['image'] do not match the model's inputs (input)"),
    ("calib_shapes", "input 'input' has shape 1x3x28x28, but the model expects 1x1x28x28"),
    ("no_rtx", "TensorRT-RTX is needed to build engines on this machine but is not installed"),
])
def test_bad_builds_are_one_clear_line_and_store_nothing(rtx_env, tmp_path, case, expected):
    garbage, fancy, calib_names, calib_shapes = _bad_models(tmp_path)
    store = tmp_path / "store"
    args = {"garbage": [str(garbage)], "fancy": [str(fancy)], "fp8_sm86": ["tiny_cnn", "--precision", "fp8", "--target", "sm86"],
            "calib_names": ["tiny_cnn", "--precision", "int8", "--calib", str(calib_names)],
            "calib_shapes": ["tiny_cnn", "--precision", "int8", "--calib", str(calib_shapes)],
            "no_rtx": ["tiny_cnn", "--builder", "rtx"]}[case]
    if case == "no_rtx":  # the worker process cannot import the binding
        blocker = tmp_path / "block"
        (blocker / "tensorrt_rtx_bindings").mkdir(parents=True)
        (blocker / "tensorrt_rtx_bindings" / "__init__.py").write_text("raise ImportError('blocked for the test')\n")
        proc = _cli("build", *args, "--store", str(store), env={"PYTHONPATH": str(blocker)})
    else:
        proc = _cli("build", *args, "--store", str(store))
    assert proc.returncode == 1, proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("layerlens: error:")]
    assert len(errors) == 1 and expected in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not store.exists() or not [p for p in store.iterdir() if not p.name.startswith(".")]


def test_cancel_stops_the_worker_and_leaves_nothing(rtx_env):
    import threading

    from engine_core.build.engine_request import EngineBuildRequest
    from engine_core.build.runner import run_engine_build
    from engine_core.errors import BuildError
    from engine_core.models.zoo import sample_model_path

    cancel = threading.Event()
    stages = []

    def progress(stage, detail):
        stages.append(stage)
        cancel.set()  # cancel as soon as the worker reports its first stage

    request = EngineBuildRequest(str(sample_model_path("resnet18")), "cancelled", precision="fp16")
    with pytest.raises(BuildError, match="was cancelled"):
        run_engine_build(request, progress, cancel=cancel)
    assert stages and "done" not in stages


def test_keep_plan_writes_the_real_engine_to_out(rtx_env, tmp_path):
    proc = _cli("build", "tiny_cnn", "--precision", "fp16", "--out", str(tmp_path), "--keep-plan")
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "tiny_cnn-fp16"
    plan = folder / "tiny_cnn-fp16.plan"
    assert sorted(p.name for p in folder.iterdir()) == ["tiny_cnn-fp16.accuracy.json", "tiny_cnn-fp16.build.log",
                                                        "tiny_cnn-fp16.plan"]
    import hashlib

    log = (folder / "tiny_cnn-fp16.build.log").read_text()
    assert f"plan: {plan.stat().st_size} bytes, sha256 {hashlib.sha256(plan.read_bytes()).hexdigest()}" in log
    shutil.rmtree(folder)


def test_layer_csv_of_an_unmeasured_engine_carries_a_labelled_estimate(rtx_builds, tmp_path):
    import csv
    import io

    engine = rtx_builds[("resnet18", "int8-tensorrt-uncalibrated")]
    folder = str(next(f for f in engine.files if f.endswith(".build.log")))
    rows = list(csv.DictReader(io.StringIO(_cli("layers", folder, "--csv", "-").stdout)))
    assert len(rows) == 53 and all(r["avg_ms"] == "" for r in rows)  # nothing measured stays empty
    assert all(float(r["estimated_ms_RTX_4090"]) >= 0 for r in rows) and sum(float(r["estimated_ms_RTX_4090"]) for r in rows) > 0
    assert {r["estimate_basis"] for r in rows} == {estimate_basis("RTX 4090")}
    assert sum(float(r["estimated_ms_RTX_4090"]) for r in rows) == pytest.approx(estimate_latency(engine).total_ms, rel=1e-6)
    measured = _cli("layers", FIXTURES / "trex-rtx3090" / "qat", "--csv", "-").stdout.splitlines()[0]
    assert "estimated_ms" not in measured
