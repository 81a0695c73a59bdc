"""Precision recipes (ONNX in, ONNX out) and the sample-model zoo: what each writes, and that it is cached."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import onnx
import pytest

from engine_core.errors import ArtifactFormatError, LayerLensError
from engine_core.models.zoo import ZOO, make_model, sample_model_path
from engine_core.recipes import RecipeSpec, apply_recipe
from engine_core.recipes.qdq import tensorrt_placement_nodes


def _ops(path):
    model = onnx.load(str(path))
    return model, [n.op_type for n in model.graph.node]


@pytest.fixture
def resnet18(rtx_env):
    return sample_model_path("resnet18")


def test_int8_placements_differ_as_documented(resnet18, tmp_path):
    ort = apply_recipe(resnet18, RecipeSpec("int8", "ort"), out_path=tmp_path / "ort.onnx")
    trt = apply_recipe(resnet18, RecipeSpec("int8", "tensorrt"), out_path=tmp_path / "trt.onnx")
    assert (ort.recipe, trt.recipe) == ("int8-ort-uncalibrated", "int8-tensorrt-uncalibrated")
    assert not ort.calibrated and "synthetic" in ort.calibration
    model, ops = _ops(trt.path)
    # TensorRT placement: Q/DQ only on inputs of the 20 convolutions, the Gemm and the 8 residual Adds.
    assert ops.count("QuantizeLinear") == trt.quantized_nodes == 29
    assert ort.quantized_nodes == 50 and ort.quantized_nodes > trt.quantized_nodes
    consumers = {i: n.op_type for n in model.graph.node for i in n.input}
    dq_outputs = [n.output[0] for n in model.graph.node if n.op_type == "DequantizeLinear"]
    assert {consumers[o] for o in dq_outputs if o in consumers} == {"Conv", "Gemm", "Add"}


def test_int8_keeps_bias_float_and_is_symmetric(resnet18, tmp_path):
    from onnx import numpy_helper

    model, _ = _ops(apply_recipe(resnet18, RecipeSpec("int8", "tensorrt"), out_path=tmp_path / "q.onnx").path)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    # The TensorRT-RTX parser rejects INT32 DequantizeLinear inputs (quantized bias).
    assert not [n for n, a in inits.items() if a.dtype == np.int32]
    zero_points = [inits[n.input[2]] for n in model.graph.node if n.op_type == "QuantizeLinear" and len(n.input) > 2]
    assert zero_points and all(z.dtype == np.int8 and not z.any() for z in zero_points)
    per_channel = [inits[n.input[1]] for n in model.graph.node
                   if n.op_type == "DequantizeLinear" and n.input[0] in inits and inits[n.input[0]].ndim == 4]
    assert per_channel and all(s.ndim == 1 and s.size > 1 for s in per_channel)


def test_fp16_keeps_io_float_and_sensitive_ops_fp32(rtx_env, tmp_path):
    transformer = sample_model_path("transformer")
    result = apply_recipe(transformer, RecipeSpec("fp16"), out_path=tmp_path / "t16.onnx")
    model = onnx.load(result.path)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    # 4 layers x (Softmax + 2 LayerNormalization) stay FP32, and the recipe says which.
    assert len(result.kept_float) == 12 and sum("LayerNorm" in n for n in result.kept_float) == 8
    assert any(i.data_type == onnx.TensorProto.FLOAT16 for i in model.graph.initializer)


def test_bf16_retypes_the_float16_placement(rtx_env, tmp_path):
    model = onnx.load(apply_recipe(sample_model_path("tiny_cnn"), RecipeSpec("bf16"), out_path=tmp_path / "b.onnx").path)
    types = {i.data_type for i in model.graph.initializer}
    assert onnx.TensorProto.BFLOAT16 in types and onnx.TensorProto.FLOAT16 not in types


def test_recipes_are_cached_by_model_recipe_and_data(resnet18, tmp_path):
    first = apply_recipe(resnet18, RecipeSpec("fp16"), cache_dir=tmp_path)
    again = apply_recipe(resnet18, RecipeSpec("fp16"), cache_dir=tmp_path)
    assert not first.cached and again.cached and again.path == first.path
    assert [p.suffix for p in sorted(tmp_path.iterdir())] == [".json", ".onnx"]  # nothing half-written left


def test_calibration_folder_changes_the_recipe_and_its_key(rtx_env, tmp_path):
    model = sample_model_path("tiny_cnn")
    data = tmp_path / "calib"
    data.mkdir()
    rng = np.random.default_rng(3)
    for i in range(3):
        np.savez(data / f"batch{i}.npz", input=rng.random((1, 1, 28, 28), dtype=np.float32))
    calibrated = apply_recipe(model, RecipeSpec("int8", "tensorrt", "entropy"), data)
    assert calibrated.recipe == "int8-tensorrt-entropy" and calibrated.calibrated
    assert calibrated.calibration.startswith(f"3 batches from {data}")
    uncalibrated = apply_recipe(model, RecipeSpec("int8", "tensorrt", "entropy"))
    assert uncalibrated.recipe == "int8-tensorrt-uncalibrated" and uncalibrated.path != calibrated.path


def test_a_model_with_qdq_builds_as_quantized(rtx_env):
    qat = sample_model_path("tiny_cnn_qdq")
    result = apply_recipe(qat, RecipeSpec("fp16"))
    assert result.recipe == "qat" and result.path == str(qat) and result.quantized_nodes == 4
    assert result.notes == ["the model already carries Q/DQ nodes, so it is built as quantized, not as fp16"]


@pytest.mark.parametrize("spec,message", [
    (RecipeSpec("int3"), "Unknown precision 'int3'"),
    (RecipeSpec("int8", "everywhere"), "Unknown placement 'everywhere'"),
    (RecipeSpec("int8", "ort", "magic"), "Unknown calibrator 'magic'"),
])
def test_unknown_recipe_options_are_refused(rtx_env, spec, message):
    with pytest.raises(LayerLensError, match=message):
        apply_recipe(sample_model_path("tiny_cnn"), spec)


def test_unreadable_model_is_a_format_error(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ArtifactFormatError, match="is not a readable ONNX model"):
        apply_recipe(bad, RecipeSpec("fp16"))


@pytest.mark.parametrize("name", list(ZOO))
def test_zoo_models_are_deterministic_and_named_like_pytorch_exports(name):
    a, b = make_model(name), make_model(name)
    assert hashlib.sha256(a.SerializeToString()).digest() == hashlib.sha256(b.SerializeToString()).digest()
    legacy = make_model(name, naming="legacy")
    assert [n.op_type for n in a.graph.node] == [n.op_type for n in legacy.graph.node]
    assert all(n.name.startswith("/") for n in a.graph.node)
    assert all(not n.name.startswith("/") and n.name.split("_")[0] == n.op_type for n in legacy.graph.node)


def test_zoo_architectures_have_their_published_parameter_counts():
    params = {name: sum(int(np.prod(i.dims)) for i in make_model(name).graph.initializer) for name in ("resnet18", "resnet50")}
    # torchvision: 11,689,512 and 25,557,032 parameters; batch norm folded into conv biases here.
    assert params["resnet18"] == 11_684_712 and params["resnet50"] == 25_530_472
    names = {n.name for n in make_model("resnet18").graph.node}
    assert {"/conv1/Conv", "/layer1/layer1.0/conv1/Conv", "/layer4/layer4.1/Add", "/fc/Gemm"} <= names


def test_tensorrt_placement_picks_weighted_ops_and_residual_adds():
    model = make_model("resnet18")
    picked = tensorrt_placement_nodes(model)
    ops = {n.name: n.op_type for n in model.graph.node}
    assert sorted({ops[n] for n in picked}) == ["Add", "Conv", "Gemm"]
    assert sum(ops[n] == "Add" for n in picked) == 8


MODELOPT_DOUBLE = __import__("conftest").REPO / "tests" / "doubles" / "fake_modelopt"


@pytest.fixture
def modelopt_double(tmp_path, monkeypatch):
    """The ModelOpt double on the import path; yields the file it records each call in."""
    import sys

    calls = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_MODELOPT_CALLS", str(calls))
    monkeypatch.syspath_prepend(str(MODELOPT_DOUBLE))
    for name in [m for m in sys.modules if m.startswith("modelopt")]:
        monkeypatch.delitem(sys.modules, name)
    yield calls
    for name in [m for m in sys.modules if m.startswith("modelopt")]:
        del sys.modules[name]  # the double's modules must not stand in for the real package after this test


@pytest.mark.parametrize("calibrator,method", [("entropy", "entropy"), ("minmax", "max")])
def test_modelopt_placement_calls_modelopt_as_documented(rtx_env, tmp_path, modelopt_double, calibrator, method):
    import json

    model = sample_model_path("tiny_cnn")
    result = apply_recipe(model, RecipeSpec("int8", "modelopt", calibrator), cache_dir=tmp_path)
    # The double accepted the call (it binds it to ModelOpt's documented signature and values), and saw:
    call = json.loads(modelopt_double.read_text())
    assert call == {"given": ["calibration_data", "calibration_eps", "calibration_method", "output_path",
                              "quantize_mode"],
                    "quantize_mode": "int8", "calibration_method": method, "calibration_eps": ["cpu"],
                    "inputs": {"input": [4, 1, 28, 28]}}   # the 4 synthetic batches of 1, stacked on axis 0
    # What LayerLens made of ModelOpt's output: the recipe, its Q/DQ count and the cached model are ModelOpt's.
    written, _ = _ops(result.path)
    weighted = sum(n.op_type in ("Conv", "Gemm") for n in onnx.load(str(model)).graph.node)
    assert result.recipe == "int8-modelopt-uncalibrated" and not result.calibrated
    assert result.quantized_nodes == sum(n.op_type == "QuantizeLinear" for n in written.graph.node) == weighted == 3
    again = apply_recipe(model, RecipeSpec("int8", "modelopt", calibrator), cache_dir=tmp_path)
    assert again.cached and len(modelopt_double.read_text().splitlines()) == 1  # from the cache: ModelOpt not called


def test_modelopt_failure_and_unknown_calibrator_are_layerlens_errors(rtx_env, tmp_path, modelopt_double, monkeypatch):
    import modelopt.onnx.quantization as double

    with pytest.raises(LayerLensError, match="ModelOpt has no 'percentile' calibrator") as err:
        apply_recipe(sample_model_path("tiny_cnn"), RecipeSpec("int8", "modelopt", "percentile"), cache_dir=tmp_path)
    assert err.value.fix == "Use --calibrator entropy or minmax." and not modelopt_double.exists()

    def fails(*args, **kwargs):
        raise RuntimeError("Unsupported op: FancyOp")

    monkeypatch.setattr(double, "quantize", fails)
    with pytest.raises(LayerLensError) as err:
        apply_recipe(sample_model_path("tiny_cnn"), RecipeSpec("int8", "modelopt", "entropy"), cache_dir=tmp_path)
    assert err.value.what == "ModelOpt could not quantize the model: RuntimeError: Unsupported op: FancyOp"


@pytest.mark.modelopt
def test_modelopt_placement_with_the_real_package(rtx_env, tmp_path):
    """Opt-in (`pytest -m modelopt`, needs `pip install 'nvidia-modelopt[onnx]'`): real ModelOpt calibrates on the CPU."""
    real = pytest.importorskip("modelopt.onnx.quantization", reason="nvidia-modelopt[onnx] is not installed")
    assert MODELOPT_DOUBLE not in Path(real.__file__).parents
    model = sample_model_path("tiny_cnn")
    result = apply_recipe(model, RecipeSpec("int8", "modelopt", "minmax"), cache_dir=tmp_path)
    written, ops = _ops(result.path)
    onnx.checker.check_model(written)
    assert result.recipe == "int8-modelopt-uncalibrated" and result.quantized_nodes == ops.count("QuantizeLinear") > 0
    consumers = {i: n.op_type for n in written.graph.node for i in n.input}
    dq_outputs = [n.output[0] for n in written.graph.node if n.op_type == "DequantizeLinear"]
    assert {"Conv", "Gemm"} <= {consumers.get(o) for o in dq_outputs}  # TensorRT's rule: quantize the weighted ops


def test_modelopt_missing_says_how_to_install(rtx_env, tmp_path, monkeypatch):
    import sys

    from engine_core.errors import MissingDependencyError

    for name in ["modelopt", "modelopt.onnx", "modelopt.onnx.quantization"]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'nvidia-modelopt\[onnx\]'"):
        apply_recipe(sample_model_path("tiny_cnn"), RecipeSpec("int8", "modelopt"), cache_dir=tmp_path)
