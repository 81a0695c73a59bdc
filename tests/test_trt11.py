"""TensorRT 11: the inspector JSON's new shape, trtexec 11 logs, the TensorRT 11 Python API builder.

No TensorRT 11 engine can be built here (no GPU), so the TensorRT 11 files are real TensorRT 8/10 exports
reshaped field by field as the TensorRT 11 docs describe (tests/tools/make_trt11_fixtures.py): every real
layer-info fixture, reshaped, must read exactly as the original does, and give its input shapes too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import DATA, DATA_FOLDERS, ENGINE_FOLDERS, FIXTURES, REPO, load_one
from engine_core.discover import discover, load_engines
from engine_core.importers.jsonio import parse_json_documents
from engine_core.importers.sniff import ArtifactKind
from engine_core.summary import summarize_engine

sys.path.insert(0, str(REPO / "tests" / "tools"))
from make_trt11_fixtures import reshape_layer_info_text, split_tensor  # noqa: E402

TRT11 = DATA / "trt11"


def _layer_info_groups():
    """``{layer-info file: the files of its engine}`` for every real and hand-written fixture (not the reshaped ones)."""
    found = discover([p for p in ENGINE_FOLDERS + DATA_FOLDERS if p != TRT11])
    out = {}
    for members in found.groups.values():
        for a in members:
            if a.kind is ArtifactKind.LAYER_INFO and a.part is None:
                out[a.path] = sorted({m.path for m in members})
    return out


LAYER_INFO = _layer_info_groups()
# Everything a summary says about the engine itself. (Not the roofline estimate: engine_core/analysis/roofline.py,
# rewritten elsewhere, still reads tensor sizes from "Format/Datatype" only.)
COMPARED = ("layers", "weights", "latency_ms", "status", "warnings", "tensorrt_version", "device", "build_precision",
            "engine_size_bytes", "memory_bytes", "layer_source", "requested_precision")


def _copy_group(files, folder, reshape=None):
    folder.mkdir()
    for f in files:
        text = f.read_text(errors="replace")
        (folder / f.name).write_text(reshape_layer_info_text(text) if f == reshape else text)
    return folder


@pytest.mark.parametrize("layer_info", sorted(LAYER_INFO), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_layer_info_fixture_reshaped_to_trt11_reads_the_same(layer_info, tmp_path):
    files = LAYER_INFO[layer_info]
    before = {e.name: summarize_engine(e) for e in load_engines([_copy_group(files, tmp_path / "trt10")])[0]}
    after = {e.name: summarize_engine(e) for e in load_engines([_copy_group(files, tmp_path / "trt11", layer_info)])[0]}
    assert sorted(before) == sorted(after)
    for name, old in before.items():
        new = after[name]
        assert {k: old[k] for k in COMPARED} == {k: new[k] for k in COMPARED}
        assert old["layers"]["count"] > 0 and sum(old["layers"]["by_precision"].values()) == old["layers"]["count"]
        # TensorRT 11 lists the I/O tensors with their types and shapes, and they give the engine's input shapes.
        documents = parse_json_documents(layer_info.read_text(), layer_info)
        if any(isinstance(d, dict) and d.get("Bindings") and any(isinstance(r, dict) and r.get("Inputs") for r in d["Layers"])
               for d in documents):
            assert new["io_tensors"] and any(t["mode"] == "Input" for t in new["io_tensors"])
            if not old["input_shapes"]:
                inputs = [t for t in new["io_tensors"] if t["mode"] == "Input"]
                assert new["input_shapes"] == ", ".join(f"{t['name']}:{'x'.join(map(str, t['dims']))}" for t in inputs)


def test_the_qat_resnet_reshaped_keeps_every_precision():
    """The issue's case: read by the format string alone, a reshaped QAT engine lost its FP32/FP16 layers to NONE."""
    path = FIXTURES / "trex-rtx3090" / "qat" / "resnet-qat.onnx.engine.graph.json"
    from engine_core.importers.layer_info import layer_info_from_documents
    from engine_core.layer_table import layer_table_from_records

    from engine_core.precision import precision_from_datatype

    reshaped = layer_info_from_documents([json.loads(reshape_layer_info_text(path.read_text()))], path)
    # The layouts alone name no type: a reader of "Format" would see NONE.
    layouts = [precision_from_datatype(t.get("Format")) for r in reshaped.records for t in r["Inputs"] + r["Outputs"]]
    assert layouts.count("NONE") == len(layouts)
    table = layer_table_from_records(reshaped.records)
    for column in ("compute_precision", "input_precision", "output_precision"):
        assert table[column].value_counts().to_dict() == {"INT8": 58, "FP32": 5}
    assert table.loc[0, "input_format"] == "Float, Row major linear"
    assert [(t.name, t.mode) for t in reshaped.io_tensors] == [("input_1", "Input"), ("quant_predictions", "Output")]


