"""INT8 calibration caches: ``TRT-<version>-<Calibrator>`` then one ``<tensor>: <hex float32 scale>`` a line.

Written by ``IInt8Calibrator::writeCalibrationCache`` (trtexec ``--calib``, Polygraphy, DeepStream).
The hex is the big-endian IEEE-754 float32 scale; the tensor's dynamic range is scale x 127
(NVIDIA/TensorRT#625, #2036). Traps, all seen in real caches (``../shared/fixtures/calib``):

* the version tag has 4 digits before TensorRT 10 (``TRT-8601-`` is 8.6.1) and 6 from 10 on
  (``TRT-101401-`` is 10.14.1): ``major*1000+minor*100+patch`` vs ``major*10000+minor*100+patch``;
* TensorRT 5 wrote the header ``1`` (no version, no calibrator) and unnamed tensors out of order;
* names contain spaces, ``*``, brackets, ``::`` and ``:0`` suffixes: split on the *last* ``": "``;
* a zero scale may be written as a bare ``0``: pad the hex to 8 digits;
* scales can decode to +inf (``7f800000``) or absurd values (``7b17af5f``): kept, flagged later;
* CRLF line endings and trailing junk (a truncated last line, an editor's footer) must not sink the file.

A name may repeat; the last scale wins (what TensorRT's reader does) and the repeat is noted.
Pure Python; no pandas, no TensorRT.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from engine_core.errors import ArtifactFormatError
from engine_core.importers.jsonio import read_text

CALIBRATORS = ("EntropyCalibration2", "EntropyCalibration", "MinMaxCalibration", "LegacyCalibration")
HEADER = re.compile(r"^TRT-(?P<code>\d{4,6})-(?P<calibrator>[A-Za-z0-9]+)$")
_LINE = re.compile(r"^(?P<name>.+): (?P<hex>[0-9a-fA-F]{1,8})$")


@dataclass
class CalibrationCache:
    file: str
    tensorrt_version: str | None
    calibrator: str | None
    scales: dict[str, float]                    # tensor name -> scale (dynamic range / 127), file order
    repeated: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def version_from_tag(code: str) -> str:
    """``8601`` -> ``8.6.1``; ``101401`` -> ``10.14.1``; ``7000`` -> ``7.0.0``."""
    n = int(code)
    if len(code) >= 6:
        return f"{n // 10000}.{(n // 100) % 100}.{n % 100}"
    return f"{n // 1000}.{(n // 100) % 10}.{n % 100}"


def decode_scale(hex_text: str) -> float:
    """Big-endian IEEE float32 from up to 8 hex digits (a bare ``0`` is 0.0)."""
    return struct.unpack(">f", bytes.fromhex(hex_text.rjust(8, "0")))[0]


def read_calibration_cache(path: str | Path) -> CalibrationCache:
    """Read a calibration cache.

    Raises:
        ArtifactFormatError: no ``TRT-...`` (or ``1``) header, or no ``tensor: hex`` line at all.
    """
    return calibration_cache_from_text(read_text(path), path)


def calibration_cache_from_text(text: str, path: str | Path = "<calibration cache>") -> CalibrationCache:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header = lines[0].strip().lstrip("\ufeff") if lines else ""
    match = HEADER.match(header)
    if match:
        cache = CalibrationCache(str(path), version_from_tag(match["code"]), match["calibrator"], {})
        if match["calibrator"] not in CALIBRATORS:
            cache.warnings.append(f"unknown calibrator {match['calibrator']!r} in the header")
    elif header == "1":
        # TensorRT 5's caches start with "1": no version, no calibrator.
        cache = CalibrationCache(str(path), None, None, {})
        cache.warnings.append("TensorRT 5 era cache (header '1'): no version or calibrator recorded")
    else:
        raise ArtifactFormatError(str(path), f"is not an INT8 calibration cache (first line {header[:40]!r}).",
                                  "Pass the file an INT8 calibrator wrote: it starts with TRT-<version>-<Calibrator>.")
    junk = []
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        if not line:
            continue
        m = _LINE.match(line)
        if not m:
            junk.append(number)
            continue
        name = m["name"]
        if name in cache.scales:
            cache.repeated.append(name)
            del cache.scales[name]  # the last occurrence wins, and keeps its position
        cache.scales[name] = decode_scale(m["hex"])
    if not cache.scales:
        raise ArtifactFormatError(str(path), "has a calibration header but no 'tensor: hex' lines.",
                                  "The calibrator stopped before writing scales; calibrate again.")
    if junk:
        cache.warnings.append(f"skipped {len(junk)} line(s) that are not 'tensor: hex' (first at line {junk[0]})")
    if cache.repeated:
        cache.warnings.append(f"{len(cache.repeated)} tensor name(s) repeat; the last scale of each is used")
    return cache
