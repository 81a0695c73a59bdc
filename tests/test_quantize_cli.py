"""`layerlens quantize` as a user runs it: ONNX in, ONNX out, and the output is what the recipe says it wrote.

Each case runs the real command in a subprocess on the tiny sample CNN (two convolutions, pooling, a
classifier), then opens the model it wrote: Q/DQ nodes where the placement puts them, float16 casts for
FP16, and a model onnxruntime runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import onnx
import pytest

from conftest import REPO


def quantize(*args, env=None):
    return subprocess.run([sys.executable, "-m", "layerlens", "quantize", *map(str, args)], capture_output=True,
                          text=True, cwd=REPO, env={**os.environ, **(env or {})}, timeout=300)


@pytest.fixture(scope="module")
def tiny_cnn(rtx_env):
    from engine_core.models.zoo import sample_model_path

    return sample_model_path("tiny_cnn")


def _wrote(proc, out) -> list[str]:
    """The one stdout line, checked to name the output file; returns its ``;``-separated details.

    The last detail is "from the recipe cache" when an earlier test of the session made the same recipe.
    """
    assert proc.returncode == 0, proc.stderr
    line, = proc.stdout.splitlines()
    assert line.startswith(f"wrote {out}: "), line
    assert out.is_file()
    return line.split(": ", 1)[1].split("; ")


def _consumers(model) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for node in model.graph.node:
        for name in node.input:
            found.setdefault(name, []).append(node.op_type)
    return found


def _runs_like_the_original(original, quantized) -> None:
    """onnxruntime runs the written model on the original's input and gives an output of the same shape."""
    import onnxruntime as ort

    x = np.random.default_rng(0).standard_normal((1, 1, 28, 28)).astype(np.float32)
    ref = ort.InferenceSession(str(original), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    got = ort.InferenceSession(str(quantized), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    assert got.shape == ref.shape and got.dtype == np.float32 and np.isfinite(got).all()


@pytest.mark.parametrize("placement", ["ort", "tensorrt"])
def test_int8_writes_qdq_where_the_placement_puts_it(tiny_cnn, tmp_path, placement):
    out = tmp_path / f"int8-{placement}.onnx"
    detail = _wrote(quantize(tiny_cnn, "--precision", "int8", "--placement", placement, "-o", out), out)
    model = onnx.load(str(out))
    onnx.checker.check_model(model)
    ops = [n.op_type for n in model.graph.node]
    quantize_nodes = ops.count("QuantizeLinear")
    assert detail[:3] == [f"recipe int8-{placement}-uncalibrated", f"{quantize_nodes} QuantizeLinear nodes",
                          "4 synthetic standard-normal batches (seed 0): uncalibrated"]
    original = onnx.load(str(tiny_cnn))
    weighted = sum(n.op_type in ("Conv", "Gemm", "MatMul") for n in original.graph.node)
    dequantized_into = {op for o in (n.output[0] for n in model.graph.node if n.op_type == "DequantizeLinear")
                        for op in _consumers(model).get(o, [])}
    if placement == "tensorrt":
        # TensorRT's rule: Q/DQ on the activation input of each weighted op, never on outputs (no residual Add here).
        assert quantize_nodes == weighted == 3 and dequantized_into == {"Conv", "Gemm"}
    else:
        # onnxruntime also quantizes activations between the weighted ops (Relu, MaxPool, pooling, Flatten).
        assert quantize_nodes > weighted and dequantized_into > {"Conv", "Gemm"}
    weights = {i.name: i for i in model.graph.initializer}
    assert all(weights[n.input[0]].data_type == onnx.TensorProto.INT8
               for n in model.graph.node if n.op_type == "DequantizeLinear" and n.input[0] in weights)
    _runs_like_the_original(tiny_cnn, out)


def test_fp16_casts_weights_and_keeps_float_io(tiny_cnn, tmp_path):
    out = tmp_path / "fp16.onnx"
    assert _wrote(quantize(tiny_cnn, "--precision", "fp16", "-o", out), out)[0] == "recipe fp16"
    model = onnx.load(str(out))
    ops = [n.op_type for n in model.graph.node]
    assert "QuantizeLinear" not in ops and ops.count("Cast") >= 2   # float32 in -> float16 ... -> float32 out
    assert {i.data_type for i in model.graph.initializer} == {onnx.TensorProto.FLOAT16}
    for io in (model.graph.input[0], model.graph.output[0]):
        assert io.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    _runs_like_the_original(tiny_cnn, out)


def test_calibration_folder_and_calibrator_reach_the_recipe(tiny_cnn, tmp_path):
    data = tmp_path / "calib"
    data.mkdir()
    rng = np.random.default_rng(1)
    for i in range(3):
        np.savez(data / f"batch{i}.npz", input=rng.random((1, 1, 28, 28), dtype=np.float32))
    out = tmp_path / "calibrated.onnx"
    detail = _wrote(quantize(tiny_cnn, "--precision", "int8", "--placement", "tensorrt", "--calib", data,
                             "--calibrator", "entropy", "-o", out), out)
    assert detail[:2] == ["recipe int8-tensorrt-entropy", "3 QuantizeLinear nodes"]
    assert detail[2].startswith(f"3 batches from {data}")


def test_a_sample_model_name_says_which_model_stands_in(tiny_cnn, tmp_path):
    out = tmp_path / "q.onnx"
    proc = quantize("tiny_cnn", "--precision", "int8", "-o", out)
    _wrote(proc, out)
    assert "layerlens: using sample model tiny_cnn" in proc.stderr


@pytest.mark.parametrize("case,status,message", [
    ("missing", 1, "layerlens: error: no/such.onnx: no such ONNX file or sample model."),
    ("garbage", 1, "is not a readable ONNX model"),
    ("calib_missing", 1, "The folder of input batches"),
    ("calib_names", 1, "calibration inputs ['image'] do not match the model's inputs (input)"),
    ("modelopt_missing", 1, "pip install 'nvidia-modelopt[onnx]'"),
    ("bad_precision", 2, "argument --precision: invalid choice: 'int3'"),
    ("no_output", 2, "the following arguments are required: -o/--output"),
])
def test_bad_input_is_one_clear_line_and_writes_nothing(tiny_cnn, tmp_path, case, status, message):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x07this is not protobuf" * 10)
    names = tmp_path / "calib_names"
    names.mkdir()
    np.savez(names / "batch0.npz", image=np.zeros((1, 1, 28, 28), np.float32))
    out = tmp_path / "out.onnx"
    args = {"missing": ["no/such.onnx", "--precision", "int8"],
            "garbage": [garbage, "--precision", "int8"],
            "calib_missing": [tiny_cnn, "--precision", "int8", "--calib", tmp_path / "nowhere"],
            "calib_names": [tiny_cnn, "--precision", "int8", "--calib", names],
            "modelopt_missing": [tiny_cnn, "--precision", "int8", "--placement", "modelopt"],
            "bad_precision": [tiny_cnn, "--precision", "int3"],
            "no_output": [tiny_cnn, "--precision", "int8"]}[case]
    blocker = tmp_path / "block"  # ModelOpt is never installed by default; make sure of it for this case
    (blocker / "modelopt").mkdir(parents=True)
    (blocker / "modelopt" / "__init__.py").write_text("raise ImportError('blocked for the test')\n")
    proc = quantize(*args, *([] if case == "no_output" else ["-o", out]),
                    env={"PYTHONPATH": str(blocker)} if case == "modelopt_missing" else None)
    assert proc.returncode == status, proc.stdout + proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert message in last and "Traceback" not in proc.stderr
    if status == 1:
        assert re.match(r"layerlens: error: ", last)
    assert not out.exists() and proc.stdout == ""