def test_split_keys_read_like_the_combined_string():
    assert split_tensor({"Name": "x", "Format/Datatype": "Channel major FP16 format where channel % 8 == 0"}) == {
        "Name": "x", "Format": "Channel major format where channel % 8 == 0", "DataType": "Half"}
    assert split_tensor({"Name": "x", "Format/Datatype": "Four wide channel vectorized row major Int8 format"})["DataType"] == "Int8"
    assert split_tensor({"Name": "k", "Format/Datatype": "Half"}) == {"Name": "k", "DataType": "Half"}


def test_trt11_fixture_gives_io_tensors_and_input_shapes():
    engine = load_one(TRT11 / "resnet18_fp16_trt11.graph.json")
    original = load_one(*[p for p in (FIXTURES / "rtx3060-trt10").glob("resnet18_fp16.graph.json")])
    assert len(engine.layers) == len(original.layers) == 26
    assert engine.layers["compute_precision"].value_counts().to_dict() == {"FP16": 25, "NONE": 1}
    assert list(engine.layers["compute_precision"]) == list(original.layers["compute_precision"])
    assert engine.input_shapes == "input:1x3x224x224" and original.input_shapes is None
    assert [t.to_json() for t in engine.io_tensors] == [
        {"name": "input", "mode": "Input", "datatype": "Half", "dims": [1, 3, 224, 224],
         "profiles": [{"min": [1, 3, 224, 224], "opt": [1, 3, 224, 224], "max": [1, 3, 224, 224]}], "shape_io": False},
        {"name": "output", "mode": "Output", "datatype": "Half", "dims": [1, 1000],
         "profiles": [{"min": [1, 1000], "opt": [1, 1000], "max": [1, 1000]}], "shape_io": False}]
    assert engine.bindings == ["input", "output"]


def test_trt11_names_only_and_multi_profile():
    names = load_one(TRT11 / "names_only_trt11.graph.json")
    assert names.layer_source == "layer_names_only" and len(names.layers) == 3
    assert names.input_shapes == "input_0:1x3x224x224"
    multi = load_one(TRT11 / "multiprofile_trt11.graph.json")
    x = next(t for t in multi.io_tensors if t.name == "x")
    assert x.datatype == "BFloat16" and len(x.profiles) == 2 and multi.input_shapes == "x:8x512"
    assert multi.layers["profile_index"].value_counts().to_dict() == {0: 5, 1: 5}


def test_dynamic_shapes_show_each_profile_range(tmp_path):
    """The docs' field list with a dynamic batch: min/opt/max per profile are the engine's input shapes."""
    doc = json.loads((TRT11 / "names_only_trt11.graph.json").read_text())
    doc["I/O Tensors"][0].update(Dimensions=[-1, 3, 224, 224], ProfileInfo=[
        {"MinShape": [1, 3, 224, 224], "OptShape": [4, 3, 224, 224], "MaxShape": [8, 3, 224, 224], "Format": "Row major linear FP32 format (kLINEAR)"},
        {"MinShape": [16, 3, 224, 224], "OptShape": [32, 3, 224, 224], "MaxShape": [64, 3, 224, 224], "Format": "Row major linear FP32 format (kLINEAR)"}])
    path = tmp_path / "dynamic.graph.json"
    path.write_text(json.dumps(doc))
    summary = summarize_engine(load_one(path))
    assert summary["input_shapes"] == ("input_0:-1x3x224x224 (profile 0 min 1x3x224x224, opt 4x3x224x224, max 8x3x224x224; "
                                       "profile 1 min 16x3x224x224, opt 32x3x224x224, max 64x3x224x224)")
    assert summary["io_tensors"][0]["profiles"][1] == {"min": [16, 3, 224, 224], "opt": [32, 3, 224, 224], "max": [64, 3, 224, 224]}


@pytest.mark.parametrize("bad,message", [
    ({"Layers": ["a"], "I/O Tensors": "input"}, '"I/O Tensors" is not a list of tensor objects'),
    ({"Layers": ["a"], "I/O Tensors": [{"Name": "x", "ProfileInfo": {}}]}, 'has a "ProfileInfo" that is not a list'),
])
def test_damaged_io_tensors_are_one_clear_error(tmp_path, bad, message):
    from engine_core.errors import ArtifactFormatError

    path = tmp_path / "bad.graph.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(ArtifactFormatError, match=message):
        load_one(path)


def test_trtexec_11_log_has_no_precision_flags():
    """A TensorRT 11 trtexec log (TensorRT 10.16's, reshaped): the version, no build flags, and the same layers."""
    engine = load_one(TRT11 / "mnist_dumplayerinfo_trt11.log", TRT11 / "model-trained-exportLayerInfo.log")
    trt10 = load_one(FIXTURES / "h100-trt10-logs" / "result-04.log", FIXTURES / "h100-trt10-logs" / "model-trained-exportLayerInfo.log")
    assert engine.tensorrt_version == "11.0.0" and engine.build_precision is None
    assert trt10.build_precision == "FP32"
    summary, reference = summarize_engine(engine), summarize_engine(trt10)
    assert summary["requested_precision"] == {"precision": "FP32", "source": "inferred from layers"}
    assert reference["requested_precision"] == {"precision": "FP32", "source": "build flags"}
    assert summary["layers"] == reference["layers"] and summary["weights"] == reference["weights"]
    assert summary["layers"]["by_precision"] == {"FP32": 8, "INT32": 1}
    assert summary["input_shapes"] == "x:1x1x28x28" and engine.engine_size_bytes == trt10.engine_size_bytes


