"""A stored run's parsed engine, kept beside its artifacts so that opening the run is a read, not a parse.

``<run>/engine.arrow`` is one Arrow IPC file (LZ4-compressed, read whole, no JSON parse of the
artifacts): the canonical layer table column by column, and in the file's metadata every other fact of
the :class:`~engine_core.engine.Engine` (sizes, metadata, events, build facts, calibration cache, ...).
It is derived data: the artifacts stay the source of truth, bundles never carry it, and it is rebuilt
from the artifacts whenever it is missing, unreadable, or was written by other parsing code. "Other
code" is decided by the table's :data:`~engine_core.schema.SCHEMA_VERSION`, this file's
:data:`CACHE_FORMAT`, and a fingerprint of the modules that turn artifacts into an engine (importers,
layer table, precision rules): a fix in a parser must never be hidden behind a stale cache.

How columns are stored, so that a read gives a frame identical to a fresh parse:

* numbers, flags and nullable ``Int64`` as Arrow's own types;
* object columns holding only strings and ``None`` as Arrow strings;
* ``inputs``/``outputs`` are not stored when every row's list is the record's own ``Inputs``/``Outputs``
  (as the layer table builds them): they are taken from the decoded records, sharing the same objects;
* every other object column (``record``, ``onnx_nodes``) as one JSON document per row (orjson),
  with a per-row tag for the values JSON cannot tell apart: a tuple, ``None``, a float NaN. Each row is
  decoded again when written; one that does not come back equal (a tuple nested in a record) means no
  cache for that engine rather than a different one.

The engine's name is not cached (a run can be renamed); file paths are stored relative to the run's
``artifacts/`` folder, so a run folder can move (bundle imports stage runs elsewhere first).
Must not import TensorRT or Streamlit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import math
import os
from collections.abc import Collection, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from engine_core.engine import Engine
from engine_core.collector import paused_gc
from engine_core.schema import SCHEMA_VERSION

CACHE_FILE = "engine.arrow"
#: Bump when the layout of the cache file changes.
CACHE_FORMAT = 3  # 2: the engine's constants table (byte accounting); 3: written in batches of BATCH_ROWS
#: Layers per record batch: each batch is compressed apart, so a few layers are read without the rest.
BATCH_ROWS = 4096
#: Modules whose code decides what an engine parsed from artifacts looks like (see module doc).
_PARSER_CODE = ("engine.py", "layer_table.py", "precision.py", "schema.py", "importers", "store/engine_cache.py")
#: Engine fields holding artifact paths (stored relative to the run's artifacts/ folder).
_NOT_CACHED = ("name", "layers", "files", "file_parts")
_FROM_RECORD = {"inputs": "Inputs", "outputs": "Outputs"}
_JSON, _TUPLE, _NONE, _NAN = 0, 1, 2, 3
#: Cells of a string column looked at to decide how to convert it (see _strings).
_DISTINCT_SAMPLE = 1024


class CacheMiss(Exception):
    """The cache cannot serve this run (absent, stale, damaged, or an engine it cannot represent)."""


@lru_cache(maxsize=1)
def parser_fingerprint() -> str:
    """sha256 (12 hex digits) of the code that turns artifacts into an engine."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"{SCHEMA_VERSION}/{CACHE_FORMAT}".encode())
    for entry in _PARSER_CODE:
        path = root / entry
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.relative_to(root).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def write_engine_cache(run_dir: Path, engine: Engine, stored_names: dict[str, str]) -> bool:
    """Write ``run_dir/engine.arrow`` for ``engine``; ``stored_names`` maps each of ``engine.files`` to its
    name under ``run_dir/artifacts``. Atomic; returns False (and writes nothing) when the engine holds a
    value the cache cannot represent exactly or the folder is not writable: the run then parses its
    artifacts when opened, which is slower but never wrong."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    try:
        table = _encode_table(engine.layers)
        facts = _facts(run_dir, engine, stored_names)
    except (CacheMiss, TypeError, ValueError, KeyError, OverflowError, OSError, pa.ArrowException):
        return False
    meta = {"layerlens.cache": json.dumps({"format": CACHE_FORMAT, "schema_version": SCHEMA_VERSION,
                                           "parser": parser_fingerprint()}),
            "layerlens.facts": facts}
    target = run_dir / CACHE_FILE
    partial = run_dir / f".{CACHE_FILE}.{os.getpid()}.partial"
    try:
        with pa.OSFile(str(partial), "wb") as sink:
            options = ipc.IpcWriteOptions(compression="lz4")
            with ipc.new_file(sink, table.schema.with_metadata(meta), options=options) as writer:
                writer.write_table(table, max_chunksize=BATCH_ROWS)
        os.replace(partial, target)
    except (OSError, pa.ArrowException):
        partial.unlink(missing_ok=True)
        return False
    return True


def read_engine_cache(run_dir: Path, name: str, without: Collection[str] = ()) -> Engine:
    """The engine cached in ``run_dir``, named ``name``.

    Args:
        run_dir: the run's folder.
        name: the engine's name (the manifest's: a run can be renamed).
        without: layer columns not to read, for a view that never looks at them: an outline of the engine
            (the per-row JSON of ``record`` and ``onnx_nodes`` is most of a read). Without ``record``, the
            columns rebuilt from it (``inputs``, ``outputs``) are left out too. Any analysis of such an engine
            that needs a column left out raises KeyError; it is never computed from less.

    Raises:
        CacheMiss: no cache, a damaged one, one written by other parsing code, or artifact files
            that changed since it was written.
    """
    import pyarrow as pa

    without = frozenset(without)
    table, facts = _open(run_dir, lambda reader: reader.read_all().combine_chunks(), without)
    try:
        with paused_gc():
            layers = decode_table(table, without)
        return _engine(facts, name, layers, run_dir)
    except CacheMiss:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, ImportError, pa.ArrowException) as exc:
        raise CacheMiss(f"{run_dir / CACHE_FILE} is unreadable ({type(exc).__name__}: {exc})") from None


def read_cached_layers(run_dir: Path, rows: Sequence[int]) -> pd.DataFrame:
    """Every column of some layers of the engine cached in ``run_dir`` (``rows``: positions in its layer table,
    which are its index), without reading the others: one layer's full record for a view holding an outline.

    Raises:
        CacheMiss: as :func:`read_engine_cache`.
    """
    import pyarrow as pa

    rows = [int(r) for r in rows]

    def batches_holding_rows(reader):  # each batch decompressed alone: only those holding the rows are read
        wanted = sorted({r // BATCH_ROWS for r in rows})
        if any(b < 0 or b >= reader.num_record_batches for b in wanted):
            raise CacheMiss(f"rows {rows} are not in the cached layer table")
        return pa.Table.from_batches([reader.get_batch(b) for b in wanted], schema=reader.schema).combine_chunks(), wanted

    (table, wanted), facts = _open(run_dir, batches_holding_rows)
    try:
        if _stats(run_dir, facts["files"]) != facts["stats"]:
            raise CacheMiss("an artifact changed since the cache was written")
        first = {b: i * BATCH_ROWS for i, b in enumerate(wanted)}  # where each batch starts in the table read
        local = [first[r // BATCH_ROWS] + r % BATCH_ROWS for r in rows]
        layers = decode_table(table.take(pa.array(local, type=pa.int64())))
    except CacheMiss:
        raise
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, pa.ArrowException) as exc:
        raise CacheMiss(f"{run_dir / CACHE_FILE} is unreadable ({type(exc).__name__}: {exc})") from None
    layers.index = pd.Index(rows, dtype="int64")
    return layers


def _open(run_dir: Path, read, without: frozenset[str] = frozenset()):
    """``(read(reader), facts)`` of a run's cache, once its stamp says this parsing code wrote it; the reader
    leaves the columns of ``without`` (as :func:`read_engine_cache` takes it) compressed and unread."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    path = run_dir / CACHE_FILE
    try:
        with pa.memory_map(str(path)) as source:
            reader = ipc.open_file(source)
            meta = reader.schema.metadata or {}
            stamp = json.loads(meta.get(b"layerlens.cache", b"{}"))
            if stamp != {"format": CACHE_FORMAT, "schema_version": SCHEMA_VERSION, "parser": parser_fingerprint()}:
                raise CacheMiss(f"{path} was written by other parsing code")
            if without:  # the per-row JSON left out is most of the file: not even decompressed (0.4 s -> 0.05 s)
                kept = [i for i, field in enumerate(reader.schema) if not _left_out(field, without)]
                reader = ipc.open_file(source, options=ipc.IpcReadOptions(included_fields=kept))
            return read(reader), json.loads(meta[b"layerlens.facts"])
    except CacheMiss:
        raise
    except (OSError, ValueError, KeyError, TypeError, ImportError, pa.ArrowException) as exc:
        raise CacheMiss(f"{path} is unreadable ({type(exc).__name__}: {exc})") from None


