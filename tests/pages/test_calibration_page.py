"""The Precision page's Calibration section on an implicit-INT8 engine whose cache lacks a tensor."""

from __future__ import annotations

import shutil

from streamlit.testing.v1 import AppTest

from conftest import DATA
from tests.pages.test_app import APP, metrics, open_page, texts


def test_calibration_section_names_the_missing_tensor(tmp_path, monkeypatch):
    from engine_core.discover import load_engines
    from engine_core.store import RunStore

    folder = tmp_path / "build"
    folder.mkdir()
    (folder / "yolo.log").write_text("".join(line for line in (DATA / "logs" / "trt82_int8_verbose_profile.log").open()
                                             if "Missing scale" not in line))
    shutil.copy(DATA / "calib" / "yolo_trt82_no131.cache", folder / "yolo.calib.cache")
    store = RunStore(tmp_path / "runs")
    manifest, _ = store.add(load_engines([folder])[0][0])
    assert sorted(manifest.files) == ["yolo.calib.cache", "yolo.log"]  # the cache is stored with the run
    monkeypatch.setenv("LAYERLENS_RUNS", str(store.root))
    app = open_page(AppTest.from_file(APP, default_timeout=60), "precision", manifest.run_id)
    m = metrics(app)
    assert m["Tensors with a scale"] == "5" and m["Calibrator"] == "EntropyCalibration2"
    body = texts(app)
    # Sigmoid_5 + Mul_6 reads tensor 131, which the cache lacks; its 0.0715 ms is the cost
    assert "**1** INT8-capable layer reads a tensor the cache has no scale for, so it cannot run INT8" in body
    assert "0.0715 ms" in body
    assert "**missing_dynamic_range**" in body