def test_the_onnx_named_by_a_trtexec_11_log_is_the_requested_precision(tmp_path):
    """rf-detr #1453 on TensorRT 11: the model asked for FP16, the engine runs FP32. The ONNX beside the log says so."""
    from onnx import TensorProto, helper, numpy_helper, save
    import numpy as np

    from engine_core.analysis.diagnose import diagnose

    graph_file = FIXTURES / "trex-rtx3090" / "fp32" / "resnet.onnx.engine.graph.json"
    (tmp_path / "resnet.graph.json").write_text(reshape_layer_info_text(graph_file.read_text()))
    weight = numpy_helper.from_array(np.ones((8, 8), np.float16), "fc.weight")
    node = helper.make_node("MatMul", ["x", "fc.weight"], ["y"], name="/fc/MatMul")
    model = helper.make_model(helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT16, [1, 8])],
                                                [helper.make_tensor_value_info("y", TensorProto.FLOAT16, [1, 8])], [weight]))
    save(model, str(tmp_path / "model_fp16.onnx"))
    (tmp_path / "resnet.log").write_text(
        "&&&& RUNNING TensorRT.trtexec [TensorRT v110000] [b11] # trtexec --onnx=model_fp16.onnx "
        "--exportLayerInfo=resnet.graph.json\n[12/01/2026-10:00:00] [I] === Build Options ===\n"
        "[12/01/2026-10:00:00] [I] Sparsity: Disabled\n"
        "&&&& PASSED TensorRT.trtexec [TensorRT v110000] [b11] # trtexec --onnx=model_fp16.onnx "
        "--exportLayerInfo=resnet.graph.json\n")
    engine = load_one(tmp_path)
    assert summarize_engine(engine)["requested_precision"] == {"precision": "FP16", "source": "the ONNX's types and Q/DQ"}
    check = next(f for f in diagnose(engine) if f.kind == "precision_not_applied")
    assert check.severity == "high" and "FP16" in check.message and "FP32 100%" in check.message


DOUBLES = REPO / "tests" / "doubles"
ENGINE = FIXTURES / "rtx3060-trt10" / "resnet18_fp16"


def _worker(tmp_path, double: str):
    from engine_core.build.engine_request import EngineBuildRequest
    from engine_core.models.zoo import sample_model_path

    request = EngineBuildRequest(str(sample_model_path("tiny_cnn")), "resnet18-api", precision="fp32", builder="tensorrt")
    tmp_path.mkdir()
    (tmp_path / "request.json").write_text(request.to_json())
    path = os.pathsep.join([str(DOUBLES / double), str(DOUBLES / "fake_tensorrt"), str(REPO)])
    return subprocess.run([sys.executable, "-m", "engine_core.build.worker", str(tmp_path / "request.json"),
                           str(tmp_path / "out")], capture_output=True, text=True, cwd=REPO, timeout=300,
                          env={**os.environ, "PYTHONPATH": path, "FAKE_TRT_ENGINE": str(ENGINE)})


def test_tensorrt_11_builder_is_strongly_typed_and_reads_back_the_new_inspector_shape(rtx_env, tmp_path):
    proc = _worker(tmp_path / "trt11", "fake_tensorrt11")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    engine = load_one(tmp_path / "trt11" / "out")
    graph = json.loads(next((tmp_path / "trt11" / "out").glob("*.graph.json")).read_text())
    assert "I/O Tensors" in graph and "Bindings" not in graph
    assert all("Format/Datatype" not in t for r in graph["Layers"] for t in r["Inputs"] + r["Outputs"])
    assert engine.builder == "TensorRT 11.99.0-double (Python API)" and engine.recipe == "fp32"
    assert engine.input_shapes == "input:1x3x224x224" and engine.profile_iterations == 50
    proc = _worker(tmp_path / "trt10", "fake_tensorrt")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    same = summarize_engine(load_one(tmp_path / "trt10" / "out"))
    ours = summarize_engine(engine)
    assert {k: ours[k] for k in ("layers", "weights", "requested_precision")} == {k: same[k] for k in ("layers", "weights", "requested_precision")}
    assert ours["layers"]["by_precision"] == {"FP16": 25, "NONE": 1}
    assert ours["latency_ms"]["per_layer_sum"] == pytest.approx(same["latency_ms"]["per_layer_sum"])


def test_the_builder_asks_tensorrt_10_for_strong_typing_and_11_for_nothing():
    from engine_core.build.tensorrt_api import needs_strongly_typed_flag

    assert needs_strongly_typed_flag("10.16.1") and needs_strongly_typed_flag("10.99.0-double")
    assert not needs_strongly_typed_flag("11.0.0") and not needs_strongly_typed_flag("11.99.0-double")