def drop_engine_cache(run_dir: Path) -> None:
    """Remove a run's engine cache, if any (it is rebuilt from the artifacts on the next load)."""
    try:
        (run_dir / CACHE_FILE).unlink(missing_ok=True)
    except OSError:
        pass  # not a file: reading it fails and the run is parsed, which is what dropping it means


# -- the layer table ------------------------------------------------------------------------------------

def _encode_table(layers: pd.DataFrame):
    import pyarrow as pa

    if not isinstance(layers.index, pd.RangeIndex) or layers.index.start != 0 or layers.index.step != 1:
        raise CacheMiss("the layer table has a non-default index")
    records = layers["record"].tolist() if "record" in layers else None
    arrays, fields = encode_columns(((name, layers[name]) for name in layers.columns),
                                    lambda name, series: encode_column(name, series, records))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def encode_columns(columns, encode) -> tuple[list, list]:
    """``(arrays, fields)`` of ``(name, series)`` pairs, each through ``encode(name, series)`` (an
    :func:`encode_column`): its codec and dtype in the field's metadata, a JSON column's tags in a column beside it.
    """
    import pyarrow as pa

    arrays, fields = [], []
    for name, series in columns:
        codec, array, extra = encode(name, series)
        fields.append(pa.field(name, array.type, metadata={"codec": codec, "dtype": str(series.dtype)}))
        arrays.append(array)
        if extra is not None:
            fields.append(pa.field(f"{name}\x1ftag", extra.type, metadata={"codec": "tag", "dtype": ""}))
            arrays.append(extra)
    return arrays, fields


