"""Test data made from real fixtures: an engine's "renamed twin", as a second ONNX export would give.

The twin is the same engine (same layers, tensors, formats, tactics and times) in which every layer
name is replaced and ``Metadata`` is stripped, so nothing but structure ties it to the original: the
case of two separate exports of one model (``Conv_3 + Relu_4`` vs ``layer1.0.conv1.weight + Conv_22``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

REFORMAT_PREFIX = "Reformatting CopyNode for Input Tensor 0 to "


def _new_name(name: str, index: int) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    if name.startswith("Reformatting CopyNode"):
        return f"Reformatting CopyNode for Input Tensor 0 to twin_{digest}"
    return f"node_{index:04d}_{digest}"


def write_renamed_twin(graph: Path, profile: Path | None, out_dir: Path, stem: str = "twin") -> list[Path]:
    """Write ``<stem>.graph.json`` (and ``.profile.json``) with every layer renamed; returns the files."""
    doc = json.loads(graph.read_text())
    layers = doc["Layers"]
    mapping = {}
    for i, layer in enumerate(layers):
        mapping[layer["Name"]] = _new_name(layer["Name"], i)
        layer["Name"] = mapping[layer["Name"]]
        layer.pop("Metadata", None)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [out_dir / f"{stem}.graph.json"]
    files[0].write_text(json.dumps(doc))
    if profile is not None:
        records = json.loads(profile.read_text())
        for record in records:
            if "name" in record:
                record["name"] = mapping.get(record["name"], record["name"])
        files.append(out_dir / f"{stem}.profile.json")
        files[1].write_text(json.dumps(records))
    return files
