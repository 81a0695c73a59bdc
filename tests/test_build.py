"""The build path without a GPU: version-aware trtexec commands, the runner against a test double, and errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO
from engine_core.build.request import BuildRequest, check_request
from engine_core.build.trtexec import build_with_trtexec, trtexec_argv
from engine_core.discover import load_engines
from engine_core.errors import BuildError, LayerLensError, MissingDependencyError

FAKE = str(REPO / "tests" / "doubles" / "fake_trtexec.py")


def test_trt10_command_exports_everything_the_importers_read(tmp_path):
    argv = trtexec_argv(BuildRequest("m.onnx", "10.16", ("fp16", "int8"), calibration_cache="m.cache",
                                     precision_constraints="obey", layer_precisions={"/head/Softmax": "fp32"},
                                     shapes="input:8x3x224x224"), tmp_path, "m-int8")
    assert argv[:3] == ["trtexec", "--onnx=m.onnx", f"--saveEngine={tmp_path / 'm-int8.engine'}"]
    for flag in ("--fp16", "--int8", "--calib=m.cache", "--precisionConstraints=obey",
                 "--layerPrecisions=/head/Softmax:fp32", "--shapes=input:8x3x224x224", "--profilingVerbosity=detailed",
                 f"--exportLayerInfo={tmp_path / 'm-int8.graph.json'}", f"--exportProfile={tmp_path / 'm-int8.profile.json'}",
                 f"--exportTimes={tmp_path / 'm-int8.timing.json'}", "--separateProfileRun", "--useCudaGraph", "--useSpinWait"):
        assert flag in argv
    assert "--noTF32" not in argv


def test_trt11_command_has_no_precision_flags(tmp_path):
    argv = trtexec_argv(BuildRequest("m_qdq.onnx", "11.0", tf32=False), tmp_path, "m")
    assert not any(a in argv for a in ("--fp16", "--int8", "--best", "--stronglyTyped")) and "--noTF32" in argv


@pytest.mark.parametrize("request_,message", [
    (BuildRequest("m.onnx", "11.0", ("fp16",)), "removed precision flags"),
    (BuildRequest("m.onnx", "8.6", ("bf16",)), "--bf16 needs TensorRT 9.0"),
    (BuildRequest("m.onnx", "9.3", ("int4",)), "--int4 needs TensorRT 10.0"),
    (BuildRequest("m.onnx", "10.16", ("fp16",), strongly_typed=True), "strongly typed network takes its types"),
    (BuildRequest("m.onnx", "10.16", ("fp16",), layer_precisions={"a": "fp32"}), "ignored unless precision constraints"),
])
def test_impossible_requests(request_, message):
    errors, _ = check_request(request_)
    assert any(message in e for e in errors), errors
    with pytest.raises(LayerLensError):
        trtexec_argv(request_, ".", "x")


def test_unfair_requests_warn():
    _, warnings = check_request(BuildRequest("m.onnx", "10.16", ("int8",)))
    assert any("fall back to FP32" in w for w in warnings) and any("synthetic scales" in w for w in warnings)
    _, warnings = check_request(BuildRequest("m.onnx", "10.16"))
    assert any("TF32" in w for w in warnings)


def test_runner_runs_the_composed_command_and_imports_what_it_wrote(tmp_path, monkeypatch):
    """The double copies a real engine's exports to the paths the command names and prints a log (see fake_trtexec)."""
    source = FIXTURES / "trex-rtx3090" / "qat" / "resnet-qat.onnx.engine"
    monkeypatch.setenv("FAKE_TRTEXEC_SOURCE", str(source))
    request = BuildRequest("resnet-qat.onnx", "10.16", ("fp16", "int8"), calibration_cache="c")
    out = tmp_path / "out"
    files = build_with_trtexec(request, out, "resnet-qat-int8", trtexec=FAKE)
    argv = trtexec_argv(request, out, "resnet-qat-int8", FAKE)
    exports = [a.split("=", 1)[1] for a in argv if a.startswith(("--exportLayerInfo=", "--exportProfile=", "--exportTimes="))]
    assert sorted(map(str, files)) == sorted(exports + [str(out / "resnet-qat-int8.log")])
    # The log is trtexec's console: its banner carries the exact command LayerLens composed.
    log = (out / "resnet-qat-int8.log").read_text()
    assert log.splitlines()[0].endswith("# trtexec " + " ".join(argv[1:]))
    engines, _ = load_engines(files)
    assert len(engines) == 1
    e, original = engines[0], load_engines([Path(f"{source}{s}") for s in (".graph.json", ".profile.json")])[0][0]
    assert sorted(e.files) == sorted(map(str, files))  # the log and the three exports are one engine
    assert list(e.layers["name"]) == list(original.layers["name"]) and len(e.layers) == 63
    assert e.layers["avg_ms"].to_numpy() == pytest.approx(original.layers["avg_ms"].to_numpy())
    assert e.timed_iterations == len(json.loads(Path(f"{source}.timing.json").read_text())) and e.status == "ok"
    # What only the log says (version, precision flags, engine size) comes from the log the runner captured.
    alone = load_engines([out / "resnet-qat-int8.log"])[0][0]
    facts = (alone.tensorrt_version, alone.build_precision, alone.engine_size_bytes)
    assert (e.tensorrt_version, e.build_precision, e.engine_size_bytes) == facts and None not in facts


def test_runner_failure_carries_the_log_tail(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_TRTEXEC_FAIL", "1")
    with pytest.raises(BuildError) as err:
        build_with_trtexec(BuildRequest("bad.onnx"), tmp_path, "bad", trtexec=FAKE)
    log = tmp_path / "bad.log"  # kept for the user, and its last lines travel with the error
    assert str(err.value).startswith(f"trtexec exited with status 1; see {log}.")
    assert err.value.log_tail == "\n".join(log.read_text().splitlines()[-15:]) and err.value.log_tail
    assert "unsupported ONNX op" in err.value.fix


def test_missing_trtexec_is_one_actionable_line(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "layerlens", "build", "m.onnx", "--fp16", "--run", "--out", str(tmp_path)],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith("layerlens: error: trtexec is needed to build engines")


def test_missing_trtexec_raises_missing_dependency(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("engine_core.build.trtexec.INSTALL_LOCATIONS", ())
    with pytest.raises(MissingDependencyError, match="layerlens import"):
        build_with_trtexec(BuildRequest("m.onnx"), tmp_path, "m")


def test_default_stem_names_what_changes_the_engine():
    from engine_core.build.request import default_stem

    assert default_stem(BuildRequest("models/resnet.onnx", precisions=("fp16", "int8"))) == "resnet-fp16-int8"
    assert default_stem(BuildRequest("resnet.onnx", tf32=False)) == "resnet-notf32"
