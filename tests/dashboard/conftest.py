"""Fixtures for the AppTest suites: a store seeded from the real fixtures, its run ids by name, and the app."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from conftest import FIXTURES, REPO

APP = str(REPO / "dashboard" / "streamlit_app.py")


@pytest.fixture(scope="module")
def store_root(tmp_path_factory):
    from engine_core.discover import load_engines
    from engine_core.store import RunStore

    root = tmp_path_factory.mktemp("runs")
    engines, _ = load_engines([FIXTURES / "trex-rtx3090", FIXTURES / "trex-mobilenet", FIXTURES / "h100-trt10-logs"])
    for e in engines:
        RunStore(root).add(e)
    return root


@pytest.fixture
def runs(store_root):
    from engine_core.store import RunStore

    return {r.name: r.run_id for r in RunStore(store_root).list_runs()}


@pytest.fixture
def app(store_root, monkeypatch):
    monkeypatch.setenv("LAYERLENS_RUNS", str(store_root))
    monkeypatch.setenv("LAYERLENS_NO_DEMO", "1")
    return AppTest.from_file(APP, default_timeout=60)


