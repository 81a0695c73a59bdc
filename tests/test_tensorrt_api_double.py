"""The GPU-box ``tensorrt`` builder, run against a test double of the TensorRT Python API.

The double (tests/doubles/fake_tensorrt) answers the inspector and the profiler
with a real engine's trtexec exports. What is checked is what LayerLens does with
those answers: which files it writes, that the inspector's JSON is written as is,
that the profiler's reports become a profile in trtexec's shape (averaged over the
runs LayerLens made), that whole-inference times become a trace, that the plan's
size and hash are recorded, and that the importers read all of it back as one
measured engine. TensorRT itself needs a GPU; the steps the ``rtx`` backend shares
with it (parse, build, the log) run for real at the end of this file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys

import pytest

from conftest import FIXTURES, REPO, load_one
from engine_core.importers.accuracy_json import read_accuracy_json

DOUBLE = REPO / "tests" / "doubles" / "fake_tensorrt"
ENGINE = FIXTURES / "rtx3060-trt10" / "resnet18_fp16"
STEM = "resnet18-api"


def _worker(tmp_path, model, env_extra=None, builder="tensorrt", keep_plan=False):
    """One build through the worker process; returns ``(returncode, payload of its last protocol line)``."""
    from engine_core.build.engine_request import EngineBuildRequest

    request = EngineBuildRequest(str(model), STEM, precision="fp32", builder=builder, keep_plan=keep_plan)
    (tmp_path / "request.json").write_text(request.to_json())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(DOUBLE), str(REPO)]), "FAKE_TRT_ENGINE": str(ENGINE),
           **(env_extra or {})}
    proc = subprocess.run([sys.executable, "-m", "engine_core.build.worker", str(tmp_path / "request.json"),
                           str(tmp_path / "out")], capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout.splitlines()[-1].split(" ", 1)[1])


def _double_version() -> str:
    spec = importlib.util.spec_from_file_location("fake_tensorrt_double", DOUBLE / "tensorrt" / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.__version__


def _fancy_model(tmp_path, op: str = "FancyOp"):
    """A one-node model of a custom op: ``FancyOp`` fails to parse, ``CrashOp`` aborts the double's process."""
    from onnx import TensorProto, helper, save

    model = tmp_path / f"{op.lower().removesuffix('op')}.onnx"
    node = helper.make_node(op, ["x"], ["y"], domain="com.example")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)]),
         str(model))
    return model


def test_tensorrt_builder_writes_artifacts_the_importers_read(rtx_env, tmp_path):
    from engine_core.models.zoo import sample_model_path

    code, result = _worker(tmp_path, sample_model_path("tiny_cnn"), keep_plan=True)
    assert code == 0, result
    out = tmp_path / "out"
    # The recipe's output error against the source model is measured on the CPU whatever the builder (.accuracy.json).
    assert sorted(result["files"]) == sorted(str(out / f"{STEM}{suffix}") for suffix in
                                             (".build.log", ".graph.json", ".timing.json", ".profile.json", ".plan",
                                              ".accuracy.json"))
    # The inspector's layer JSON is written as TensorRT returned it.
    assert (out / f"{STEM}.graph.json").read_text() == ENGINE.with_name(ENGINE.name + ".graph.json").read_text()
    # The profiler's reports, one per layer per run, become --exportProfile's shape: a count, then per-layer totals.
    profile = json.loads((out / f"{STEM}.profile.json").read_text())
    runs = profile[0]["count"]
    reported = {r["name"]: r["averageMs"] for r in json.loads(ENGINE.with_name(ENGINE.name + ".profile.json").read_text())
                if "name" in r}
    assert runs > 1 and [r["name"] for r in profile[1:]] == list(reported)
    for record in profile[1:]:
        assert record["averageMs"] == pytest.approx(reported[record["name"]])
        assert record["timeMs"] == pytest.approx(record["averageMs"] * runs)
    assert sum(r["percentage"] for r in profile[1:]) == pytest.approx(100.0)
    trace = json.loads((out / f"{STEM}.timing.json").read_text())

    engine = load_one(*[out / f"{STEM}{s}" for s in (".build.log", ".graph.json", ".profile.json", ".timing.json")])
    # Rows imported: the inspector's layers, timed by the profiler, from the files LayerLens wrote.
    inspected = load_one(ENGINE.with_name(ENGINE.name + ".graph.json"))
    assert list(engine.layers["name"]) == list(inspected.layers["name"]) and len(engine.layers) > 0
    assert engine.layers["avg_ms"].to_numpy() == pytest.approx([reported[n] for n in engine.layers["name"]])
    assert engine.measured and engine.profile_iterations == runs and engine.timed_iterations == len(trace)
    assert engine.gpu_compute.median_ms == pytest.approx(statistics.median(t["computeMs"] for t in trace))
    # Facts recorded: the binding that built it, and the plan it serialized (size and sha256 of the kept file).
    plan = (out / f"{STEM}.plan").read_bytes()
    assert engine.builder == f"TensorRT {_double_version()} (Python API)" and engine.recipe == "fp32"
    assert engine.build_facts["plan"] == f"{len(plan)} bytes, sha256 {hashlib.sha256(plan).hexdigest()}"
    assert engine.engine_size_bytes == len(plan)
    # The builder's own log messages land in the build log, where the importer reads the weight bytes.
    log = (out / f"{STEM}.build.log").read_text()
    weights = re.search(r"\[TRT\] Total Weights Memory: (\d+) bytes", log)
    assert weights and engine.sizes["weights_memory_bytes"] == int(weights[1])


