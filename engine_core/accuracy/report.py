"""What an accuracy measurement found, and its JSON form: the ``--json`` output and the ``.accuracy.json`` artifact.

One shape serves both. A build writes ``<stem>.accuracy.json`` beside its build log
(the baseline is the model the recipe started from), so the numbers travel with the
run in bundles and reports; :mod:`engine_core.importers.accuracy_json` reads it back.
Per-node rows are keyed by ONNX node name; the engine layers are joined at read time
(:mod:`engine_core.accuracy.join`), because the build worker writes this file before the
build log is parsed.

Strict JSON: SQNR of identical tensors is infinite and written ``"sqnr_db": null,
"identical": true``; an SQNR that cannot be computed (non-finite candidate values, a
zero reference) is ``null`` with ``"identical": false``. In memory both are floats
(``inf``, ``nan``) so sorting and comparing stay numeric. Pure Python + pandas.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from engine_core.accuracy.metrics import finite_or_none

FORMAT_KEY = "layerlens_accuracy"
FORMAT_VERSION = 1
ARTIFACT_SUFFIX = ".accuracy.json"
#: The inputs label of a build that runs the float model itself (FP32): nothing was run, it is identical.
SELF_LABEL = "the float model itself"
#: Per-node columns: the candidate node's precision (INT8/FP8 when it reads Q/DQ, FP16, FP32), the SQNR of its
#: output against the baseline's same tensor, the worst SQNR of its activation inputs, and its *local* SQNR:
#: signal over the noise the node adds itself (output relative noise minus input relative noise). Errors
#: accumulate, so a late node's own SQNR is low even when it adds little; the local SQNR says who adds it
#: (lower is noisier: the ranking ``advise`` uses). NaN when the node adds none (a max pool, a clean residual).
NODE_COLUMNS = ("onnx_node", "op_type", "precision", "sqnr_db", "input_sqnr_db", "local_sqnr_db")


def empty_nodes() -> pd.DataFrame:
    return pd.DataFrame({"onnx_node": pd.Series([], dtype=object), "op_type": pd.Series([], dtype=object),
                         "precision": pd.Series([], dtype=object), "sqnr_db": pd.Series([], dtype=float),
                         "input_sqnr_db": pd.Series([], dtype=float), "local_sqnr_db": pd.Series([], dtype=float)})


@dataclass
class OutputAccuracy:
    """One model output compared: SQNR (``inf`` identical, ``nan`` not computable), worst per-sample cosine,
    largest absolute error, and top-1 agreement for ``(batch, classes)`` outputs."""

    name: str
    sqnr_db: float
    cosine_min: float | None
    max_abs_error: float
    top1_agreement: float | None = None
    nonfinite_values: int = 0

    @property
    def identical(self) -> bool:
        return self.sqnr_db == math.inf

    def to_json(self) -> dict:
        return {"name": self.name, "sqnr_db": finite_or_none(self.sqnr_db), "identical": self.identical,
                "cosine_min": finite_or_none(self.cosine_min), "max_abs_error": finite_or_none(self.max_abs_error),
                "top1_agreement": finite_or_none(self.top1_agreement), "nonfinite_values": int(self.nonfinite_values)}

    @classmethod
    def from_json(cls, data: dict) -> "OutputAccuracy":
        return cls(str(data["name"]), _sqnr_from(data), data.get("cosine_min"), float(data.get("max_abs_error") or 0.0),
                   data.get("top1_agreement"), int(data.get("nonfinite_values") or 0))


@dataclass
class AccuracyReport:
    """A candidate model against a baseline, on stated inputs (see :mod:`engine_core.accuracy.inputs`)."""

    inputs: dict                     # {"source": "data"|"synthetic"|"none", "batches", "samples", "description"}
    outputs: list[OutputAccuracy]
    nodes: pd.DataFrame = field(default_factory=empty_nodes)   # NODE_COLUMNS, graph order
    baseline: dict = field(default_factory=dict)               # {"path", "sha256"}
    candidate: dict = field(default_factory=dict)              # {"path", "sha256", "recipe"}
    kept: dict = field(default_factory=dict)                   # {"fp16": [nodes], "fp32": [nodes]} (--keep)
    notes: list[str] = field(default_factory=list)

    @property
    def output(self) -> OutputAccuracy:
        """The first model output (the one a closing table or a card shows)."""
        return self.outputs[0]

    @property
    def synthetic(self) -> bool:
        return self.inputs.get("source") == "synthetic"

    @property
    def inputs_label(self) -> str:
        """``"synthetic inputs"``, ``"data: 12 batches"`` or :data:`SELF_LABEL`, for captions, legends, CSV columns."""
        source = self.inputs.get("source")
        return {"synthetic": "synthetic inputs", "data": f"data: {self.inputs.get('batches')} batches"}.get(source, SELF_LABEL)

    def statement(self) -> str:
        """One sentence for cards, reports and captions: the output error, against what, on which inputs."""
        o = self.output
        baseline = Path(self.baseline.get("path", "the baseline")).name
        if self.inputs.get("source") == "none":
            return f"Identical to {baseline}: this build runs the float model itself."
        extra = [f"min cosine {o.cosine_min:.5f}" if o.cosine_min is not None else None,
                 f"top-1 agreement {o.top1_agreement:.1%}" if o.top1_agreement is not None else None]
        extra = ", ".join(e for e in extra if e)
        inputs = self.inputs.get("description", "")
        tail = f"{inputs}: relative error between the two models, not task accuracy" if self.synthetic else inputs
        return (f"Output SQNR {format_sqnr(o.sqnr_db)} against {baseline}" + (f" ({extra})" if extra else "")
                + f", on {tail}.")

    def to_json(self, engine_layers: dict[str, list[str]] | None = None) -> dict:
        """The strict-JSON form (``--json`` and the artifact); ``engine_layers`` maps ONNX node -> engine layers."""
        engine_layers = engine_layers or {}
        nodes = self.nodes
        rows = [{"onnx_node": node, "engine_layers": list(engine_layers.get(node, [])),
                 "sqnr_db": finite_or_none(sqnr), "identical": bool(sqnr == math.inf), "op_type": op,
                 "precision": precision, "input_sqnr_db": finite_or_none(sqnr_in),
                 "input_identical": bool(sqnr_in == math.inf), "local_sqnr_db": finite_or_none(local)}
                for node, op, precision, sqnr, sqnr_in, local in zip(
                    nodes["onnx_node"], nodes["op_type"], nodes["precision"], nodes["sqnr_db"], nodes["input_sqnr_db"],
                    nodes["local_sqnr_db"])]
        return {FORMAT_KEY: FORMAT_VERSION, "inputs": dict(self.inputs), "output": self.output.to_json(),
                "outputs": [o.to_json() for o in self.outputs], "layers": rows, "baseline": dict(self.baseline),
                "candidate": dict(self.candidate), "kept": dict(self.kept), "notes": list(self.notes)}

    @classmethod
    def from_json(cls, data: dict) -> "AccuracyReport":
        """Inverse of :meth:`to_json` (engine layers are dropped: they are joined again on read).

        Raises:
            KeyError, TypeError, ValueError: the document does not have this shape.
        """
        rows = data.get("layers") or []
        nodes = pd.DataFrame({
            "onnx_node": [str(r["onnx_node"]) for r in rows], "op_type": [r.get("op_type") for r in rows],
            "precision": [r.get("precision") for r in rows], "sqnr_db": [_sqnr_from(r) for r in rows],
            "input_sqnr_db": [_sqnr_from(r, "input_sqnr_db", "input_identical") for r in rows],
            "local_sqnr_db": [np.nan if r.get("local_sqnr_db") is None else float(r["local_sqnr_db"]) for r in rows],
        }, columns=list(NODE_COLUMNS)) if rows else empty_nodes()
        nodes = nodes.astype({"sqnr_db": float, "input_sqnr_db": float, "local_sqnr_db": float})
        outputs = [OutputAccuracy.from_json(o) for o in data.get("outputs") or [data["output"]]]
        if not outputs:
            raise ValueError("no outputs")
        return cls(dict(data["inputs"]), outputs, nodes, dict(data.get("baseline") or {}),
                   dict(data.get("candidate") or {}), dict(data.get("kept") or {}), [str(n) for n in data.get("notes") or []])


def _sqnr_from(row: dict, key: str = "sqnr_db", identical_key: str = "identical") -> float:
    value = row.get(key)
    if value is None:
        return math.inf if row.get(identical_key) else math.nan
    return float(value)


def write_accuracy(report: AccuracyReport, path: str | Path) -> Path:
    """Write the artifact atomically (a reader never sees half a file)."""
    path = Path(path)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(report.to_json(), indent=1, allow_nan=False))
    os.replace(tmp, path)
    return path


def format_local_sqnr(value: float | None) -> str:
    """A node's local SQNR as text: ``"adds none"`` when it is unknown, since :mod:`~engine_core.accuracy.measure`
    leaves it out exactly when the node's output is no noisier than its inputs (a pool, a Flatten, a
    residual Add that averages noise away)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "adds none"
    return format_sqnr(value)


def format_sqnr(value: float | None, digits: int = 1) -> str:
    """``"28.6 dB"``, ``"identical"``, or ``"n/a"``: how every text view writes an SQNR."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if value == math.inf:
        return "identical"
    return f"{value:.{digits}f} dB"
