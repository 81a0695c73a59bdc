"""Golden CLI outputs: what `summary --json`, `layers --csv`, `diagnose --json` and `compare --json` print for
every real fixture engine and every tests/data engine, and `calib --json` for every real calibration cache, kept in tests/data/golden/ so that a refactor (a faster
analysis, a columnar cache) cannot change a byte of what users see without a test failing.

The documents are made by the same functions the CLI prints (``layerlens.cli``), in-process. An intentional
change of output regenerates every golden file in one command: ``python tests/tools/make_goldens.py``.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from conftest import DATA, DATA_FOLDERS, ENGINE_FOLDERS, FIXTURES

GOLDEN = DATA / "golden"
#: Fixture-relative placeholders, so the files do not depend on where the checkout lives.
_ROOTS = ((str(FIXTURES), "<fixtures>"), (str(DATA), "<data>"))


def _folder_label(folder: Path) -> str:
    return folder.name if folder.parent == FIXTURES else f"data-{folder.name}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def golden_keys() -> list[str]:
    """``folder/engine`` for every engine of every fixture folder (found without reading the engines)."""
    from engine_core.discover import discover

    return [f"{_folder_label(folder)}/{_slug(name)}"
            for folder in ENGINE_FOLDERS + DATA_FOLDERS for name in discover([folder]).engine_names]


@lru_cache(maxsize=1)
def golden_engines() -> dict[str, object]:
    """``{key: Engine}``: each fixture folder loaded on its own, as `layerlens summary FOLDER` reads it."""
    from engine_core.discover import load_engines

    out = {}
    for folder in ENGINE_FOLDERS + DATA_FOLDERS:
        for engine in load_engines([folder])[0]:
            out[f"{_folder_label(folder)}/{_slug(engine.name)}"] = engine
    return out


def compare_sets() -> list[tuple[str, ...]]:
    """Engine keys compared together: each folder's engines in consecutive pairs, and all of a folder at once."""
    by_folder: dict[str, list[str]] = {}
    for key in golden_keys():
        by_folder.setdefault(key.split("/")[0], []).append(key)
    sets = []
    for keys in by_folder.values():
        sets += [tuple(keys[i:i + 2]) for i in range(len(keys) - 1)]
        if len(keys) > 2:
            sets.append(tuple(keys))
    return sets


#: Outputs larger than this are kept as their sha256 (``<name>.sha256``): a 30k-tensor cache's scales are MiBs.
MAX_GOLDEN_BYTES = 256 * 1024


def golden_files(outputs: dict[str, str]) -> dict[str, str]:
    """What is stored for ``outputs``: the text itself, or for a large output its sha256."""
    import hashlib

    return {name if len(text) <= MAX_GOLDEN_BYTES else f"{name}.sha256":
            text if len(text) <= MAX_GOLDEN_BYTES else hashlib.sha256(text.encode()).hexdigest() + "\n"
            for name, text in outputs.items()}


def _text(document) -> str:
    text = json.dumps(document, indent=2) if not isinstance(document, str) else document
    for root, label in _ROOTS:
        text = text.replace(root, label)
    return text if text.endswith("\n") else text + "\n"


def engine_outputs(key: str) -> dict[str, str]:
    """``{file name: text}`` of one engine's summary, layer CSV and diagnosis."""
    from engine_core.analysis.estimate import layers_for_export
    from engine_core.export import layer_table_csv
    from engine_core.summary import summarize_engine
    from layerlens.cli.analysis import diagnose_document, diagnose_with_attribution

    engine = golden_engines()[key]
    findings, att = diagnose_with_attribution(engine)
    return {
        "summary.json": _text({"engines": [summarize_engine(engine)]}),
        "layers.csv": _text(layer_table_csv(layers_for_export(engine).sort_values("order", ascending=True))),
        "diagnose.json": _text(diagnose_document(engine, None, findings, att)),
    }


def compare_outputs(keys: tuple[str, ...]) -> dict[str, str]:
    """``compare --json`` of the engines, and for a pair ``diagnose B --baseline A --json``."""
    from layerlens.cli.analysis import (compare_document, compare_with_attribution, diagnose_document,
                                        diagnose_with_attribution)

    engines = [golden_engines()[k] for k in keys]
    out = {"compare.json": _text(compare_document(*compare_with_attribution(engines)))}
    if len(engines) == 2:
        findings, att = diagnose_with_attribution(engines[1], engines[0])
        out["diagnose-baseline.json"] = _text(diagnose_document(engines[1], engines[0], findings, att))
    return out


def engine_folder(key: str) -> Path:
    return GOLDEN / "engines" / key


def compare_folder(keys: tuple[str, ...]) -> Path:
    folder = keys[0].split("/")[0]
    return GOLDEN / "compare" / folder / "__".join(k.split("/", 1)[1] for k in keys)


def calib_sets() -> list[tuple[str, ...]]:
    """Every calibration cache of the fixtures on its own, and each folder's caches in consecutive pairs."""
    from engine_core.importers.sniff import ArtifactKind, sniff_file

    sets = []
    for root in (FIXTURES / "calib", DATA / "calib"):
        for folder in sorted({p.parent for p in root.rglob("*") if p.is_file()}):
            caches = [str(p) for p in sorted(folder.iterdir())
                      if p.is_file() and sniff_file(p) is ArtifactKind.CALIBRATION_CACHE]
            sets += [(c,) for c in caches] + [tuple(caches[i:i + 2]) for i in range(len(caches) - 1)]
    return sets


def calib_output(paths: tuple[str, ...]) -> dict[str, str]:
    from engine_core.importers.calib_cache import read_calibration_cache
    from layerlens.cli.analysis import calib_document

    return {"calib.json": _text(calib_document([read_calibration_cache(p) for p in paths]))}


def calib_folder(paths: tuple[str, ...]) -> Path:
    first = Path(paths[0])
    label = _folder_label(first.parent.parent) + "-" + first.parent.name
    return GOLDEN / "calib" / label / "__".join(_slug(Path(p).name) for p in paths)
