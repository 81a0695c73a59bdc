"""Strict JSON out: every JSON text LayerLens prints or writes goes through :func:`dumps_strict`.

Python's ``json`` writes ``NaN`` and ``Infinity`` by default. They are not JSON (RFC 8259, section 6:
"Numeric values that cannot be represented in the grammar below (such as Infinity and NaN) are not
permitted"): ``JSON.parse`` in a browser and every strict parser reject the whole file. So a value that
is unknown or not finite is written as ``null``, numpy and pandas scalars become plain numbers, and the
encoder is run with ``allow_nan=False`` so that nothing non-standard can slip out. Imports only the
standard library: numpy is looked up in ``sys.modules`` (a numpy value exists only once numpy is imported), so
the CLI's light commands stay light (tests/test_cli_startup.py).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any


def strict_jsonable(value: Any) -> Any:
    """``value`` with NaN/Infinity (and pandas' missing values) as None, numpy scalars as Python numbers.

    Dicts, lists and tuples are walked (tuples become lists); dict keys are kept as they are.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_jsonable(v) for v in value]
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.generic):
        return strict_jsonable(value.item())
    if np is not None and isinstance(value, np.ndarray):
        return strict_jsonable(value.tolist())
    if value is not None and _is_missing(value):
        return None
    return value


def _is_missing(value: Any) -> bool:
    """pandas' ``NA``/``NaT`` without importing pandas: they are the only values unequal to themselves here."""
    try:
        return bool(value != value)
    except (TypeError, ValueError):  # pd.NA's comparison is ambiguous: it is missing
        return True


def _plain(value: Any) -> Any:
    """``json``'s ``default`` hook: numpy scalars and arrays, pandas' missing values."""
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, (np.generic, np.ndarray)):
        return strict_jsonable(value)
    if _is_missing(value):
        return None
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps_strict(value: Any, **kwargs) -> str:
    """``json.dumps`` that writes NaN and infinities as ``null`` and refuses to write them otherwise.

    The two shapes LayerLens writes most (``indent=2`` for ``--json``, compact for the report's embedded
    data) go through orjson, which writes NaN as ``null`` itself: Python's ``json`` runs its pure-Python
    encoder whenever ``indent`` is set, seconds for a 100k-layer comparison. orjson writes non-ASCII text
    as UTF-8 rather than ``\\u`` escapes and spells floats its own shortest way (``1e-5``); the values
    parse back identical. Anything orjson refuses (a big integer, an unknown type) takes the ``json``
    path below, whose common case (nothing to replace) is a single ``json.dumps``; only a document
    holding a non-finite float is walked and cleaned.

    Args:
        value: dicts, lists, strings, numbers, bools, None, numpy or pandas scalars.
        **kwargs: passed to :func:`json.dumps` (``indent``, ``separators``, ``ensure_ascii``, ...).

    Raises:
        TypeError: a value JSON has no form for (an object, a set).
    """
    shape = _ORJSON_SHAPES.get(tuple(sorted(kwargs.items())))
    if shape is not None:
        import orjson

        option = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
        for name in shape:
            option |= getattr(orjson, name)
        try:
            return orjson.dumps(value, default=_plain, option=option).decode()
        except TypeError:  # orjson.JSONEncodeError: an integer over 64 bits, a type only json's hook knows
            pass
    try:
        return json.dumps(value, allow_nan=False, default=_plain, **kwargs)
    except ValueError:  # "Out of range float values are not JSON compliant": clean, then write
        return json.dumps(strict_jsonable(value), allow_nan=False, default=_plain, **kwargs)


#: ``dumps_strict`` keyword sets orjson writes exactly as ``json`` would shape them: the names of its options
#: (names, so that importing this module does not import orjson).
_ORJSON_SHAPES = {(("indent", 2),): ("OPT_INDENT_2",),
                  (("ensure_ascii", False), ("separators", (",", ":"))): ()}


def write_strict_json(path: str | Path, value: Any, **kwargs) -> Path:
    """Write :func:`dumps_strict` of ``value`` to ``path`` (UTF-8); returns the path."""
    path = Path(path)
    path.write_text(dumps_strict(value, **kwargs), encoding="utf-8")
    return path