def encode_column(name: str, series: pd.Series, records: list | None):
    """``(codec, array, tags)``: one column of a frame as Arrow, in a form :func:`decode_table` gives back
    identical (see the module doc); ``tags`` is the per-row tag array of a JSON column, or None.
    ``records``: the frame's ``record`` column, from which ``inputs``/``outputs`` are rebuilt instead of stored
    (None: store every column). The analysis cache keeps its tables with the same codec.

    Raises:
        CacheMiss: a dtype or a value the file could not give back exactly.
    """
    import pyarrow as pa

    if series.dtype != object:
        if str(series.dtype) not in ("int64", "float64", "bool", "Int64"):
            raise CacheMiss(f"column {name} has dtype {series.dtype}")
        return "native", pa.array(series, from_pandas=True), None
    values = series.tolist()
    key = _FROM_RECORD.get(name)
    if key and records is not None and all(
            type(r) is dict and v is (r.get(key) or ()) for v, r in zip(values, records)):
        return f"record:{key}", pa.nulls(len(values)), None  # rebuilt from the records (see module doc)
    if all(v is None or type(v) is str for v in values):
        return "str", pa.array(values, type=pa.large_string()), None
    import orjson

    tags = np.full(len(values), _JSON, dtype=np.int8)
    encoded = []
    for i, v in enumerate(values):
        if v is None:
            tags[i] = _NONE
            encoded.append(None)
        elif type(v) is float and math.isnan(v):
            tags[i] = _NAN
            encoded.append(None)
        else:
            if type(v) is tuple:
                tags[i] = _TUPLE
            text = orjson.dumps(v)  # raises TypeError on anything that is not plain JSON data
            back = orjson.loads(text)
            if (tuple(back) if tags[i] == _TUPLE else back) != v:  # a nested tuple, a NaN inside: not exact
                raise CacheMiss(f"column {name} row {i} does not round-trip through JSON")
            encoded.append(text)
    tag_array = pa.array(tags) if tags.any() else None
    return "json", pa.array(encoded, type=pa.large_binary()), tag_array


