"""Every JSON LayerLens prints or writes is strict JSON: no NaN, no Infinity (unknown is null).

Python's json writes NaN and Infinity by default and `JSON.parse` rejects the whole document, as the
A100 FP16-vs-QAT comparison showed ("precision_change": NaN). Every `--json` command runs here over every
fixture, in process (the CLI's own `main`), and everything it printed goes through a parser that refuses
those tokens; so do the files LayerLens writes: store manifests, bundles, the report's embedded JSON.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import DATA, DATA_FOLDERS, ENGINE_FOLDERS, FIXTURES
from engine_core.discover import discover, load_engines
from engine_core.strict_json import dumps_strict, strict_jsonable, write_strict_json
from layerlens.cli.main import main


def strict_loads(text: str):
    """``json.loads`` that fails on NaN, Infinity and -Infinity, as browsers and strict parsers do."""
    def refuse(token):
        raise ValueError(f"not JSON: {token}")
    return json.loads(text, parse_constant=refuse)


def _json_of(capsys, *argv) -> dict:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return strict_loads(out)


def _single_engine_paths() -> dict[str, list[Path]]:
    """``{engine: its files}`` for every fixture engine a command line can name on its own (not one run of many)."""
    found = discover(ENGINE_FOLDERS + DATA_FOLDERS)
    return {name: sorted({a.path for a in members}) for name, members in found.groups.items()
            if name in found.engine_names and all(a.part is None for a in members)}


ENGINES = _single_engine_paths()
CACHES = sorted({*FIXTURES.glob("calib/*/*.cache"), *FIXTURES.glob("calib/*/*.bin"), *FIXTURES.glob("calib/*/*.table"),
                 *FIXTURES.glob("calib/*/*cache"), *(DATA / "calib").glob("*")})


def test_the_helper_writes_null_for_nan_and_infinity():
    value = {"a": math.nan, "b": [math.inf, -math.inf, 1.5], "c": np.float64("nan"), "d": np.int64(3), "e": pd.NA,
             "f": (np.float32(2.5), None), "g": np.array([1.0, np.nan])}
    assert strict_loads(dumps_strict(value)) == {"a": None, "b": [None, None, 1.5], "c": None, "d": 3, "e": None,
                                                 "f": [2.5, None], "g": [1.0, None]}
    assert strict_jsonable({"x": [math.nan]}) == {"x": [None]}
    with pytest.raises(TypeError):
        dumps_strict({"x": object()})


def test_written_files_are_strict(tmp_path):
    path = write_strict_json(tmp_path / "x.json", {"ms": math.nan, "n": np.int64(7)}, indent=2)
    assert strict_loads(path.read_text()) == {"ms": None, "n": 7}


#: Every folder holding an engine (a folder of calibration caches alone is `layerlens calib`'s, below).
ENGINE_HOLDERS = [p for p in ENGINE_FOLDERS + DATA_FOLDERS if discover([p]).engine_names]


@pytest.mark.parametrize("folder", ENGINE_HOLDERS, ids=lambda p: p.name)
def test_summary_json_of_every_fixture_is_strict(capsys, folder):
    engines = _json_of(capsys, "summary", folder, "--json")["engines"]
    assert engines and all(e["layers"]["count"] >= 0 for e in engines)


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_diagnose_json_of_every_engine_is_strict(capsys, name):
    result = _json_of(capsys, "diagnose", *ENGINES[name], "--json")
    assert result["engine"] and isinstance(result["findings"], list)


@pytest.fixture(scope="session")
def one_path(tmp_path_factory):
    """A path naming exactly one engine's files: the file itself, its folder, or a copy of its files."""
    import shutil

    def path_of(name: str) -> Path:
        files = ENGINES[name]
        if len(files) == 1:
            return files[0]
        if len(load_engines([files[0].parent])[0]) == 1:
            return files[0].parent
        folder = tmp_path_factory.mktemp("engine")
        for f in files:
            shutil.copy(f, folder / f.name)
        return folder
    return path_of


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_compare_and_diagnose_against_a_baseline_are_strict(capsys, one_path, name):
    names = sorted(ENGINES)
    engine, baseline = one_path(name), one_path(names[(names.index(name) + 1) % len(names)])
    assert len(_json_of(capsys, "compare", baseline, engine, "--json")["engines"]) == 2
    assert _json_of(capsys, "diagnose", engine, "--baseline", baseline, "--json")["baseline"]


def test_the_a100_style_comparison_has_no_nan(capsys):
    """FP16 vs QAT: the GlobalAveragePool group's precision change is unknown, and unknown is null."""
    result = _json_of(capsys, "compare", FIXTURES / "trex-rtx3090" / "fp16", FIXTURES / "trex-rtx3090" / "qat", "--json")
    changes = [g["precision_change"] for g in result["groups"]]
    assert None in changes and all(c is None or re.fullmatch(r"[A-Z0-9]+->[A-Z0-9]+", c) for c in changes)


@pytest.mark.parametrize("cache", CACHES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_calib_json_of_every_cache_is_strict(capsys, cache):
    result = _json_of(capsys, "calib", cache, "--json")
    assert result["caches"][0]["tensors"] > 0


def test_calib_comparison_json_is_strict(capsys):
    a, b = sorted((FIXTURES / "calib" / "controlnet_trt2023_trt8601_large_two_runs").glob("*.cache"))[:2]
    result = _json_of(capsys, "calib", a, b, "--json")
    assert result["comparison"]["shared"] > 0


def test_runs_json_manifests_and_bundles_are_strict(capsys, tmp_path):
    store = tmp_path / "store"
    assert main(["import", *map(str, ENGINE_FOLDERS + DATA_FOLDERS), "--store", str(store)]) == 0
    capsys.readouterr()
    runs = _json_of(capsys, "runs", "--store", store, "--json")["runs"]
    assert len(runs) >= len(ENGINES)
    for manifest in store.glob("*/manifest.json"):
        strict_loads(manifest.read_text())
    bundle = tmp_path / "all.lens.zip"
    assert main(["bundle", "--all", "--store", str(store), "-o", str(bundle)]) == 0
    with zipfile.ZipFile(bundle) as zf:
        for member in zf.namelist():
            if member.endswith(".json") and ("manifest" in member or "bundle" in member):
                strict_loads(zf.read(member).decode())


def test_the_report_embeds_strict_json(tmp_path):
    """Layers without a fallback reason have NaN in the report's table (a pandas map miss): null in its JSON."""
    from layerlens.views.report import write_report

    engine = load_engines([FIXTURES / "trex-rtx3090" / "fp16"])[0][0]
    report = write_report(engine, None, tmp_path / "r.html")
    assert report.layer_table["fallback_reason"].isna().any()
    html = (tmp_path / "r.html").read_text()
    data = re.search(r"<script type='application/json' id='layer-data'>(.*?)</script>", html, re.S)[1]
    table = strict_loads(data.replace("<\\/", "</"))
    column = table["columns"].index("fallback_reason")
    missing = int(report.layer_table["fallback_reason"].isna().sum())
    assert len(table["rows"]) == len(report.layer_table) and sum(row[column] is None for row in table["rows"]) == missing
