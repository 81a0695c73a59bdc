"""A stored run opens from its engine cache (engine.arrow) exactly as a fresh parse of its artifacts would read,
on every real fixture, every tests/data engine and every TensorRT-RTX sample build; a stale, damaged or foreign
cache is never believed."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import zipfile

import pandas as pd
import pytest

from conftest import DATA_FOLDERS, ENGINE_FOLDERS, FIXTURES, load_one, store_of_every_fixture
from engine_core.store import RunStore
from engine_core.store import engine_cache
from engine_core.store.bundle import import_bundle, write_bundle
from engine_core.store.engine_cache import CACHE_FILE, CacheMiss, read_engine_cache


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory):
    return store_of_every_fixture(tmp_path_factory.mktemp("cached"))


def assert_same_engine(cached, parsed) -> None:
    """Identical layer tables (values, dtypes, index) and identical other facts."""
    for field in dataclasses.fields(parsed):
        _assert_same(getattr(cached, field.name), getattr(parsed, field.name), field.name)


def _assert_same(a, b, where: str) -> None:
    """Equal, field by field; tables exactly (the layers, the constants, an accuracy report's per-node table)."""
    if isinstance(b, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=where)
    elif dataclasses.is_dataclass(b) and not isinstance(b, type):
        assert type(a) is type(b), where
        for field in dataclasses.fields(b):
            _assert_same(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    else:
        assert a == b or repr(a) == repr(b), where  # repr: NaN scales in a calibration cache are equal too


def test_every_fixture_run_opens_from_its_cache_as_parsed(fixture_store):
    runs = fixture_store.list_runs()
    assert len(runs) == len({e for f in ENGINE_FOLDERS + DATA_FOLDERS for e in _names(f)}) >= 30
    for run in runs:
        run_dir = fixture_store.root / run.run_id
        assert (run_dir / CACHE_FILE).is_file(), f"{run.name}: import wrote no cache"
        cached = read_engine_cache(run_dir, run.name)
        assert_same_engine(cached, fixture_store.parse(run.run_id))
        assert_same_engine(fixture_store.load(run.run_id), cached)


def _names(folder):
    from engine_core.discover import discover

    return [f"{folder}/{n}" for n in discover([folder]).engine_names]


def test_every_sample_build_opens_from_its_cache_as_parsed(rtx_store):
    runs = rtx_store.list_runs()
    assert len(runs) >= 12
    for run in runs:
        cached = read_engine_cache(rtx_store.root / run.run_id, run.name)
        assert cached.is_rtx and cached.recipe == run.labels["recipe"]
        assert_same_engine(cached, rtx_store.parse(run.run_id))


def test_the_cache_stores_tensors_once_and_strings_as_arrow_strings(fixture_store):
    import pyarrow.ipc as ipc

    run = next(r for r in fixture_store.list_runs() if r.name == "resnet-qat")
    table = ipc.open_file(str(fixture_store.root / run.run_id / CACHE_FILE)).read_all()
    codecs = {f.name: f.metadata[b"codec"].decode() for f in table.schema}
    assert codecs["inputs"] == "record:Inputs" and codecs["outputs"] == "record:Outputs"
    assert codecs["record"] == codecs["onnx_nodes"] == "json" and codecs["name"] == "str" and codecs["avg_ms"] == "native"
    engine = fixture_store.load(run.run_id)
    assert engine.layers["inputs"].iat[5] is engine.layers["record"].iat[5]["Inputs"]  # shared, as a parse shares them


def test_a_renamed_run_opens_under_its_new_name(tmp_path):
    store = RunStore(tmp_path)
    manifest, _ = store.add(load_one(FIXTURES / "trex-rtx3090" / "qat"))
    store.rename(manifest.run_id, "resnet50 int8 (QAT)")
    assert store.load(manifest.run_id).name == "resnet50 int8 (QAT)"


@pytest.mark.parametrize("damage", ["truncated", "garbage", "other parser", "other schema", "artifact edited", "directory"])
def test_a_stale_or_damaged_cache_is_rebuilt_from_the_artifacts(tmp_path, monkeypatch, damage):
    store = RunStore(tmp_path)
    manifest, _ = store.add(load_one(FIXTURES / "trex-rtx3090" / "qat"))
    run_dir = tmp_path / manifest.run_id
    cache = run_dir / CACHE_FILE
    good = cache.read_bytes()
    if damage == "truncated":
        cache.write_bytes(good[: len(good) // 2])
    elif damage == "garbage":
        cache.write_bytes(b"not arrow at all")
    elif damage == "other parser":
        monkeypatch.setattr(engine_cache, "parser_fingerprint", lambda: "0123456789ab")
    elif damage == "other schema":
        monkeypatch.setattr(engine_cache, "SCHEMA_VERSION", engine_cache.SCHEMA_VERSION + 1)
    elif damage == "artifact edited":
        graph = next((run_dir / "artifacts").glob("*.graph.json"))
        doc = json.loads(graph.read_text())
        doc["Layers"][0]["LayerType"] = "EditedInPlace"
        graph.write_text(json.dumps(doc))
    else:
        cache.unlink()
        cache.mkdir()
    if damage != "directory":
        with pytest.raises(CacheMiss):
            read_engine_cache(run_dir, manifest.name)
    engine = store.load(manifest.run_id)
    assert len(engine.layers) == 63
    assert (engine.layers["layer_type"].iat[0] == "EditedInPlace") == (damage == "artifact edited")
    assert_same_engine(engine, store.parse(manifest.run_id))
    if damage != "directory":  # rewritten: the next opening is a read again
        assert_same_engine(read_engine_cache(run_dir, manifest.name), engine)


def test_an_unwritable_run_folder_still_opens(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    manifest, _ = store.add(load_one(FIXTURES / "trex-rtx3090" / "fp16"))
    (tmp_path / manifest.run_id / CACHE_FILE).unlink()

    def refuse(*_):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(engine_cache.os, "replace", refuse)  # a read-only store (tests run as root: chmod is no test)
    assert len(store.load(manifest.run_id).layers) == 86
    assert sorted(p.name for p in (tmp_path / manifest.run_id).iterdir()) == ["artifacts", "manifest.json"]


def test_bundles_never_carry_the_cache_and_ignore_a_planted_one(tmp_path):
    mine = RunStore(tmp_path / "mine")
    qat, _ = mine.add(load_one(FIXTURES / "trex-rtx3090" / "qat"))
    fp16, _ = mine.add(load_one(FIXTURES / "trex-rtx3090" / "fp16"))
    bundle = write_bundle(mine, [qat.run_id], tmp_path / "qat.lens.zip")
    assert not [n for n in zipfile.ZipFile(bundle).namelist() if n.endswith(CACHE_FILE)]
    # A hostile bundle whose run carries another engine's cache: the artifacts decide, not the cache.
    planted = tmp_path / "planted.lens.zip"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(planted, "w") as out:
        for item in src.infolist():
            out.writestr(item, src.read(item))
        out.write(tmp_path / "mine" / fp16.run_id / CACHE_FILE, f"runs/{qat.run_id}/{CACHE_FILE}")
    theirs = RunStore(tmp_path / "theirs")
    [imported] = import_bundle(theirs, planted)
    assert imported.run_id == qat.run_id  # run ids never change
    engine = theirs.load(qat.run_id)
    assert len(engine.layers) == 63 and engine.name == "resnet-qat"
    assert_same_engine(engine, theirs.parse(qat.run_id))


def test_run_ids_do_not_depend_on_the_cache(tmp_path):
    first, _ = RunStore(tmp_path / "a").add(load_one(FIXTURES / "trex-rtx3090" / "qat"))
    shutil.rmtree(tmp_path / "a" / first.run_id)
    again, created = RunStore(tmp_path / "a").add(load_one(FIXTURES / "trex-rtx3090" / "qat"))
    assert created and again.run_id == first.run_id == "resnet-qat-" + first.run_id.rsplit("-", 1)[1]


def test_nan_and_tuples_in_object_columns_survive(tmp_path):
    """Values JSON cannot tell apart keep their type: tuples, None and NaN in an object column."""
    store = RunStore(tmp_path)
    manifest, _ = store.add(load_one(FIXTURES / "trex-rtx3090" / "qat"))
    engine = store.parse(manifest.run_id)
    odd = pd.Series([("a", "b"), None, math.nan, ["x", 1], {"k": ("v",)}] + [()] * (len(engine.layers) - 5), dtype=object)
    engine.layers["onnx_nodes"] = odd
    run_dir = tmp_path / manifest.run_id
    names = {f: f.rsplit("/", 1)[1] for f in engine.files}
    assert not engine_cache.write_engine_cache(run_dir, engine, names)  # a nested tuple is not plain JSON: no cache
    odd.iat[4] = {"k": ["v"]}
    engine.layers["onnx_nodes"] = odd
    assert engine_cache.write_engine_cache(run_dir, engine, names)
    cached = read_engine_cache(run_dir, engine.name)
    assert cached.layers["onnx_nodes"].iat[0] == ("a", "b") and cached.layers["onnx_nodes"].iat[1] is None
    assert math.isnan(cached.layers["onnx_nodes"].iat[2]) and cached.layers["onnx_nodes"].iat[3] == ["x", 1]