def test_one_worker_builds_a_matrix_and_a_crash_fails_only_the_build_it_interrupted(rtx_env, tmp_path, monkeypatch):
    """The builds of one call share a worker process (the binding loads once); a builder that aborts the process
    fails the build it was making, with the process's last words, and the builds after it go on in a new worker.
    Only finished builds leave a staging folder (the caller's to move or delete)."""
    import tempfile

    from engine_core.build.engine_request import EngineBuildRequest
    from engine_core.build.runner import BuiltEngine, run_engine_builds
    from engine_core.errors import BuildError
    from engine_core.models.zoo import sample_model_path

    staging = tmp_path / "staging"
    staging.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(staging))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(DOUBLE), str(REPO)]))
    monkeypatch.setenv("FAKE_TRT_ENGINE", str(ENGINE))
    tiny, crash, fancy = sample_model_path("tiny_cnn"), _fancy_model(tmp_path, "CrashOp"), _fancy_model(tmp_path)
    order = ((tiny, "first"), (tiny, "second"), (crash, "crash"), (fancy, "fancy"), (tiny, "last"))
    requests = [EngineBuildRequest(str(model), stem, builder="tensorrt", accuracy=False) for model, stem in order]
    stages = []
    results = list(run_engine_builds(requests, lambda stem, stage, detail: stages.append((stem, stage))))

    assert [request.stem for request, _ in results] == ["first", "second", "crash", "fancy", "last"]
    built = {request.stem: outcome for request, outcome in results if isinstance(outcome, BuiltEngine)}
    errors = {request.stem: outcome for request, outcome in results if not isinstance(outcome, BuiltEngine)}
    assert sorted(built) == ["first", "last", "second"] and all(isinstance(e, BuildError) for e in errors.values())
    assert errors["crash"].what.startswith("The builder process for crash crashed (exit status ")
    assert "fake tensorrt: native fault in CrashOp" in errors["crash"].log_tail
    assert errors["fancy"].what == "The ONNX parser rejected fancy.onnx: No importer registered for op: FancyOp"

    def builder_process(stem: str) -> str:
        log = next(f for f in built[stem].files if f.name.endswith(".build.log")).read_text()
        return re.search(r"\[TRT\] Builder process (\d+)", log)[1]

    assert builder_process("first") == builder_process("second") != builder_process("last")
    assert sorted(p.name for p in staging.iterdir()) == sorted(b.folder.name for b in built.values())
    assert [stage for stem, stage in stages if stem == "second"][-1] == "done"
    assert "done" not in [stage for stem, stage in stages if stem in errors]


@pytest.mark.parametrize("builder", ["tensorrt", "rtx"])
def test_parser_failure_is_one_clear_error_with_the_parsers_words(rtx_env, tmp_path, builder):
    """The double's parser and TensorRT-RTX's real one: the first parser error reaches the message, all reach the log."""
    code, error = _worker(tmp_path, _fancy_model(tmp_path), builder=builder)
    assert code == 1 and error["kind"] == "BuildError"
    log = (tmp_path / "out" / f"{STEM}.build.log").read_text()
    parser_lines = re.findall(r"\[TRT\] ONNX parser: (.+)", log)
    assert parser_lines and "FancyOp" in log  # the op is named in the log the user is pointed to
    assert error["what"] == f"The ONNX parser rejected fancy.onnx: {parser_lines[0]}"
    assert f"ONNX parser: {parser_lines[-1]}" in error["log_tail"]
    assert "support matrix" in error["fix"]


def test_tensorrt_missing_is_a_missing_dependency(rtx_env, tmp_path):
    from engine_core.models.zoo import sample_model_path

    blocker = tmp_path / "block"
    (blocker / "tensorrt").mkdir(parents=True)
    (blocker / "tensorrt" / "__init__.py").write_text("raise ImportError('no TensorRT here')\n")
    code, error = _worker(tmp_path, sample_model_path("tiny_cnn"), {"PYTHONPATH": f"{blocker}{os.pathsep}{REPO}"})
    assert code == 1 and error["what"] == "TensorRT is needed to build and profile engines on a GPU but is not installed."
    assert error["fix"].startswith("Install it with: pip install 'layerlens[trt]'")


def test_rtx_worker_writes_the_log_and_plan_it_reports(rtx_env, tmp_path):
    """The same worker protocol with the real TensorRT-RTX builder: the files it reports exist and agree."""
    from engine_core.models.zoo import sample_model_path

    code, result = _worker(tmp_path, sample_model_path("tiny_cnn"), builder="rtx", keep_plan=True)
    assert code == 0, result
    out = tmp_path / "out"
    assert sorted(result["files"]) == [str(out / f"{STEM}{suffix}") for suffix in (".accuracy.json", ".build.log", ".plan")]
    plan = (out / f"{STEM}.plan").read_bytes()
    engine = load_one(out / f"{STEM}.build.log")
    assert engine.build_facts["plan"] == f"{len(plan)} bytes, sha256 {hashlib.sha256(plan).hexdigest()}"
    assert engine.engine_size_bytes == len(plan) and engine.recipe == result["recipe"]["recipe"] == "fp32"
    log = (out / f"{STEM}.build.log").read_text()
    assert re.search(r"\[LayerLens\] builder: TensorRT-RTX 1\.\d+\.\d+\.\d+ \(AOT, CPU\)", log)
    assert len(engine.layers) == 7 and not engine.measured  # the tiny CNN's 7 layers, from the builder's own list
    # An FP32 recipe is the source model itself: its accuracy artifact says identical, and the log records it.
    assert "[LayerLens] accuracy: output SQNR identical vs tiny_cnn.onnx" in log
    assert read_accuracy_json(out / f"{STEM}.accuracy.json").output.sqnr_db == float("inf")
