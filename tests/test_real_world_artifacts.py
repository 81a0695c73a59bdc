"""Real-world artifact shapes: odd files in folders, TensorRT 7 multi-run logs, per-layer inspector blocks,
fused-layer parameters, Polygraphy's runtime lines, and INT8 calibration caches (real ones from
../shared/fixtures/calib, and written ones for the traps no real cache shows)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import DATA, FIXTURES, REPO, load_one
from engine_core.analysis.calibration import compare_caches, scale_problems, summarize_cache
from engine_core.analysis.fallback import explain_fallbacks
from engine_core.discover import load_engines
from engine_core.errors import ArtifactFormatError
from engine_core.importers.calib_cache import decode_scale, read_calibration_cache, version_from_tag

CALIB = FIXTURES / "calib"


def run(*args):
    return subprocess.run([sys.executable, "-m", "layerlens", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, timeout=120)


# ---- one odd file never sinks a folder ------------------------------------------------------------

def test_unrelated_json_beside_trex_files_is_skipped_with_a_note(tmp_path):
    folder = tmp_path / "qat"
    shutil.copytree(FIXTURES / "trex-rtx3090" / "qat", folder)
    (folder / "notes.json").write_text('{"Layers": "see the wiki page for the layer list"}')   # looks like layer info
    (folder / "package.json").write_text('{"name": "deploy-scripts", "version": "1.0.0"}')      # nothing TensorRT
    (folder / "timings.json").write_text('[{"count": 3}, {"layer": "x", "ms": 1}]')              # looks like a profile
    proc = run("summary", folder, "--json")
    assert proc.returncode == 0, proc.stderr
    engines = json.loads(proc.stdout)["engines"]
    assert [e["name"] for e in engines] == ["resnet-qat"] and engines[0]["layers"]["count"] == 63
    notes = proc.stderr.strip().splitlines()
    assert len(notes) == 3 and all(n.startswith("layerlens: skipped ") for n in notes)
    assert any("notes.json" in n and '"Layers" is not a list' in n for n in notes)
    assert any("package.json" in n and "not a TensorRT artifact" in n for n in notes)


def test_a_folder_of_nothing_readable_fails_with_one_line(tmp_path):
    (tmp_path / "a.json").write_text('{"Layers": 3}')
    (tmp_path / "b.txt").write_text("hello")
    proc = run("summary", tmp_path)
    assert proc.returncode == 1 and proc.stderr.strip().splitlines()[-1].startswith(
        "layerlens: error: No readable TensorRT artifacts in")


def test_a_named_bad_file_is_still_an_error(tmp_path):
    bad = tmp_path / "notes.graph.json"
    bad.write_text('{"Layers": "see the wiki"}')
    proc = run("summary", bad)
    assert proc.returncode == 1 and '"Layers" is not a list' in proc.stderr


# ---- TensorRT 7 logs with several runs -----------------------------------------------------------

TRT7_MEDIANS = {1: 2.1, 2: 3.0, 4: 4.8, 8: 8.4, 16: 15.6, 64: 58.8, 128: 116.4}


def test_trt7_log_with_seven_appended_runs_is_seven_engines():
    engines = {e.name: e for e in load_engines([DATA / "trt7"])[0]}
    assert len(engines) == 7
    for i, (batch, median) in enumerate(TRT7_MEDIANS.items(), start=1):
        e = engines[f"trt7_sweep run {i} (--batch={batch})"]
        # Each run's numbers: its own GPU Compute block, its own trace and profile from the concatenated files.
        assert e.gpu_compute.median_ms == pytest.approx(median) and e.gpu_compute_source == "times_json"
        assert e.metadata.summary["GPU Compute Time"].median_ms == pytest.approx(median)
        assert e.metadata.summary["GPU Compute Time"].p99_ms == pytest.approx(round(median * 1.08, 6), rel=1e-5)
        assert e.per_layer_sum_ms == pytest.approx(median * 1.05, rel=1e-4)
        assert e.profile_iterations == 1400 // i and e.timed_iterations == 5
        assert e.metadata.inference_options["Batch"] == str(batch) and e.build_precision == "FP32+INT8"
        assert e.status == "ok" and e.tensorrt_version is None


def test_trt7_runs_keep_their_part_through_the_store(tmp_path):
    from engine_core.store import RunStore

    store = RunStore(tmp_path)
    for engine in load_engines([DATA / "trt7"])[0]:
        store.add(engine)
    medians = sorted(store.load(r.run_id).gpu_compute.median_ms for r in store.list_runs())
    assert medians == pytest.approx(sorted(TRT7_MEDIANS.values()))


# ---- documents between separators, fused layers, Polygraphy --------------------------------------

@pytest.mark.parametrize("separator", ["--- Layer {i} ---", "=== Layer {i} ===", "Layer {i}:", "\x1e", "# layer {i}", ""])
def test_per_layer_inspector_blocks_with_any_separator(tmp_path, separator):
    layers = json.loads((FIXTURES / "rtx3060-trt10" / "resnet18_fp16.graph.json").read_text())["Layers"]
    path = tmp_path / "resnet18.layers.txt"
    path.write_text("".join(f"{separator.format(i=i)}\n{json.dumps(layer, indent=2)}\n" for i, layer in enumerate(layers)))
    engine = load_one(path)
    assert list(engine.layers["name"]) == [layer["Name"] for layer in layers] and len(engine.layers) == 26


def test_written_inspector_fixture():
    engine = load_one(DATA / "inspector" / "resnet18_first6.layers.txt")
    assert len(engine.layers) == 6 and engine.layers["compute_precision"].tolist() == ["FP16"] * 6


@pytest.mark.parametrize("name", ["convactpool.graph.json", "convactpool_dumplayerinfo.log"])
def test_fused_layer_prefixed_parameters_count(name):
    engine = load_one(DATA / "fused" / name)
    fused = engine.layers.iloc[0]
    assert fused["layer_type"] == "ConvActPool"
    assert (fused["weights_count"], fused["bias_count"], fused["weights_precision"]) == (800, 32, "FP32")
    assert int(engine.layers["weights_count"].sum()) == 63_520 and int(engine.layers["weights_bytes"].sum()) == 254_080
    from engine_core.layer_table import record_param

    assert record_param(fused["record"], "Kernel") == [5, 5] and record_param(fused["record"], "WindowSize") == [2, 2]


def test_polygraphy_runtime_lines_give_the_engine_size():
    engine = load_one(DATA / "polygraphy" / "mnist_inspect_with_runtime_log.txt")
    assert engine.engine_size_bytes == 12 * 2**20 and "approximate" in " ".join(engine.warnings)
    assert engine.sizes["runner_host_persistent_bytes"] == 336 and engine.sizes["allocated_activation_bytes"] == 2_876_416


# ---- calibration caches -------------------------------------------------------------------------

REAL_CACHES = {  # file -> (TensorRT version, calibrator, distinct tensors)
    "controlnet_trt2023_trt8601_large_two_runs/a__int8.cache": ("8.6.1", "EntropyCalibration2", 6984),
    "controlnet_trt2023_trt8601_large_two_runs/c__int8.cache": ("8.6.1", "EntropyCalibration2", 3656),
    "cudla_yolov5_qat2ptq_trt8600/qat2ptq.cache": ("8.6.0", "EntropyCalibration2", 197),
    "dsref_yolo_trt5_header1_unnamed_itensor/yolov3-calibration.table": (None, None, 186),
    "dsref_yolo_trt5_header1_unnamed_itensor/yolov2-tiny-calibration.table": (None, None, 27),
    "nvcookbook_addscalar_trt7_to_trt10_14/trt7000_dynamicshape_int8__calibration.cache": ("7.0.0", "EntropyCalibration2", 2),
    "nvcookbook_addscalar_trt7_to_trt10_14/trt8204_plugin_useINT8-PTQ__int8.cache": ("8.2.4", "EntropyCalibration2", 3),
    "nvcookbook_addscalar_trt7_to_trt10_14/trt100001_pluginV3__model.int8cache": ("10.0.1", "EntropyCalibration2", 3),
    "nvcookbook_addscalar_trt7_to_trt10_14/trt101401_pluginV2__model.int8cache": ("10.14.1", "EntropyCalibration2", 3),
    "rmccorm4_imagenet_trt6001_4models/resnet50.cache": ("6.0.1", "EntropyCalibration2", 180),
    "tao_apps_trt7000_entropy2_7models/mrcnn__cal.bin": ("7.0.0", "EntropyCalibration2", 324),
}


@pytest.mark.parametrize("path", sorted(p.relative_to(CALIB).as_posix() for p in CALIB.glob("*/*")
                                        if p.suffix in (".cache", ".int8cache", ".table", ".bin")))
def test_every_real_cache_reads(path):
    cache = read_calibration_cache(CALIB / path)
    summary = summarize_cache(cache)
    assert summary["tensors"] == len(cache.scales) > 0 and summary["nan"] == summary["inf"] == summary["zero"] == 0
    if path in REAL_CACHES:
        assert (cache.tensorrt_version, cache.calibrator, summary["tensors"]) == REAL_CACHES[path]


def test_exact_scales_from_real_caches():
    cache = read_calibration_cache(CALIB / "nvcookbook_addscalar_trt7_to_trt10_14" / "trt101401_pluginV2__model.int8cache")
    assert cache.scales == {"inputT0": decode_scale("3eb6adf0"), "(Unnamed Layer* 0) [PluginV2DynamicExt]_output":
                            decode_scale("3eb2a59f"), "outputT0": decode_scale("3eb2a59f")}
    assert cache.scales["inputT0"] == pytest.approx(0.3567957878112793)
    ssd = read_calibration_cache(CALIB / "tao_apps_trt7000_entropy2_7models" / "ssd__cal.bin")
    problems = scale_problems(ssd)
    assert problems["tensor"].tolist() == ["NMS_1"] and problems["problem"].tolist() == ["too small"]
    assert problems["scale"].iloc[0] == pytest.approx(9.386558197377326e-10)


def test_two_runs_of_one_model_compare():
    a = read_calibration_cache(CALIB / "controlnet_trt2023_trt8601_large_two_runs" / "a__int8.cache")
    b = read_calibration_cache(CALIB / "controlnet_trt2023_trt8601_large_two_runs" / "b__int8.cache")
    c = compare_caches(a, b)
    assert (c["shared"], len(c["only_in_a"]), len(c["only_in_b"])) == (6984, 0, 0)
    assert (c["identical"], c["within_10pct"], c["more_than_2x"]) == (2172, 6349, 18)


@pytest.mark.parametrize("code,version", [("8601", "8.6.1"), ("101401", "10.14.1"), ("7000", "7.0.0"), ("6001", "6.0.1"),
                                          ("100001", "10.0.1"), ("8204", "8.2.4")])
def test_version_tags(code, version):
    assert version_from_tag(code) == version


def test_written_cache_with_every_trap():
    cache = read_calibration_cache(DATA / "calib" / "traps_crlf_junk.cache")
    s = summarize_cache(cache)
    assert (s["tensorrt_version"], s["calibrator"], s["tensors"]) == ("10.10.1", "MinMaxCalibration", 7)
    assert (s["zero"], s["inf"], s["nan"]) == (1, 1, 0) and s["max_scale"] == pytest.approx(7.876e35, rel=1e-3)
    assert cache.scales["/conv1/Conv_output_0"] == 0.0625          # repeated: the last one wins
    assert "saturated:0" in cache.scales and "(Unnamed Layer* 7) [Shuffle]_output" in cache.scales
    assert set(scale_problems(cache)["problem"]) == {"zero", "inf", "too large"}
    assert any("skipped 2 line(s)" in w for w in cache.warnings)


def test_calib_cli_json_shape_and_errors(tmp_path):
    a = CALIB / "controlnet_trt2023_trt8601_large_two_runs" / "a__int8.cache"
    b = CALIB / "controlnet_trt2023_trt8601_large_two_runs" / "b__int8.cache"
    out = json.loads(run("calib", a, b, "--json").stdout)
    assert set(out) == {"caches", "comparison"} and len(out["caches"]) == 2
    assert set(out["caches"][0]) == {"file", "tensorrt_version", "calibrator", "tensors", "zero", "inf", "nan",
                                     "min_scale", "max_scale", "scales"}
    assert out["comparison"]["more_than_2x"] == 18
    traps = json.loads(run("calib", DATA / "calib" / "traps_crlf_junk.cache", "--json").stdout)["caches"][0]
    assert traps["scales"]["/fc/Gemm_output_0"] == "inf"  # JSON has no infinity
    bad = tmp_path / "bad.cache"
    bad.write_text("hello\nworld\n")
    proc = run("calib", bad)
    assert proc.returncode == 1 and len(proc.stderr.strip().splitlines()) == 1
    with pytest.raises(ArtifactFormatError, match="no 'tensor: hex' lines"):
        read_calibration_cache(_write(tmp_path / "empty.cache", "TRT-8601-EntropyCalibration2\n"))


def _write(path, text):
    path.write_text(text)
    return path


def test_a_cache_without_a_tensor_explains_the_fallback(tmp_path):
    log = tmp_path / "trt82.log"
    log.write_text("".join(line for line in (DATA / "logs" / "trt82_int8_verbose_profile.log").open()
                           if "Missing scale" not in line))  # no builder message: only the cache can tell
    plain = explain_fallbacks(load_one(log)).set_index("name")
    assert plain.loc["Sigmoid_5 + Mul_6", "reason"] == "tactic_choice"
    shutil.copy(DATA / "calib" / "yolo_trt82_no131.cache", tmp_path / "trt82.calib.cache")  # beside it: joins it
    engine = load_one(tmp_path)
    assert engine.calibration is not None and len(engine.calibration.scales) == 5
    fallbacks = explain_fallbacks(engine).set_index("name")
    assert fallbacks.loc["Sigmoid_5 + Mul_6", "reason"] == "missing_dynamic_range"
    assert "has no scale for tensor '131'" in fallbacks.loc["Sigmoid_5 + Mul_6", "evidence"]
    proc = run("diagnose", log, "--calib-cache", DATA / "calib" / "yolo_trt82_no131.cache")
    assert proc.returncode == 0 and "the calibration cache says a tensor of this layer has no quantization scale" in proc.stdout
