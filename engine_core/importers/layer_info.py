"""Layer-info JSON (``trtexec --exportLayerInfo``, ``IEngineInspector`` kJSON).

Reads every shape TensorRT 8.2-10.x writes: ``{"Layers": [...], "Bindings": [...]}``
with detailed records or names only (a list of strings), per-layer JSON blocks
written one after another, and several ``Layers`` documents in one file. The
records stay the dicts ``json`` produced; :mod:`engine_core.layer_table` turns
them into the canonical table column by column.

Format: ``printLayerInfo`` in trtexec's sampleReporting.cpp and
https://docs.nvidia.com/deeplearning/tensorrt/latest/inference-library/engine-tools.html
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine_core.errors import ArtifactFormatError
from engine_core.importers.jsonio import read_json_documents

DETAILED_HINT = ("Rebuild or re-export with `--profilingVerbosity=detailed` "
                 "(ProfilingVerbosity.DETAILED) to get types, tensors and tactics.")


@dataclass
class LayerInfo:
    """Raw layer records of one engine and its I/O binding names."""

    records: list[dict]
    bindings: list[str]
    detailed: bool
    warnings: list[str] = field(default_factory=list)


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
    for doc in docs:
        if isinstance(doc, dict) and "Layers" in doc:
            layers = doc["Layers"]
            if not isinstance(layers, list):
                raise ArtifactFormatError(str(path), '"Layers" is not a list.', "Re-export with trtexec --exportLayerInfo.")
            records.extend(layers)
            bindings.extend(str(b) for b in doc.get("Bindings") or [])
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
    return LayerInfo(records=records, bindings=bindings, detailed=detailed, warnings=warnings)
