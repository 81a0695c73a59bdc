"""Reshapes real TensorRT 8/10 inspector output into TensorRT 11's shape, and writes tests/data/trt11/.

TensorRT 11 changed the inspector JSON (TensorRT 11 docs, "Migrating IEngineInspector Usage from TensorRT 10.x
to 11.x": https://docs.nvidia.com/deeplearning/tensorrt/latest/api/migration/tensorrt-10x-to-11x-IEngineInspector.html):
``Bindings`` (names) became ``I/O Tensors`` objects ``{Name, IOMode, DataType, Dimensions, Location,
IsShapeInferenceIO, ProfileInfo: [{MinShape, OptShape, MaxShape, Format}]}``, and each layer tensor's
``Format/Datatype`` string is split into ``Format`` (the layout) and ``DataType``. No TensorRT 11 engine can be
built here (no GPU), so the fixtures are real engines' exports with exactly those changes applied: same layers,
same values, new field layout. The tests import :func:`reshape_layer_info_text` to reshape every layer-info
fixture on the fly. Run: python tests/tools/make_trt11_fixtures.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from engine_core.importers.jsonio import parse_json_documents  # noqa: E402
from engine_core.precision import precision_from_datatype  # noqa: E402

FIXTURES = REPO.parent / "shared" / "fixtures"
OUT = REPO / "tests" / "data" / "trt11"

# nvinfer1::DataType as the inspector names it (the short names kgen/Myelin layers already used in TensorRT 10).
_DATATYPE_NAMES = {"FP32": "Float", "FP16": "Half", "BF16": "BFloat16", "INT8": "Int8", "INT32": "Int32",
                   "INT64": "Int64", "BOOL": "Bool", "FP8": "FP8", "INT4": "Int4", "FP4": "FP4"}
_DATATYPE_WORD = re.compile(r"\b(?:FP32|FP16|Half|Float|BFloat16|BF16|Int8|INT8|UInt8|Int32|INT32|Int64|INT64|Bool|"
                            r"FP8|Int4|INT4|FP4E2M1|FP4)\b ?")
_PROFILE = re.compile(r"^(.*) \[profile (\d+)\]$")


def split_tensor(tensor: dict) -> dict:
    """One layer tensor with ``Format/Datatype`` split into ``Format`` (layout, dtype word removed) and ``DataType``.

    A bare datatype (``"Half"``, as kgen layers wrote it) names no layout: it becomes ``DataType`` alone.
    """
    if not isinstance(tensor, dict) or "Format/Datatype" not in tensor:
        return tensor
    out = {}
    for key, value in tensor.items():
        if key != "Format/Datatype":
            out[key] = value
            continue
        layout = " ".join(_DATATYPE_WORD.sub("", value).split())
        if layout:
            out["Format"] = layout
        out["DataType"] = _DATATYPE_NAMES.get(precision_from_datatype(value), value)
    return out


def reshape_record(record):
    """A layer record with every input and output tensor split (names-only strings stay as they are)."""
    if not isinstance(record, dict):
        return record
    return {k: [split_tensor(t) for t in v] if k in ("Inputs", "Outputs") and isinstance(v, list) else v
            for k, v in record.items()}


def io_tensors(bindings: list[str], records: list) -> list[dict]:
    """``I/O Tensors`` for TensorRT 10 ``Bindings``: mode, type and shape from the tensor of that name in the layers.

    TensorRT 10 lists a binding once per optimization profile (``x [profile 1]``); TensorRT 11 lists the tensor
    once with one ``ProfileInfo`` entry per profile. A binding no layer reads or writes is left out (names-only
    exports have no tensors to take a type or shape from).
    """
    wanted = set(bindings)
    written: dict[str, dict] = {}
    read: dict[str, dict] = {}
    for record in records:
        if isinstance(record, dict):
            for key, seen in (("Outputs", written), ("Inputs", read)):
                for t in record.get(key) or []:
                    if isinstance(t, dict) and t.get("Name") in wanted:
                        seen.setdefault(t["Name"], t)
    # A network output is written by a layer; a network input only read.
    found = {b: ("Output", written[b]) if b in written else ("Input", read[b]) for b in bindings if b in written or b in read}
    tensors: dict[str, dict] = {}
    for binding in bindings:
        if binding not in found:
            continue
        mode, t = found[binding]
        m = _PROFILE.match(binding)
        name = m[1] if m else binding
        dims = list(t.get("Dimensions") or [])
        entry = tensors.setdefault(name, {
            "Name": name, "IOMode": mode, "DataType": _DATATYPE_NAMES.get(precision_from_datatype(t.get("Format/Datatype")),
                                                                        t.get("Format/Datatype")),
            "Dimensions": dims, "Location": t.get("Location", "Device"), "IsShapeInferenceIO": False, "ProfileInfo": []})
        entry["ProfileInfo"].append({"MinShape": dims, "OptShape": dims, "MaxShape": dims,
                                     "Format": t.get("Format/Datatype")})
        if dims != entry["Dimensions"]:  # the profiles differ: the engine's own shape is dynamic there
            entry["Dimensions"] = [a if a == b else -1 for a, b in zip(entry["Dimensions"], dims)]
    return list(tensors.values())


def reshape_document(doc):
    """A whole-engine document (``Layers`` + ``Bindings``), a per-layer block, or a list, in TensorRT 11's shape."""
    if isinstance(doc, dict) and "Layers" in doc:
        records = doc["Layers"]
        out = {k: v for k, v in doc.items() if k != "Bindings"}
        out["Layers"] = [reshape_record(r) for r in records]
        if "Bindings" in doc:
            out["I/O Tensors"] = io_tensors([str(b) for b in doc["Bindings"]], records)
        return out
    if isinstance(doc, list):
        return [reshape_record(r) for r in doc]
    return reshape_record(doc)


