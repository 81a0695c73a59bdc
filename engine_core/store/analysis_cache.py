"""A stored run's analyses, kept beside its engine cache so that a fresh process opens them with a read.

An engine's derived results (fallback reasons, byte account, diagnosis, a comparison with a baseline, ...)
take seconds to tens of seconds on an LLM-size engine, and a cold dashboard page (a new server, or the
first visit after an import) would compute them again every time. ``<run>/analyses/<key>.arrow`` holds one
result each: one Arrow IPC file whose metadata carries a JSON skeleton of the value (lists, tuples, dicts,
numbers, strings, and ``engine_core`` dataclasses, tagged like :mod:`~engine_core.store.engine_cache`'s
facts) and whose one column carries every table inside it (DataFrames, numpy arrays), each an Arrow IPC
stream, columns encoded as the engine cache encodes the layer table, so a read gives back equal values of
equal dtypes with the same index.

A result is derived data and is never served stale: it is stamped with :func:`analysis_fingerprint` (the
code of all of ``engine_core``: any change to the library may change a result), and with the name and
artifact files (size, modification time) of every run it was computed from, since a run can be renamed
and a name shows in results. A file with another stamp, or one that does not read, is a miss: the caller
computes the result again and writes it over. Bundles never carry it (:mod:`~engine_core.store.bundle` drops
it). Must not import TensorRT, Streamlit, plotly or layerlens.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import shutil
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from engine_core.store.engine_cache import CacheMiss, decode_table, encode_column, encode_columns

ANALYSES_DIR = "analyses"
#: Bump when the layout of an analysis file changes.
ANALYSIS_FORMAT = 1
_INDEX = "\x1findex"


class AnalysisMiss(Exception):
    """No usable stored result (absent, stale, damaged, or a value this file format cannot hold exactly)."""


@lru_cache(maxsize=1)
def analysis_fingerprint() -> str:
    """sha256 (12 hex digits) of every ``engine_core`` source file: the code that decides every result."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"analysis/{ANALYSIS_FORMAT}".encode())
    for file in sorted(root.rglob("*.py")):
        digest.update(file.relative_to(root).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def run_stamp(run_dir: Path, name: str, files: list[str]) -> list:
    """What a result computed from one run depends on besides the code: its name and its artifact files."""
    stats = [(run_dir / "artifacts" / f).stat() for f in files]
    return [name, [[f, s.st_size, s.st_mtime_ns] for f, s in zip(files, stats)]]


def read_analysis(run_dir: Path, key: str, sources: list) -> object:
    """The result stored under ``key`` in ``run_dir``, when it was computed from ``sources`` by this code.

    Args:
        run_dir: the run's folder.
        key: the result's name, e.g. ``fallbacks``, ``diagnosis@<baseline id>`` or ``roofline@<GPU>``.
        sources: a :func:`run_stamp` per run the result was computed from, the run itself first.

    Raises:
        AnalysisMiss: nothing stored, or stored by other code or from other runs, or unreadable.
    """
    import pyarrow as pa
    import pyarrow.ipc as ipc

    path = _path(run_dir, key)
    try:
        with pa.memory_map(str(path)) as source:
            table = ipc.open_file(source).read_all()
        meta = table.schema.metadata or {}
        stamp = json.loads(meta.get(b"layerlens.analysis", b"{}"))
        if stamp != _stamp(sources):
            raise AnalysisMiss(f"{path} was computed by other code or from other artifacts")
        skeleton = _loads(meta[b"layerlens.value"])
        blobs = table.column("tables").to_pylist()
        return _decode(skeleton, blobs)
    except AnalysisMiss:
        raise
    except FileNotFoundError:
        raise AnalysisMiss(f"{path} does not exist") from None
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, ImportError, CacheMiss,
            pa.ArrowException) as exc:
        raise AnalysisMiss(f"{path} is unreadable ({type(exc).__name__}: {exc})") from None


def write_analysis(run_dir: Path, key: str, sources: list, value) -> bool:
    """Store ``value`` under ``key`` (see :func:`read_analysis`). Atomic; returns False, writing nothing, when
    the value holds something this format cannot give back exactly or the folder is not writable (the result
    is then computed again next time: slower, never wrong)."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    blobs: list[bytes] = []
    try:
        skeleton = json.dumps(_encode(value, blobs))
        stamp = json.dumps(_stamp(sources))
    except (AnalysisMiss, CacheMiss, TypeError, ValueError, OverflowError, pa.ArrowException):
        return False
    table = pa.table({"tables": pa.array(blobs, type=pa.large_binary())})
    meta = {"layerlens.analysis": stamp, "layerlens.value": skeleton}
    folder = run_dir / ANALYSES_DIR
    target = _path(run_dir, key)
    partial = folder / f".{target.name}.{os.getpid()}.partial"
    try:
        folder.mkdir(exist_ok=True)
        with pa.OSFile(str(partial), "wb") as sink:
            with ipc.new_file(sink, table.schema.with_metadata(meta)) as writer:
                writer.write_table(table)
        os.replace(partial, target)
    except (OSError, pa.ArrowException):
        partial.unlink(missing_ok=True)
        return False
    return True


def drop_analyses(run_dir: Path) -> None:
    """Remove every stored result of a run (each is computed again when next asked for)."""
    shutil.rmtree(run_dir / ANALYSES_DIR, ignore_errors=True)


def _path(run_dir: Path, key: str) -> Path:
    """The file of ``key``: one name in the run's analyses folder whatever the key holds (a GPU name has spaces)."""
    return run_dir / ANALYSES_DIR / f"{quote(key, safe='@=-._')}.arrow"


def _stamp(sources: list) -> dict:
    return {"format": ANALYSIS_FORMAT, "code": analysis_fingerprint(), "sources": sources}


