"""The GPU-box ``tensorrt`` builder, run against a test double of the TensorRT Python API.

The double (tests/doubles/fake_tensorrt) answers the inspector and the profiler
with a real engine's trtexec exports, so this checks the wiring that a GPU
machine would exercise: recipe, parse, strongly typed build, inspector JSON,
IProfiler times and whole-inference times in trtexec's shapes, read back by the
importers. It cannot check TensorRT itself: that needs a GPU.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import FIXTURES, REPO, load_one

DOUBLE = REPO / "tests" / "doubles" / "fake_tensorrt"
ENGINE = FIXTURES / "rtx3060-trt10" / "resnet18_fp16"


def _worker(tmp_path, model, env_extra=None):
    from engine_core.build.engine_request import EngineBuildRequest

    request = EngineBuildRequest(str(model), "resnet18-api", precision="fp32", builder="tensorrt")
    (tmp_path / "request.json").write_text(request.to_json())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(DOUBLE), str(REPO)]), "FAKE_TRT_ENGINE": str(ENGINE),
           **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "engine_core.build.worker", str(tmp_path / "request.json"),
                           str(tmp_path / "out")], capture_output=True, text=True, cwd=REPO, env=env, timeout=300)


def test_tensorrt_builder_writes_artifacts_the_importers_read(rtx_env, tmp_path):
    from engine_core.models.zoo import sample_model_path

    proc = _worker(tmp_path, sample_model_path("tiny_cnn"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1].split(" ", 1)[1])
    names = sorted(os.path.basename(f) for f in result["files"])
    assert names == ["resnet18-api.build.log", "resnet18-api.graph.json", "resnet18-api.profile.json",
                     "resnet18-api.timing.json"]
    engine = load_one(tmp_path / "out")
    original = load_one(*[p for p in ENGINE.parent.glob("resnet18_fp16.*") if "metadata" not in p.name])
    assert len(engine.layers) == len(original.layers) == 26
    assert list(engine.layers["name"]) == list(original.layers["name"])
    # Per-layer times are the IProfiler's reports, averaged over the profiled runs.
    assert engine.layers["avg_ms"].to_numpy() == pytest.approx(original.layers["avg_ms"].to_numpy())
    assert engine.profile_iterations == 50 and engine.timed_iterations == 200
    assert engine.builder == "TensorRT 10.99.0-double (Python API)" and engine.recipe == "fp32"
    assert engine.measured and engine.gpu_compute is not None
    assert engine.sizes["weights_memory_bytes"] == 1024


def test_tensorrt_parser_failure_is_one_clear_error(rtx_env, tmp_path):
    model = tmp_path / "fancy.onnx"
    from onnx import TensorProto, helper, save

    node = helper.make_node("FancyOp", ["x"], ["y"], domain="com.example")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)]),
         str(model))
    proc = _worker(tmp_path, model)
    assert proc.returncode == 1
    error = json.loads(proc.stdout.splitlines()[-1].split(" ", 1)[1])
    assert error["kind"] == "BuildError" and "No importer registered for op: FancyOp" in error["what"]
    assert "ONNX parser: No importer registered for op: FancyOp" in error["log_tail"]


def test_tensorrt_missing_is_a_missing_dependency(rtx_env, tmp_path):
    from engine_core.models.zoo import sample_model_path

    blocker = tmp_path / "block"
    (blocker / "tensorrt").mkdir(parents=True)
    (blocker / "tensorrt" / "__init__.py").write_text("raise ImportError('no TensorRT here')\n")
    proc = _worker(tmp_path, sample_model_path("tiny_cnn"), {"PYTHONPATH": f"{blocker}{os.pathsep}{REPO}"})
    error = json.loads(proc.stdout.splitlines()[-1].split(" ", 1)[1])
    assert proc.returncode == 1 and error["what"] == "TensorRT is needed to build and profile engines on a GPU but is not installed."
