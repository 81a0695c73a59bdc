"""Layer-info JSON (``trtexec --exportLayerInfo``, ``IEngineInspector`` kJSON).

Reads every shape TensorRT 8.2-11.x writes: ``{"Layers": [...], "Bindings": [...]}``
with detailed records or names only (a list of strings), per-layer JSON blocks
written one after another, and several ``Layers`` documents in one file.
TensorRT 11 replaced ``Bindings`` (names) by ``I/O Tensors``, objects with
``Name, IOMode, DataType, Dimensions, Location, IsShapeInferenceIO`` and a
``ProfileInfo`` list of ``{MinShape, OptShape, MaxShape, Format}`` per
optimization profile, and split each layer tensor's ``Format/Datatype`` into
``Format`` and ``DataType`` (read by :mod:`engine_core.precision`). The records
stay the dicts ``json`` produced; :mod:`engine_core.layer_table` turns them into
the canonical table column by column.

Format: ``printLayerInfo`` in trtexec's sampleReporting.cpp,
https://docs.nvidia.com/deeplearning/tensorrt/latest/inference-library/engine-tools.html and
https://docs.nvidia.com/deeplearning/tensorrt/latest/api/migration/tensorrt-10x-to-11x-IEngineInspector.html
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine_core.errors import ArtifactFormatError
from engine_core.importers.jsonio import read_json_documents

DETAILED_HINT = ("Rebuild or re-export with `--profilingVerbosity=detailed` "
                 "(ProfilingVerbosity.DETAILED) to get types, tensors and tactics.")


@dataclass(frozen=True)
class IOTensor:
    """One engine input or output as TensorRT 11's inspector describes it.

    ``profiles`` holds one ``(min, opt, max)`` shape triple per optimization profile; dimensions are
    ints, -1 where the engine leaves them dynamic.
    """

    name: str
    mode: str                      # "Input" or "Output"
    datatype: str | None           # "Float", "Half", "Int8", ...
    dims: tuple[int, ...]
    profiles: tuple[tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]], ...] = ()
    shape_io: bool = False         # IsShapeInferenceIO: a shape tensor, not data

    @property
    def is_input(self) -> bool:
        return self.mode.lower() == "input"

    def to_json(self) -> dict:
        return {"name": self.name, "mode": self.mode, "datatype": self.datatype, "dims": list(self.dims),
                "profiles": [{"min": list(lo), "opt": list(opt), "max": list(hi)} for lo, opt, hi in self.profiles],
                "shape_io": self.shape_io}


@dataclass
class LayerInfo:
    """Raw layer records of one engine, its I/O binding names and (TensorRT 11) its I/O tensors."""

    records: list[dict]
    bindings: list[str]
    detailed: bool
    warnings: list[str] = field(default_factory=list)
    io_tensors: list[IOTensor] = field(default_factory=list)


def read_layer_info(path: str | Path) -> LayerInfo:
    """Read a layer-info JSON file.

    Raises:
        ArtifactFormatError: not JSON, or JSON without layer records.
    """
    return layer_info_from_documents(read_json_documents(path), path)


def layer_info_from_documents(docs: list, path: str | Path) -> LayerInfo:
    """Collect layer records from parsed JSON documents (see module doc)."""
    records: list = []
    bindings: list[str] = []
    io_tensors: list[IOTensor] = []
    for doc in docs:
        if isinstance(doc, dict) and "Layers" in doc:
            layers = doc["Layers"]
            if not isinstance(layers, list):
                raise ArtifactFormatError(str(path), '"Layers" is not a list.', "Re-export with trtexec --exportLayerInfo.")
            records.extend(layers)
            bindings.extend(str(b) for b in doc.get("Bindings") or [])
            found = io_tensors_from_json(doc.get("I/O Tensors"), path)
            io_tensors.extend(found)
            bindings.extend(t.name for t in found)
        elif isinstance(doc, dict) and "Name" in doc:
            records.append(doc)
        elif isinstance(doc, list):
            records.extend(doc)
        else:
            raise ArtifactFormatError(
                str(path), "is JSON but holds no TensorRT layer records (no \"Layers\" key).",
                "Pass the file written by `trtexec --exportLayerInfo=<file>`.")
    if not records:
        raise ArtifactFormatError(str(path), "has an empty layer list.",
                                  "The engine inspector printed nothing; " + DETAILED_HINT)
    detailed = isinstance(records[0], dict)
    warnings: list[str] = []
    if not detailed:
        # kLAYER_NAMES_ONLY (trtexec's default verbosity) writes plain strings.
        records = [{"Name": str(r)} for r in records]
        warnings.append(f"{Path(path).name}: layer info has names only. " + DETAILED_HINT)
    elif not all(isinstance(r, dict) for r in records):
        raise ArtifactFormatError(str(path), "mixes layer records and plain strings.",
                                  "Re-export the layer info from one trtexec run.")
    return LayerInfo(records=records, bindings=bindings, detailed=detailed, warnings=warnings, io_tensors=io_tensors)


def io_tensors_from_json(items, path: str | Path) -> list[IOTensor]:
    """TensorRT 11's ``I/O Tensors`` list as :class:`IOTensor` objects (an absent list is empty).

    Raises:
        ArtifactFormatError: the list or one of its entries has the wrong JSON type.
    """
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(t, dict) and "Name" in t for t in items):
        raise ArtifactFormatError(str(path), '"I/O Tensors" is not a list of tensor objects with a "Name".',
                                  "Re-export the layer info with TensorRT 11's trtexec --exportLayerInfo.")
    out = []
    for t in items:
        profiles = t.get("ProfileInfo")
        profiles = [] if profiles is None else profiles
        if not isinstance(profiles, list):
            raise ArtifactFormatError(str(path), f'tensor {t["Name"]!r} has a "ProfileInfo" that is not a list.',
                                      "Re-export the layer info with TensorRT 11's trtexec --exportLayerInfo.")
        out.append(IOTensor(
            name=str(t["Name"]), mode=str(t.get("IOMode") or ""), datatype=t.get("DataType") or None,
            dims=_shape(t.get("Dimensions")), shape_io=bool(t.get("IsShapeInferenceIO")),
            profiles=tuple((_shape(p.get("MinShape")), _shape(p.get("OptShape")), _shape(p.get("MaxShape")))
                           for p in profiles if isinstance(p, dict))))
    return out


def _shape(value) -> tuple[int, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, int) and not isinstance(v, bool))