def reshape_layer_info_text(text: str) -> str:
    """A layer-info file in TensorRT 11's shape; per-layer blocks stay one block per layer, each after a label."""
    docs = parse_json_documents(text, "<layer info>")
    if len(docs) == 1:
        return json.dumps(reshape_document(docs[0]), indent=1)
    return "".join(f"--- Layer {i} ---\n{json.dumps(reshape_document(d), indent=1)}\n" for i, d in enumerate(docs))


_ONELINE_TENSOR = re.compile(r"Format/Datatype: ([^}]*?) \}")


def reshape_trtexec_log(text: str) -> str:
    """A TensorRT 10 trtexec log as TensorRT 11's trtexec would print it.

    The banner and the version line say 11.0.0; the weak-typing build options TensorRT 11 removed (``Precision``,
    ``LayerPrecisions``, ``Layer Output Types``, ``Calibration``, ``Calibration Profile Index``) are gone; and
    the ``--dumpLayerInfo`` one-line tensors split ``Format/Datatype`` like the JSON does.
    """
    text = re.sub(r"\[TensorRT v\d+\]", "[TensorRT v110000]", text)
    text = re.sub(r"TensorRT version: [\d.]+", "TensorRT version: 11.0.0", text)
    text = re.sub(r"^.*\] (?:Precision|LayerPrecisions|Layer Output Types|Calibration|Calibration Profile Index):.*\n",
                  "", text, flags=re.MULTILINE)

    def split(match: re.Match) -> str:
        tensor = split_tensor({"Format/Datatype": match[1].strip()})
        return ", ".join(f"{k}: {v}" for k, v in tensor.items()) + " }"

    return _ONELINE_TENSOR.sub(split, text)


#: (source, written name): real exports reshaped. Names end in _trt11 so they never collide with the originals.
SOURCES = [
    (FIXTURES / "rtx3060-trt10" / "resnet18_fp16.graph.json", "resnet18_fp16_trt11.graph.json"),
    (REPO / "tests" / "data" / "layer_info" / "trt10_multiprofile.graph.json", "multiprofile_trt11.graph.json"),
    (REPO / "tests" / "data" / "inspector" / "resnet18_first6.layers.txt", "resnet18_first6_trt11.layers.txt"),
    (FIXTURES / "h100-trt10-logs" / "model-trained-exportLayerInfo.log", "model-trained-exportLayerInfo.log"),
]
LOGS = [(FIXTURES / "h100-trt10-logs" / "result-04.log", "mnist_dumplayerinfo_trt11.log")]

# The docs' own example engine: two I/O tensors, layer names only (ProfilingVerbosity kLAYER_NAMES_ONLY).
NAMES_ONLY = {
    "Layers": ["/conv1/Conv + /relu/Relu", "/maxpool/MaxPool", "{ForeignNode[/fc/Gemm]}"],
    "I/O Tensors": [
        {"Name": "input_0", "IOMode": "Input", "DataType": "Float", "Dimensions": [1, 3, 224, 224], "Location": "Device",
         "IsShapeInferenceIO": False, "ProfileInfo": [{"MinShape": [1, 3, 224, 224], "OptShape": [1, 3, 224, 224],
                                                        "MaxShape": [1, 3, 224, 224],
                                                        "Format": "Row major linear FP32 format (kLINEAR)"}]},
        {"Name": "output_0", "IOMode": "Output", "DataType": "Float", "Dimensions": [1, 1000], "Location": "Device",
         "IsShapeInferenceIO": False, "ProfileInfo": [{"MinShape": [1, 1000], "OptShape": [1, 1000], "MaxShape": [1, 1000],
                                                        "Format": "Row major linear FP32 format (kLINEAR)"}]}]}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for source, name in SOURCES:
        (OUT / name).write_text(reshape_layer_info_text(source.read_text()) + "\n")
    for source, name in LOGS:
        # The reshaped log exports to the reshaped JSON beside it, which is the same engine.
        (OUT / name).write_text(reshape_trtexec_log(source.read_text()))
    (OUT / "names_only_trt11.graph.json").write_text(json.dumps(NAMES_ONLY, indent=1) + "\n")


if __name__ == "__main__":
    main()
