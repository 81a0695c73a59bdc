"""TREx's ``<engine>.build.metadata.json`` and ``<engine>.profile.metadata.json``.

TREx's ``process_engine.py`` parsed the trtexec build and profiling logs into
these files: ``{"model_options", "build_options", "device_information"}`` and
``{"performance_summary", "inference_options", "device_information"}``. Values
are strings except the summary lists ``[min, max, mean, median, p...]``.
https://github.com/NVIDIA/TensorRT/blob/release/10.16/tools/experimental/trt-engine-explorer/utils/parse_trtexec_log.py
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine_core.errors import ArtifactFormatError
from engine_core.importers.jsonio import read_json_documents
from engine_core.importers.times import TimingStats


@dataclass
class EngineMetadata:
    """Build/run facts from metadata files or a trtexec log (all optional)."""

    model_options: dict = field(default_factory=dict)
    build_options: dict = field(default_factory=dict)
    inference_options: dict = field(default_factory=dict)
    device_information: dict = field(default_factory=dict)
    summary: dict[str, TimingStats] = field(default_factory=dict)
    throughput_qps: float | None = None


def read_trex_metadata(path: str | Path) -> EngineMetadata:
    """Read either TREx metadata file.

    Raises:
        ArtifactFormatError: not JSON, or none of the expected sections.
    """
    docs = read_json_documents(path)
    doc = docs[0] if len(docs) == 1 else None
    sections = ("model_options", "build_options", "performance_summary", "inference_options", "device_information")
    if not isinstance(doc, dict) or not any(k in doc for k in sections):
        raise ArtifactFormatError(str(path), "is not a TREx metadata file (no build_options or performance_summary).",
                                  "Pass <engine>.build.metadata.json or <engine>.profile.metadata.json.")
    meta = EngineMetadata(
        model_options=_str_dict(doc.get("model_options")),
        build_options=_str_dict(doc.get("build_options")),
        inference_options=_str_dict(doc.get("inference_options")),
        device_information=_str_dict(doc.get("device_information")),
    )
    perf = doc.get("performance_summary") or {}
    for key, value in perf.items():
        if isinstance(value, list) and len(value) >= 4:
            try:
                meta.summary[key] = TimingStats.from_trtexec_list(value)
            except (TypeError, ValueError):
                continue
    if isinstance(perf.get("Throughput"), (int, float)):
        meta.throughput_qps = float(perf["Throughput"])
    return meta


def _str_dict(section) -> dict:
    if not isinstance(section, dict):
        return {}
    return {str(k): ("" if v is None else str(v)) for k, v in section.items()}