# -- values -------------------------------------------------------------------------------------------------

def _encode(value, blobs: list[bytes]):
    """Tagged JSON (see :mod:`engine_core.store.engine_cache`); tables go to ``blobs`` and are named by position."""
    if type(value) is int and not -2**63 <= value < 2**64:
        raise AnalysisMiss("an integer beyond 64 bits")  # orjson would read it back as a float (see _loads)
    if value is None or type(value) in (bool, int, float, str):
        return value  # NaN and infinities too: json writes and reads them back (NaN, Infinity)
    if type(value) in (np.float64, np.int64, np.bool_):  # a pandas reduction's scalar: kept as its numpy type
        return {"np": str(value.dtype), "v": _encode(value.item(), blobs)}
    if type(value) is list:
        return {"l": [_encode(v, blobs) for v in value]}
    if type(value) is tuple:
        return {"t": [_encode(v, blobs) for v in value]}
    if type(value) is dict:
        if not all(type(k) is str for k in value):
            raise AnalysisMiss("a dict with non-string keys")
        return {"d": {k: _encode(v, blobs) for k, v in value.items()}}
    if type(value) is pd.DataFrame:
        blobs.append(_frame_bytes(value))
        return {"df": len(blobs) - 1}
    if type(value) is np.ndarray and value.ndim == 1 and value.dtype != object:
        blobs.append(_frame_bytes(pd.DataFrame({"values": value})))
        return {"nd": len(blobs) - 1}
    if dataclasses.is_dataclass(value) and type(value).__module__.startswith("engine_core."):
        cls = type(value)
        return {"c": f"{cls.__module__}:{cls.__qualname__}",
                "f": {f.name: _encode(getattr(value, f.name), blobs) for f in dataclasses.fields(value)}}
    raise AnalysisMiss(f"cannot store a {type(value).__name__}")


def _loads(text: bytes):
    """The skeleton: orjson (a finding's thousands of layer names parse several times faster), else json for
    the NaN and Infinity that orjson does not read."""
    import orjson

    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _decode(value, blobs: list[bytes]):
    if not isinstance(value, dict):
        return value
    if "np" in value:
        return np.dtype(value["np"]).type(_decode(value["v"], blobs))
    if "l" in value:  # plain items (layer names) taken as they are: no call per item
        return [_decode(v, blobs) if type(v) is dict else v for v in value["l"]]
    if "t" in value:
        return tuple(_decode(v, blobs) if type(v) is dict else v for v in value["t"])
    if "d" in value:
        return {k: _decode(v, blobs) for k, v in value["d"].items()}
    if "df" in value:
        return _frame(blobs[value["df"]])
    if "nd" in value:
        return _frame(blobs[value["nd"]])["values"].to_numpy()
    module, _, qualname = value["c"].partition(":")
    if not module.startswith("engine_core."):
        raise AnalysisMiss(f"refusing to build {value['c']}")
    cls = getattr(importlib.import_module(module), qualname)
    return cls(**{k: _decode(v, blobs) for k, v in value["f"].items()})


# -- tables ---------------------------------------------------------------------------------------------------

def _frame_bytes(frame: pd.DataFrame) -> bytes:
    """One table as an Arrow IPC stream: its columns as the engine cache encodes them, its index beside them."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    if not all(type(c) is str for c in frame.columns) or len(set(frame.columns)) != frame.shape[1]:
        raise AnalysisMiss("a table whose column names are not distinct strings")
    index = frame.index
    if type(index) is pd.RangeIndex:
        described = {"range": [index.start, index.stop, index.step], "name": index.name}
        columns = [(c, frame[c]) for c in frame.columns]
    elif type(index) is pd.Index:
        described = {"name": index.name}
        columns = [(_INDEX, index.to_series(index=pd.RangeIndex(len(index)))), *((c, frame[c]) for c in frame.columns)]
    else:
        raise AnalysisMiss(f"a table indexed by a {type(index).__name__}")
    if described["name"] is not None and type(described["name"]) is not str:
        raise AnalysisMiss("a table whose index name is not a string")
    arrays, fields = encode_columns(((name, series.reset_index(drop=True)) for name, series in columns), _column)
    described["rows"] = len(frame)
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata={"layerlens.index": json.dumps(described)}))
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _column(name: str, series: pd.Series):
    """The engine cache's column encoding, plus pandas' own string dtype (``str``, pandas 3's default)."""
    import pyarrow as pa

    if isinstance(series.dtype, pd.StringDtype):  # read back as objects, then given this dtype again (see _frame)
        return "str", pa.array(series.to_numpy(dtype=object, na_value=None), type=pa.large_string()), None
    try:
        return encode_column(name, series, None)
    except TypeError:
        if series.dtype != object:
            raise
    # numpy numbers inside cells (a comparison's per-engine times): stored as the Python numbers they equal
    return encode_column(name, pd.Series([_plain(v) for v in series], dtype=object), None)


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if type(value) in (tuple, list):
        return type(value)(_plain(v) for v in value)
    if type(value) is dict:
        return {k: _plain(v) for k, v in value.items()}
    return value


def _frame(blob: bytes) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.ipc as ipc

    table = ipc.open_stream(pa.py_buffer(blob)).read_all()
    described = json.loads(table.schema.metadata[b"layerlens.index"])
    frame = decode_table(table) if table.num_columns else pd.DataFrame(index=pd.RangeIndex(described["rows"]))
    for field in table.schema:
        meta = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
        if meta["codec"] == "str" and meta["dtype"] != "object":
            frame[field.name] = frame[field.name].astype(meta["dtype"])
    if "range" in described:
        frame.index = pd.RangeIndex(*described["range"], name=described["name"])
    else:
        frame.index = pd.Index(frame.pop(_INDEX)).rename(described["name"])
    return frame
