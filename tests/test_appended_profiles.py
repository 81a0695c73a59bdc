"""Runs appended to one `--exportProfile` file: each document is its own run, with its own times.

tests/data/trt7_appended is a TensorRT 7 batch sweep (tests/tools/make_trt7_sweep.py): nine runs, batch 1..256,
each logged to its own file without --dumpProfile, all exporting to profile_all.json, which holds one {"count"}
document per run. Before, the first log took the whole file (its per-layer sum was every run's, merged) and the
other eight got no per-layer time at all.
"""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import DATA
from engine_core.discover import load_engines

FOLDER = DATA / "trt7_appended"
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def _documents() -> list[list[dict]]:
    text = (FOLDER / "profile_all.json").read_text()
    decoder, docs, pos = json.JSONDecoder(), [], 0
    while pos < len(text.rstrip()):
        doc, pos = decoder.raw_decode(text, pos)
        docs.append(doc)
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return docs


def _own_sum(doc: list[dict]) -> float:
    return sum(r["averageMs"] for r in doc if "name" in r)


def test_each_log_gets_its_own_document():
    engines = {e.name: e for e in load_engines([FOLDER])[0]}
    docs = _documents()
    assert sorted(engines) == sorted(f"sweep_b{b}" for b in BATCHES) and len(docs) == 9
    for i, batch in enumerate(BATCHES):
        e = engines[f"sweep_b{batch}"]
        assert e.per_layer_sum_ms == pytest.approx(_own_sum(docs[i]), rel=1e-12)
        assert e.profile_iterations == docs[i][0]["count"] == 2000 // (1 + i)
        # The log's own GPU Compute block agrees: the document and the log are the same run.
        assert e.gpu_compute.median_ms == pytest.approx(round(1.2 + 0.9 * batch, 4))
        assert e.per_layer_sum_ms == pytest.approx(e.gpu_compute.median_ms * 1.05, rel=1e-9)
        assert e.metadata.inference_options["Batch"] == str(batch)
    assert engines["sweep_b1"].per_layer_sum_ms == pytest.approx(2.205)


def test_a_profile_without_its_logs_is_one_run_per_document():
    engines = load_engines([FOLDER / "profile_all.json"])[0]
    docs = _documents()
    assert [e.name for e in engines] == [f"profile_all run {i}" for i in range(1, 10)]
    assert [e.per_layer_sum_ms for e in engines] == pytest.approx([_own_sum(d) for d in docs])


def test_older_logs_whose_documents_are_gone_stand_alone(tmp_path):
    """Three documents lost (the file was truncated and appended to again): the last six logs pair with them."""
    docs = _documents()
    for log in FOLDER.glob("*.log"):
        shutil.copy(log, tmp_path / log.name)
    (tmp_path / "profile_all.json").write_text("".join(json.dumps(d) + "\n" for d in docs[3:]))
    engines = {e.name: e for e in load_engines([tmp_path])[0]}
    assert len(engines) == 9
    for i, batch in enumerate(BATCHES):
        e = engines[f"sweep_b{batch}"]
        if i < 3:
            assert e.per_layer_sum_ms is None and e.gpu_compute.median_ms == pytest.approx(round(1.2 + 0.9 * batch, 4))
        else:
            assert e.per_layer_sum_ms == pytest.approx(_own_sum(docs[i]))


def test_runs_keep_their_document_through_the_store(tmp_path):
    from engine_core.store import RunStore

    store = RunStore(tmp_path)
    for engine in load_engines([FOLDER])[0]:
        store.add(engine)
    sums = sorted(store.load(r.run_id).per_layer_sum_ms for r in store.list_runs())
    assert sums == pytest.approx(sorted(_own_sum(d) for d in _documents()))


def test_a_load_parses_the_appended_profile_once(monkeypatch):
    """Discovery counts the file's documents (which run is which); each of the nine runs then reads its own.
    Before, that was ten parses of the same file: one to count, one per run."""
    from engine_core.importers import jsonio

    reads = []
    real_read_bytes = jsonio.read_bytes
    monkeypatch.setattr(jsonio, "read_bytes", lambda path, *a: reads.append(path.name) or real_read_bytes(path, *a))
    engines = load_engines([FOLDER])[0]
    assert len(engines) == 9 and reads.count("profile_all.json") == 1
    load_engines([FOLDER])  # a new load reads the file again: nothing is kept between loads
    assert reads.count("profile_all.json") == 2


def test_a_counted_file_that_changes_is_parsed_again(tmp_path):
    from engine_core.importers.jsonio import count_json_documents, counted_files_kept, read_json_documents

    path = tmp_path / "profile.json"
    path.write_text('[{"count": 1}]')
    with counted_files_kept():
        assert count_json_documents(path) == 1
        assert read_json_documents(path) == [[{"count": 1}]]
        path.write_text('[{"count": 2}] [{"count": 3}]')
        assert read_json_documents(path) == [[{"count": 2}], [{"count": 3}]]