def _left_out(field, without: frozenset[str]) -> bool:
    """Whether a stored column is one of ``without``, the tag beside one, or rebuilt from a ``record`` left out."""
    codec = (field.metadata or {}).get(b"codec", b"").decode()
    name = field.name.split("\x1f")[0] if codec == "tag" else field.name
    return name in without or (codec.startswith("record:") and "record" in without)


def decode_table(table, without: frozenset[str] = frozenset()) -> pd.DataFrame:
    """The frame a table of :func:`encode_column` columns was written from; ``without``: columns left unread.

    Raises:
        CacheMiss: a column codec this code does not know.
    """
    import orjson

    n = table.num_rows
    columns: dict[str, pd.Series] = {}
    deferred = []
    names = table.column_names
    for position, field in enumerate(table.schema):
        meta = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
        codec = meta["codec"]
        if codec == "tag" or _left_out(field, without):
            continue
        column = table.column(position)
        if codec == "native":
            columns[field.name] = column.to_pandas().astype(meta["dtype"])
        elif codec == "str":
            columns[field.name] = pd.Series(_strings(column), dtype=object, copy=False)
        elif codec == "json":
            raw = column.to_numpy(zero_copy_only=False)
            tag_name = f"{field.name}\x1ftag"
            tags = table.column(tag_name).to_numpy() if tag_name in names else None
            if tags is None:
                values = [orjson.loads(v) for v in raw]
            else:
                values = [orjson.loads(v) if t == _JSON else tuple(orjson.loads(v)) if t == _TUPLE
                          else None if t == _NONE else math.nan for v, t in zip(raw, tags)]
            columns[field.name] = _objects(values)
        elif codec.startswith("record:"):
            deferred.append((field.name, codec.split(":", 1)[1]))
            columns[field.name] = None
        else:
            raise CacheMiss(f"unknown column codec {codec!r}")
    records = columns.get("record")
    for column, key in deferred:
        columns[column] = _objects([r.get(key) or () for r in records])
    return pd.DataFrame(columns, index=pd.RangeIndex(n))


def _strings(column) -> np.ndarray:
    """An Arrow string column as an object array (None where null), each distinct string made once: most
    columns hold a handful (precisions, formats, layer types), and a Python string per cell was most of a read.
    A column of mostly distinct strings (names, tactics) is converted as it is: hashing every cell to find the
    few repeats took 5x the conversion (70 ms for the names of a 100k-layer engine)."""
    import pyarrow.compute as pc

    array = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    sample = array.slice(0, _DISTINCT_SAMPLE)
    if len(sample) and pc.count_distinct(sample, mode="all").as_py() > len(sample) // 2:
        return array.to_numpy(zero_copy_only=False)
    encoded = pc.dictionary_encode(array)
    distinct = np.empty(len(encoded.dictionary) + 1, dtype=object)
    distinct[:-1] = encoded.dictionary.to_pylist()  # the last slot, None, is where nulls point
    return distinct[encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)]


