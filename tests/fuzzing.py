"""Mutations of real artifacts, shared by the Hypothesis property tests and the `make fuzz` campaign.

Every importer is fed its own real inputs (``../shared/fixtures`` and ``tests/data``) after one or
more of the damage users' files really suffer: truncation, flipped bytes, deleted or duplicated
spans, junk, a BOM, numbers turned into NaN/inf/huge values, wrong JSON types, deep nesting, and
documents duplicated or concatenated. The contract under test: each input ends in a result or in a
single :class:`~engine_core.errors.LayerLensError` with a message, never any other exception.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

from conftest import DATA, FIXTURES
from engine_core.engine import Artifact, engine_from_artifacts
from engine_core.importers.sniff import ArtifactKind

#: importer name -> (artifact kind, seed files)
SEEDS: dict[str, tuple[ArtifactKind, list[Path]]] = {
    "layer_info_json": (ArtifactKind.LAYER_INFO, [
        FIXTURES / "trex-rtx3090" / "qat" / "resnet-qat.onnx.engine.graph.json",
        FIXTURES / "rtx3060-trt10" / "mobilenet_v2_fp16.graph.json",
        DATA / "layer_info" / "trt10_multiprofile.graph.json", DATA / "layer_info" / "names_only.graph.json",
        DATA / "layer_info" / "per_layer_blocks.layers.json", DATA / "inspector" / "resnet18_first6.layers.txt",
        DATA / "fused" / "convactpool.graph.json"]),
    "profile_json": (ArtifactKind.PROFILE, [
        FIXTURES / "trex-rtx3090" / "fp16" / "resnet.onnx.engine.profile.json",
        DATA / "profiles" / "two_runs_no_median.profile.json", DATA / "trt7" / "trt7_sweep.profile.json"]),
    "times_json": (ArtifactKind.TIMES, [FIXTURES / "rtx3060-trt10" / "resnet18_fp16.timing.json",
                                        DATA / "trt7" / "trt7_sweep.times.json"]),
    "trex_metadata": (ArtifactKind.PROFILE_METADATA, [
        FIXTURES / "trex-rtx3090" / "qat" / "resnet-qat.onnx.engine.profile.metadata.json",
        FIXTURES / "trex-rtx3090" / "qat" / "resnet-qat.onnx.engine.build.metadata.json"]),
    "trtexec_log": (ArtifactKind.TRTEXEC_LOG, [
        FIXTURES / "h100-trt10-logs" / n for n in ("result-02.log", "result-04.log", "result-05.log")] + [
        DATA / "logs" / "trt82_int8_verbose_profile.log", DATA / "logs" / "pasted_issue_fragment.txt",
        DATA / "fused" / "convactpool_dumplayerinfo.log", DATA / "trt7" / "trt7_sweep.log"]),
    "polygraphy_text": (ArtifactKind.POLYGRAPHY_INSPECT, [DATA / "polygraphy" / "mnist_inspect_layers.txt",
                                                         DATA / "polygraphy" / "mnist_inspect_with_runtime_log.txt"]),
    "calibration_cache": (ArtifactKind.CALIBRATION_CACHE, [
        FIXTURES / "calib" / "rmccorm4_imagenet_trt6001_4models" / "vgg16.cache",
        FIXTURES / "calib" / "dsref_yolo_trt5_header1_unnamed_itensor" / "yolov2-tiny-calibration.table",
        DATA / "calib" / "traps_crlf_junk.cache"]),
}

_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_REPLACEMENTS = (b"NaN", b"Infinity", b"-1", b"1e309", b"99999999999999999999999", b"null", b'"x"', b"[]", b"{}", b"0")
_TYPE_SWAPS = ((b'": [', b'": {'), (b'": {', b'": ['), (b'": "', b'": 7'), (b'": [', b'": "'), (b'": {', b'": null'))


def mutate(data: bytes, rng: random.Random, rounds: int | None = None) -> bytes:
    """Apply 1-3 random mutations to ``data``."""
    for _ in range(rounds or rng.randint(1, 3)):
        data = _MUTATIONS[rng.randrange(len(_MUTATIONS))](data, rng)
    return data


def _truncate(d, r):
    return d[: r.randrange(len(d) + 1)]


def _flip(d, r):
    if not d:
        return d
    i = r.randrange(len(d))
    return d[:i] + bytes([d[i] ^ (1 << r.randrange(8))]) + d[i + 1:]


def _delete(d, r):
    if not d:
        return d
    i = r.randrange(len(d))
    return d[:i] + d[i + r.randint(1, 200):]


def _duplicate(d, r):
    if not d:
        return d
    i = r.randrange(len(d))
    j = min(len(d), i + r.randint(1, 400))
    return d[:j] + d[i:j] + d[j:]


def _junk(d, r):
    i = r.randrange(len(d) + 1)
    return d[:i] + bytes(r.randrange(256) for _ in range(r.randint(1, 40))) + d[i:]


def _bom(d, r):
    return b"\xef\xbb\xbf" + d


def _number(d, r):
    spans = list(_NUMBER.finditer(d[:200_000]))
    if not spans:
        return d
    m = spans[r.randrange(len(spans))]
    return d[: m.start()] + _REPLACEMENTS[r.randrange(len(_REPLACEMENTS))] + d[m.end():]


def _types(d, r):
    old, new = _TYPE_SWAPS[r.randrange(len(_TYPE_SWAPS))]
    hits = [m.start() for m in re.finditer(re.escape(old), d[:200_000])]
    if not hits:
        return d
    i = hits[r.randrange(len(hits))]
    return d[:i] + new + d[i + len(old):]


def _nest(d, r):
    depth = r.choice((50, 2000, 100_000))
    return b"[" * depth + d + b"]" * depth


def _concat(d, r):
    return d + r.choice((b"\n", b"", b",", b"\x1e", b"\n--- Layer 9 ---\n")) + d


def _crlf(d, r):
    return d.replace(b"\n", b"\r\n")


_MUTATIONS = (_truncate, _flip, _delete, _duplicate, _junk, _bom, _number, _types, _nest, _concat, _crlf)


def import_bytes(kind: ArtifactKind, data: bytes, path: Path):
    """Write ``data`` as one artifact and read it through the whole import path (reader + layer table)."""
    path.write_bytes(data)
    return engine_from_artifacts("fuzz", [Artifact(path, kind)])
