"""The run store: atomic, content-addressed, and re-importing what it stored."""

from __future__ import annotations

import pytest

from conftest import FIXTURES, load_one
from engine_core.errors import StoreError
from engine_core.schema import SCHEMA_VERSION
from engine_core.store import RunStore


def test_add_load_roundtrip_and_dedup(tmp_path):
    store = RunStore(tmp_path)
    engine = load_one(FIXTURES / "trex-rtx3090" / "qat")
    manifest, created = store.add(engine)
    assert created and manifest.layer_count == 63 and manifest.device == "NVIDIA GeForce RTX 3090"
    assert manifest.schema_version == SCHEMA_VERSION == 2 and not manifest.is_estimate
    again, created_again = store.add(engine)
    assert not created_again and again.run_id == manifest.run_id
    loaded = store.load(manifest.run_id)
    assert loaded.layers[["name", "compute_precision", "avg_ms"]].equals(engine.layers[["name", "compute_precision", "avg_ms"]])
    assert [r.run_id for r in store.list_runs()] == [manifest.run_id]


def test_corrupt_run_folder_is_skipped_and_others_survive(tmp_path):
    store = RunStore(tmp_path)
    manifest, _ = store.add(load_one(FIXTURES / "trex-rtx3090" / "fp16"))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text("{not json")
    assert [r.run_id for r in store.list_runs()] == [manifest.run_id]
    with pytest.raises(StoreError, match="cannot be read"):
        store.manifest("broken")


def test_invalid_run_id_cannot_escape_store(tmp_path):
    with pytest.raises(StoreError, match="not a valid run id"):
        RunStore(tmp_path).load("../etc")


def test_unwritable_store_is_a_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="Cannot write run"):
        RunStore(blocker / "runs").add(load_one(FIXTURES / "trex-rtx3090" / "fp16"))


def test_run_with_missing_artifacts_is_a_store_error(tmp_path):
    import shutil

    store = RunStore(tmp_path)
    manifest, _ = store.add(load_one(FIXTURES / "trex-rtx3090" / "fp16"))
    shutil.rmtree(tmp_path / manifest.run_id / "artifacts")
    with pytest.raises(StoreError, match="missing its artifact files"):
        store.load(manifest.run_id)
