"""The per-layer text tables trtexec prints, turned into inspector-shaped records.

Three text forms, each into the same dicts the layer-info JSON holds
(``Name``, ``LayerType``, ``Inputs``/``Outputs`` with ``Format/Datatype`` and
``Dimensions``), so one table builder serves JSON and text alike:

* ``--dumpLayerInfo`` one-line records (``Name: x, LayerType: y, Inputs: [ { ... }], ...``),
  printed by ``getLayerInformation(kONELINE)``.
* The verbose builder's "Engine Layer Information" lines, in two shapes:
  TensorRT 8.2 ``Layer(i8816cudnn): Conv_21, Tactic: -1828..., 157[Int8(256,52,52)] -> 159[Int8(128,52,52)]``
  (issue #1179) and 8.5+ ``Layer(Myelin): name, Tactic: 0x0..., x (Float[-1,1,28,28]) -> relu (Float[-1,32,28,28])``.
* ``--dumpProfile`` tables in all three layouts of ``Profiler::print``: TensorRT 7/8.2
  name-first with three numbers, 8.4/8.5 name-first with a median column, and
  8.6+ numbers-first (``Time(ms) Avg.(ms) Median(ms) Time(%) Layer``).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from engine_core.importers.profile import PROFILE_COLUMNS

# ---- --dumpLayerInfo one-line records -------------------------------------------------

_ONELINE_KEY = re.compile(r", (?=[A-Z][A-Za-z0-9/]*:(?: |$))")
_TENSOR_LISTS = ("Inputs", "Outputs", "Constants")


def _split_top_level(text: str) -> list[str]:
    """Split ``Key: value, Key: value`` at commas that are outside brackets and braces."""
    parts, start, depth, pos = [], 0, 0, 0
    for match in _ONELINE_KEY.finditer(text):
        segment = text[pos:match.start()]
        depth += segment.count("[") + segment.count("{") - segment.count("]") - segment.count("}")
        pos = match.start()
        if depth <= 0:
            parts.append(text[start:match.start()])
            start = match.end()
    parts.append(text[start:])
    return parts


def record_from_oneline(line: str) -> dict:
    """Parse one ``--dumpLayerInfo`` line (or a ``Layers:`` line of a builder log) into an inspector-style record."""
    record: dict = {}
    for part in _split_top_level(line):
        key, sep, value = part.partition(":")
        if not sep:
            continue
        record[key.strip()] = _oneline_value(key.strip(), value.strip())
    return record


def _oneline_value(key: str, value: str):
    if key in _TENSOR_LISTS:
        return _oneline_tensors(value)
    if key in ("Name", "Metadata", "TacticName", "LayerType", "ParameterType"):
        return value
    if value[:1] in "[{" or re.fullmatch(r"-?\d+", value):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _oneline_tensors(value: str) -> list[dict]:
    """``[ { Name: x, Dimensions: [..], Format/Datatype: .. }, ...]`` in either shape TensorRT prints.

    trtexec (TensorRT 8.6-10) prints ``Name, Location, Dimensions, Format/Datatype``;
    TensorRT-RTX builder logs print ``Name, Dimensions, Strides, StrideOrder, Datatype,
    Format`` (the split keys the trt-perf-analysis skill also accepts).
    """
    tensors = []
    for body in re.findall(r"\{ (.*?) \}(?=\s*(?:,\s*\{|\]|$))", value):
        tensor: dict = {}
        for part in _split_top_level(body):
            key, sep, raw = part.partition(": ")
            if not sep:
                continue
            key = key.strip()
            if key in ("Dimensions", "Strides", "StrideOrder"):
                tensor[key] = _ints(raw.strip().strip("[]"))
            else:
                tensor[key] = raw.strip()
        if "Name" in tensor:
            tensor.setdefault("Location", "Device")
            tensors.append(tensor)
    return tensors


def _ints(text: str) -> list[int]:
    out = []
    for token in text.split(","):
        token = token.strip().split(":")[0]  # "32:8" is a vectorized channel dim
        if re.fullmatch(r"-?\d+", token):
            out.append(int(token))
    return out


# ---- verbose "Engine Layer Information" lines ----------------------------------------

_VERBOSE_LAYER = re.compile(r"^Layer\((?P<type>[^)]*)\): (?P<name>.*?), Tactic: (?P<tactic>-?\w+), "
                            r"(?P<inputs>.*?) ?-> (?P<outputs>.*)$")
_TENSOR_V85 = re.compile(r"(?:^|, )(?P<name>.+?) \((?P<dtype>[A-Za-z0-9]+)\[(?P<dims>[^\]]*)\]\)")
_TENSOR_V82 = re.compile(r"(?:^|, )(?P<name>.+?)\[(?P<dtype>[A-Za-z0-9]+)\((?P<dims>[^)]*)\)\]")


def record_from_verbose_layer(line: str) -> dict | None:
    """Parse one builder ``Layer(Type): name, Tactic: t, in -> out`` line; None if it is not one."""
    match = _VERBOSE_LAYER.match(line)
    if not match:
        return None
    return {
        "Name": match["name"],
        "LayerType": match["type"],
        "Inputs": _verbose_tensors(match["inputs"]),
        "Outputs": _verbose_tensors(match["outputs"]),
        "TacticValue": match["tactic"],
    }


def _verbose_tensors(text: str) -> list[dict]:
    text = text.strip()
    if not text:
        return []
    pattern = _TENSOR_V85 if _TENSOR_V85.search(text) else _TENSOR_V82
    return [{"Name": m["name"], "Dimensions": _ints(m["dims"]), "Format/Datatype": m["dtype"]}
            for m in pattern.finditer(text)]


# ---- --dumpProfile tables ---------------------------------------------------------------

_NUM = r"(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
_ROW_NUMBERS_FIRST = re.compile(rf"^\s*{_NUM}\s+{_NUM}\s+{_NUM}\s+{_NUM}\s+(?P<name>\S.*?)\s*$")
_ROW_NAME_FIRST_4 = re.compile(rf"^\s*(?P<name>\S.*?)\s+{_NUM}\s+{_NUM}\s+{_NUM}\s+{_NUM}\s*$")
_ROW_NAME_FIRST_3 = re.compile(rf"^\s*(?P<name>\S.*?)\s+{_NUM}\s+{_NUM}\s+{_NUM}\s*$")
_PROFILE_HEADER = re.compile(r"=== Profile \((\d+) iterations \) ===")


def profile_layout(header: str) -> str | None:
    """Which ``Profiler::print`` layout a column-header line belongs to."""
    if re.search(r"Time\(ms\)\s+Avg\.\(ms\)\s+Median\(ms\)\s+Time\(%\)\s+Layer", header):
        return "numbers_first"            # TensorRT 8.6+
    if re.search(r"Layer\s+Time \(ms\)\s+Avg\. Time \(ms\)\s+Median Time \(ms\)\s+Time %", header):
        return "name_first_median"        # TensorRT 8.4 / 8.5
    if re.search(r"Layer\s+Time \(ms\)\s+Avg\. Time \(ms\)\s+Time %", header):
        return "name_first"               # TensorRT 7.x - 8.2
    return None


def profile_rows(layout: str, line: str) -> tuple[str, float, float, float, float] | None:
    """Parse one table row as ``(name, total_ms, avg_ms, median_ms, pct)``; None if not a row."""
    if layout == "numbers_first":
        m = _ROW_NUMBERS_FIRST.match(line)
        return (m["name"], float(m[1]), float(m[2]), float(m[3]), float(m[4])) if m else None
    if layout == "name_first_median":
        m = _ROW_NAME_FIRST_4.match(line)
        return (m["name"], float(m[2]), float(m[3]), float(m[4]), float(m[5])) if m else None
    m = _ROW_NAME_FIRST_3.match(line)
    return (m["name"], float(m[2]), float(m[3]), np.nan, float(m[4])) if m else None


def profile_frame(rows: list[tuple]) -> pd.DataFrame:
    """Build the profile frame (without the ``Total`` row)."""
    rows = [r for r in rows if r[0] != "Total"]
    frame = pd.DataFrame(rows, columns=list(PROFILE_COLUMNS))
    for col in PROFILE_COLUMNS[1:]:
        frame[col] = frame[col].astype("float64")
    return frame


def profile_iterations(line: str) -> int | None:
    m = _PROFILE_HEADER.search(line)
    return int(m[1]) if m else None
