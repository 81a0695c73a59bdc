"""The `layerlens` CLI as a user runs it: a subprocess, real fixtures, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import DATA, FIXTURES, REPO


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "layerlens", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, env={**os.environ, **(env or {})}, timeout=120)


def test_summary_json_contract_on_qat():
    proc = run("summary", FIXTURES / "trex-rtx3090" / "qat", "--json")
    assert proc.returncode == 0, proc.stderr
    engine = json.loads(proc.stdout)["engines"][0]
    assert set(engine) >= {"name", "files", "tensorrt_version", "device", "build_precision", "layers", "weights",
                           "latency_ms", "engine_size_bytes", "status", "warnings"}
    assert engine["layers"]["count"] == 63
    assert engine["weights"]["count_by_dtype"] == {"INT8": 25502912}
    assert set(engine["latency_ms"]) >= {"gpu_compute_median", "gpu_compute_mean", "per_layer_sum", "profile_iterations"}


def test_summary_text_on_h100_logs():
    proc = run("summary", FIXTURES / "h100-trt10-logs")
    assert proc.returncode == 0, proc.stderr
    for name in ("result-01", "result-02", "result-03", "result-04", "result-05"):
        assert name in proc.stdout
    assert "NVIDIA H100 PCIe" in proc.stdout and "10.16.1" in proc.stdout


@pytest.mark.parametrize("path,needle", [
    (DATA / "bad" / "truncated.graph.json", "truncated"),
    (DATA / "bad" / "not_an_artifact.json", "not a TensorRT artifact"),
    ("/nonexistent/file.json", "does not exist"),
])
def test_bad_input_exits_1_with_one_line(path, needle):
    proc = run("summary", path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("layerlens: error:") and needle in lines[0]
    assert "Traceback" not in proc.stderr


def test_layers_csv_and_sorting(tmp_path):
    out = tmp_path / "layers.csv"
    proc = run("layers", FIXTURES / "trex-rtx3090" / "qat", "--csv", out)
    assert proc.returncode == 0, proc.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == 64 and lines[0].startswith("order,name,layer_type")
    proc = run("layers", FIXTURES / "trex-rtx3090" / "qat", "--sort", "avg_ms")
    first_row = proc.stdout.splitlines()[1]
    assert "CaskConvolution" in first_row


def test_layers_needs_engine_choice_when_several():
    proc = run("layers", FIXTURES / "trex-rtx3090")
    assert proc.returncode == 1 and "--engine" in proc.stderr


def test_import_then_runs(tmp_path):
    store = tmp_path / "runs"
    proc = run("import", FIXTURES / "trex-rtx3090", "--store", store)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("stored:") == 3
    again = run("import", FIXTURES / "trex-rtx3090" / "qat", "--store", store)
    assert "already stored" in again.stdout
    listing = json.loads(run("runs", "--store", store, "--json").stdout)
    assert sorted(r["layer_count"] for r in listing["runs"]) == [63, 86, 103]
    assert listing["broken"] == []


def test_diagnose_cli_qat_vs_fp16():
    proc = run("diagnose", FIXTURES / "trex-rtx3090" / "qat", "--baseline", FIXTURES / "trex-rtx3090" / "fp16")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("resnet-qat is 1.83× resnet (FP16): faster by 1.826 ms GPU compute median.\n")
    assert "+0.0899 ms  layers only in resnet-qat (3 layers)" in proc.stdout and "fix:" in proc.stdout
    data = json.loads(run("diagnose", FIXTURES / "trex-rtx3090" / "fp32", "--json").stdout)
    assert data["findings"][0]["kind"] == "fp32_is_tf32"


def test_compare_cli_json_and_errors():
    proc = run("compare", FIXTURES / "trex-rtx3090" / "fp16", FIXTURES / "trex-rtx3090" / "qat", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert round(out["speedup"], 2) == 1.83 and len(out["groups"]) == 54
    assert out["match_counts"] == {"onnx": 53, "structure": 1} and not out["different_networks"]
    parts = {p["kind"]: p["ms"] for p in out["attribution"]["parts"]}
    assert sum(parts.values()) == pytest.approx(out["attribution"]["per_layer_sum_ms"]["delta"], abs=1e-9)
    one = run("compare", FIXTURES / "trex-rtx3090" / "fp16")
    assert one.returncode == 1 and "at least two engines" in one.stderr
    many = run("compare", FIXTURES / "trex-rtx3090", FIXTURES / "trex-rtx3090" / "qat")
    assert many.returncode == 1 and "holds 3 engines" in many.stderr


def test_diagnose_and_compare_read_stored_runs_by_name(tmp_path):
    """`--store` and a run's name, as for report and estimate: the same answer as the artifact folders give."""
    store = tmp_path / "runs"
    qat, fp16 = FIXTURES / "trex-rtx3090" / "qat", FIXTURES / "trex-rtx3090" / "fp16"
    assert run("import", qat, fp16, "--store", store).returncode == 0
    by_name = run("diagnose", "resnet-qat", "--baseline", "resnet", "--store", store, "--json")
    by_path = run("diagnose", qat, "--baseline", fp16, "--json")
    assert by_name.returncode == 0, by_name.stderr
    assert json.loads(by_name.stdout)["findings"] == json.loads(by_path.stdout)["findings"]
    compared = run("compare", "resnet", "resnet-qat", "--store", store, "--json")
    assert compared.returncode == 0, compared.stderr
    assert json.loads(compared.stdout)["attribution"]["verdict"].startswith("resnet-qat is 1.83× resnet (FP16)")
