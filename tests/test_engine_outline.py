"""An engine's outline (its cache read without the per-row JSON columns) and single layers read from the cache: on
every real fixture and tests/data engine, the outline holds every other column and fact exactly as the whole engine,
a layer read alone equals its row of the whole table, and a stale cache is never used for either."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from conftest import store_of_every_fixture
from engine_core.store.engine_cache import CACHE_FILE, CacheMiss, read_cached_layers, read_engine_cache

OUTLINE_SKIPS = ("record", "onnx_nodes")  # dashboard/data.py OUTLINE_SKIPS
LEFT_OUT = ["onnx_nodes", "inputs", "outputs", "record"]  # inputs and outputs are rebuilt from the records


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return store_of_every_fixture(tmp_path_factory.mktemp("outlined"))


def test_an_outline_is_the_engine_without_its_json_columns(store):
    runs = store.list_runs()
    assert len(runs) >= 30
    for run in runs:
        whole = store.load(run.run_id)
        outline = store.load(run.run_id, without=OUTLINE_SKIPS)
        pd.testing.assert_frame_equal(outline.layers, whole.layers.drop(columns=LEFT_OUT), check_exact=True, obj=run.name)
        for field in dataclasses.fields(whole):
            if field.name != "layers":
                a, b = getattr(outline, field.name), getattr(whole, field.name)
                if isinstance(b, pd.DataFrame):
                    pd.testing.assert_frame_equal(a, b, obj=f"{run.name}.{field.name}")
                else:
                    assert a == b or repr(a) == repr(b), (run.name, field.name)
        with pytest.raises(KeyError):  # asked of an outline, an analysis that reads the records fails loudly
            outline.analysis.layer_work  # noqa: B018


def test_a_layer_read_alone_is_its_row_of_the_whole_table(store):
    for run in store.list_runs():
        layers = store.load(run.run_id).layers
        if layers.empty:
            continue
        rows = sorted({0, len(layers) // 2, len(layers) - 1})
        alone = store.load_layers(run.run_id, rows)
        pd.testing.assert_frame_equal(alone, layers.loc[rows], check_exact=True, obj=run.name)
        for row in rows:
            assert alone.loc[row, "record"] == layers.loc[row, "record"]


def test_a_stale_cache_serves_neither_and_the_store_answers_from_the_artifacts(store):
    run = next(r for r in store.list_runs() if r.layer_count > 3)
    run_dir = store.root / run.run_id
    layers = store.load(run.run_id).layers
    artifact = store.artifact_paths(run.run_id)[0]
    artifact.write_bytes(artifact.read_bytes())  # same bytes, a new modification time: the cache may be stale
    with pytest.raises(CacheMiss):
        read_cached_layers(run_dir, [1])
    with pytest.raises(CacheMiss):
        read_engine_cache(run_dir, run.name, OUTLINE_SKIPS)
    pd.testing.assert_frame_equal(store.load_layers(run.run_id, [1, 2]), layers.loc[[1, 2]], check_exact=True)
    assert (run_dir / CACHE_FILE).is_file()  # loaded from the artifacts, and cached again
    pd.testing.assert_frame_equal(store.load(run.run_id, without=OUTLINE_SKIPS).layers,
                                  layers.drop(columns=LEFT_OUT), check_exact=True)
