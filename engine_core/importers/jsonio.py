"""Reading artifact files: size limits, text decoding, and tolerant JSON.

trtexec and users produce JSON that ``json.load`` alone rejects: several
documents written one after another (per-layer inspector blocks, profiles from
repeated runs appended to one file). :func:`read_json_documents` returns them
all. Everything raises :class:`~engine_core.errors.ArtifactFormatError` with the
path and a fix, never a bare ``JSONDecodeError``.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
from pathlib import Path
from typing import Any

try:  # optional C parser: about 1.5x faster than json on layer JSON
    import orjson
except ImportError:  # pragma: no cover - orjson is a declared dependency, but stay importable without it
    orjson = None

from engine_core.errors import ArtifactFormatError, ArtifactTooLargeError
from engine_core.importers.sniff import SEPARATOR_LINE

#: Largest single artifact read (bytes). A 50k-layer detailed layer JSON is ~60 MB.
MAX_ARTIFACT_BYTES = int(os.environ.get("LAYERLENS_MAX_ARTIFACT_MB", "512")) * 1024 * 1024

_DECODER = json.JSONDecoder()


#: What to do with a serialized engine, which only TensorRT itself can open.
ENGINE_FILE_FIX = ("Engine (.engine/.plan) files cannot be read without TensorRT: export "
                   "`trtexec --loadEngine=<engine> --exportLayerInfo=layers.json --profilingVerbosity=detailed` instead.")


def read_bytes(path: str | Path, limit: int | None = None) -> bytes:
    """Read an artifact's bytes, enforcing the size limit and refusing binary files.

    Raises:
        ArtifactTooLargeError: the file is over ``limit`` bytes.
        ArtifactFormatError: the file is missing or binary (e.g. an .engine plan).
    """
    path = Path(path)
    limit = MAX_ARTIFACT_BYTES if limit is None else limit
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ArtifactFormatError(str(path), f"cannot be read ({exc.strerror}).", "Check the path.") from exc
    if size > limit:
        raise ArtifactTooLargeError(
            str(path), f"is {size / 2**20:.0f} MiB, over the {limit / 2**20:.0f} MiB limit.",
            "Raise LAYERLENS_MAX_ARTIFACT_MB if the file is really a TensorRT artifact.")
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise ArtifactFormatError(
            str(path), "is a binary file, not a TensorRT text/JSON artifact.", ENGINE_FILE_FIX)
    return data


def read_text(path: str | Path, limit: int | None = None) -> str:
    """Read a text artifact (see :func:`read_bytes`), decoding invalid UTF-8 leniently."""
    return read_bytes(path, limit).decode("utf-8", errors="replace")


#: The documents of files counted inside :func:`counted_files_kept`, by file (path, size, change time).
_COUNTED: contextvars.ContextVar[dict | None] = contextvars.ContextVar("layerlens_counted_json", default=None)


@contextlib.contextmanager
def counted_files_kept():
    """Inside, a file parsed by :func:`count_json_documents` is not parsed again by :func:`read_json_documents`.

    Discovery counts each profile's documents (one per run where runs were appended to one file), and the profile
    reader then parsed the file again: 0.15 s of a 50k-layer ``summary``. Kept until the block ends; counted files only.
    """
    token = _COUNTED.set({})
    try:
        yield
    finally:
        _COUNTED.reset(token)


def _file_key(path: str | Path) -> tuple:
    stat = os.stat(path)
    return os.path.realpath(path), stat.st_size, stat.st_mtime_ns


def count_json_documents(path: str | Path) -> int:
    """How many JSON documents a file holds back to back (1 for an ordinary file)."""
    documents = read_json_documents(path)
    counted = _COUNTED.get()
    if counted is not None:
        counted[_file_key(path)] = documents
    return len(documents)


def read_json_documents(path: str | Path) -> list[Any]:
    """Read a JSON artifact: orjson for the common single document, json for the rest.

    The fallback handles several documents back to back, ``NaN``/``Infinity``
    tokens, and gives the precise error message.
    """
    counted = _COUNTED.get()
    if counted:
        with contextlib.suppress(OSError):
            if (documents := counted.get(_file_key(path))) is not None:
                return documents
    data = read_bytes(path)
    if orjson is not None:
        try:
            return [orjson.loads(data)]
        except orjson.JSONDecodeError:
            pass
    return parse_json_documents(data.decode("utf-8", errors="replace"), path)


def parse_json_documents(text: str, path: str | Path) -> list[Any]:
    """Parse one JSON document, or several written back to back.

    Raises:
        ArtifactFormatError: the text is not JSON, is truncated, or nests deeper than Python's parser goes.
    """
    try:
        return _parse_json_documents(text, path)
    except RecursionError:
        raise ArtifactFormatError(str(path), "nests JSON deeper than any TensorRT artifact does.",
                                  "Check that this is the file trtexec wrote; it looks damaged.") from None


def _parse_json_documents(text: str, path: str | Path) -> list[Any]:
    try:
        return [json.loads(text)]
    except json.JSONDecodeError as first_error:
        leading_label = SEPARATOR_LINE.match(text.lstrip("\ufeff \t\r\n").split("\n", 1)[0])
        if first_error.msg != "Extra data" and not leading_label:
            raise _json_error(path, text, first_error) from None
    docs: list[Any] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in " \t\r\n,\x1e":  # \x1e: RFC 7464 JSON text sequences
            pos += 1
        if pos >= end:
            return docs
        if text[pos] not in "{[":
            # A label between documents ("--- Layer 3 ---", "=== engine ===", "# run 2") is skipped;
            # anything else is not JSON and gets the precise error below.
            line_end = text.find("\n", pos)
            line_end = end if line_end < 0 else line_end
            if SEPARATOR_LINE.match(text[pos:line_end]):
                pos = line_end
                continue
        try:
            doc, pos = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise _json_error(path, text, exc) from None
        docs.append(doc)


def _json_error(path: str | Path, text: str, exc: json.JSONDecodeError) -> ArtifactFormatError:
    # A cut inside a string reports where the string *started*; either way the text ran out.
    truncated = exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith("Unterminated string")
    what = ("ends before the JSON is complete (truncated at line %d)" % exc.lineno if truncated
            else f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})")
    return ArtifactFormatError(str(path), what + ".", "Re-export the file from trtexec; partial copies cannot be read.")
