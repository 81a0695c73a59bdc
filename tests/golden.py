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

import pytest

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


REGENERATE = "run `python tests/tools/make_goldens.py` if the change is intended, and review `git diff tests/data/golden`"


def _reject(constant: str):
    raise ValueError(f"{constant} is not JSON")


def assert_same_as_golden(folder: Path, outputs: dict[str, str]) -> None:
    """Fail, saying at which line, unless ``outputs`` are byte for byte the golden files in ``folder``."""
    for name, text in outputs.items():
        if name.endswith(".json"):  # every --json output is strict JSON: unknown is null, never NaN
            json.loads(text, parse_constant=_reject)
    assert folder.is_dir(), f"no golden outputs in {folder}: {REGENERATE}"
    stored = golden_files(outputs)
    assert sorted(p.name for p in folder.iterdir()) == sorted(stored), REGENERATE
    for name, text in stored.items():
        expected = (folder / name).read_text()
        if text != expected:
            got, want = text.splitlines(), expected.splitlines()
            line = next((i for i, (a, b) in enumerate(zip(got, want), 1) if a != b), min(len(got), len(want)) + 1)
            pytest.fail(f"{folder.relative_to(GOLDEN)}/{name} changed at line {line}:\n"
                        f"  now:    {(got[line - 1:line] or ['<end>'])[0][:300]}\n"
                        f"  golden: {(want[line - 1:line] or ['<end>'])[0][:300]}\n{REGENERATE}")


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
    return outputs_of(golden_engines()[key])


def outputs_of(engine) -> dict[str, str]:
    """``{file name: text}`` of an engine's summary, layer CSV and diagnosis, as the CLI prints them."""
    from engine_core.analysis.estimate import layers_for_export
    from engine_core.export import layer_table_csv
    from engine_core.summary import summarize_engine
    from layerlens.cli.analysis import diagnose_document, diagnose_with_attribution

    findings, att = diagnose_with_attribution(engine)
    return {
        "summary.json": _text({"engines": [summarize_engine(engine)]}),
        "layers.csv": _text(layer_table_csv(layers_for_export(engine).sort_values("order", ascending=True))),
        "diagnose.json": _text(diagnose_document(engine, None, findings, att)),
    }


def compare_outputs(keys: tuple[str, ...]) -> dict[str, str]:
    """``compare --json`` of the engines, and for a pair ``diagnose B --baseline A --json``."""
    return comparison_outputs_of([golden_engines()[k] for k in keys])


def comparison_outputs_of(engines: list) -> dict[str, str]:
    """``compare --json`` of ``engines``, and for a pair ``diagnose B --baseline A --json``."""
    from layerlens.cli.analysis import (compare_document, compare_with_attribution, diagnose_document,
                                        diagnose_with_attribution)

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


# -- real TensorRT-RTX builds of the sample models -----------------------------------------------------------------
#: Every sample model's builds (tests/conftest.py ``rtx_zoo_builds`` and ``rtx_builds``), kept like the fixtures'
#: outputs. TensorRT-RTX builds on the CPU are deterministic: the same ONNX gives the same layers, tactics and
#: bytes, so a change here is a change in LayerLens, or a new TensorRT-RTX (``BUILDER`` names the one that made
#: the goldens). ``python tests/tools/make_goldens.py --builds`` makes the builds and rewrites them.
BUILDS = GOLDEN / "builds"
BUILDER = BUILDS / "BUILDER"
#: The order a model's builds are compared in (``compare --json`` of all four, as the Compare page shows them).
BUILD_COMPARISON = ("fp32", "fp16", "int8-ort-uncalibrated", "int8-tensorrt-uncalibrated")


def sample_build_plan() -> list[tuple]:
    """``(model, Variant, targets)`` of every build the suite makes of the sample models (tests/conftest.py)."""
    from conftest import rtx_build_plan, zoo_build_plan

    return rtx_build_plan() + zoo_build_plan()


def sample_build_keys() -> list[tuple[str, str]]:
    """``(model, recipe)`` of :func:`sample_build_plan`, without building anything."""
    from engine_core.recipes.spec import RecipeSpec

    return [(model, RecipeSpec(v.precision, v.placement).recipe_id(calibrated=False))
            for model, v, _ in sample_build_plan()]


def build_folder(model: str, recipe: str) -> Path:
    return BUILDS / model / recipe


def build_comparison_folder(model: str) -> Path:
    return BUILDS / model / "compare"


def build_outputs(engine) -> dict[str, str]:
    """:func:`outputs_of` a build, less what differs between two builds of the same model and recipe."""
    stable = _without_accuracy(engine)
    return {name: _stable_text(text, [engine]) for name, text in outputs_of(stable).items()}


def build_comparison_outputs(engines: list) -> dict[str, str]:
    """:func:`comparison_outputs_of` builds, less what differs between two builds of the same models."""
    outputs = comparison_outputs_of([_without_accuracy(e) for e in engines])
    return {name: _stable_text(text, engines) for name, text in outputs.items()}


def _without_accuracy(engine):
    """The build as if it had not measured its output error: onnxruntime's float results can move in the last
    digits between CPUs, and tests/test_accuracy.py checks them against a fresh measurement anyway."""
    import dataclasses

    files = [f for f in engine.files if not f.endswith(".accuracy.json")]
    return dataclasses.replace(engine, accuracy=None, files=files)


#: The seconds a build took (the one number a build's own log gives that changes from build to build).
_BUILD_TIME = re.compile(r'("build_time_s": )[0-9.eE+-]+')


def _stable_text(text: str, engines: list) -> str:
    for engine in engines:  # the store folder the build landed in: a temporary folder, named by a content hash
        text = text.replace(str(Path(engine.files[0]).parent.parent), f"<run {engine.recipe}>")
    return _BUILD_TIME.sub(r'\1"<seconds>"', text)