def _objects(values: list) -> pd.Series:
    """An object Series holding exactly ``values`` (lists stay elements, never a second dimension)."""
    array = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        array[i] = v
    return pd.Series(array, dtype=object, copy=False)


# -- the other facts --------------------------------------------------------------------------------------

def _facts(run_dir: Path, engine: Engine, stored_names: dict[str, str]) -> str:
    data = {f.name: _encode(getattr(engine, f.name)) for f in dataclasses.fields(engine) if f.name not in _NOT_CACHED}
    if engine.calibration is not None:  # its file is one of the run's artifacts: kept relative
        data["calibration"]["f"]["file"] = stored_names[engine.calibration.file]
    files = [stored_names[f] for f in engine.files]
    parts = {stored_names[f]: part for f, part in engine.file_parts.items()}
    return json.dumps({"engine": data, "files": files, "file_parts": parts, "stats": _stats(run_dir, files)})


def _stats(run_dir: Path, files: list[str]) -> list[list[int]]:
    """Size and modification time of each artifact: an artifact changed in place makes the cache stale."""
    stats = [(run_dir / "artifacts" / f).stat() for f in files]
    return [[s.st_size, s.st_mtime_ns] for s in stats]


def _encode(value):
    """Tagged JSON: every container says what it was, so decoding gives back the same types."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is list:
        return {"l": [_encode(v) for v in value]}
    if type(value) is tuple:
        return {"t": [_encode(v) for v in value]}
    if type(value) is dict:
        if not all(type(k) is str for k in value):
            raise CacheMiss("a dict with non-string keys")
        return {"d": {k: _encode(v) for k, v in value.items()}}
    if isinstance(value, pd.DataFrame):  # a side table (the engine's constants): column by column, dtypes kept
        return {"df": {"columns": [str(c) for c in value.columns], "dtypes": [str(t) for t in value.dtypes],
                       "values": [[_encode(v) for v in value[c].tolist()] for c in value.columns]}}
    if dataclasses.is_dataclass(value) and type(value).__module__.startswith("engine_core."):
        cls = type(value)
        return {"c": f"{cls.__module__}:{cls.__qualname__}",
                "f": {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    raise CacheMiss(f"cannot cache a {type(value).__name__}")


def _decode(value):
    if not isinstance(value, dict):
        return value
    if "l" in value:
        return [_decode(v) for v in value["l"]]
    if "t" in value:
        return tuple(_decode(v) for v in value["t"])
    if "d" in value:
        return {k: _decode(v) for k, v in value["d"].items()}
    if "df" in value:
        frame = value["df"]
        return pd.DataFrame({c: pd.Series([_decode(v) for v in values], dtype=dtype)
                             for c, dtype, values in zip(frame["columns"], frame["dtypes"], frame["values"])},
                            columns=frame["columns"])
    module, _, qualname = value["c"].partition(":")
    if not module.startswith("engine_core."):
        raise CacheMiss(f"refusing to build {value['c']}")
    cls = getattr(importlib.import_module(module), qualname)
    return cls(**{k: _decode(v) for k, v in value["f"].items()})


def _engine(facts: dict, name: str, layers: pd.DataFrame, run_dir: Path) -> Engine:
    files = facts["files"]
    if _stats(run_dir, files) != facts["stats"]:
        raise CacheMiss("an artifact changed since the cache was written")
    folder = run_dir / "artifacts"
    fields = {k: _decode(v) for k, v in facts["engine"].items()}
    if fields.get("calibration") is not None:
        fields["calibration"] = dataclasses.replace(fields["calibration"], file=str(folder / fields["calibration"].file))
    return Engine(name=name, layers=layers, files=[str(folder / f) for f in files],
                  file_parts={str(folder / f): part for f, part in facts["file_parts"].items()}, **fields)
