"""Fixtures for the AppTest suites: a store seeded from the real fixtures, its run ids by name, and the app."""

from __future__ import annotations


import pytest
from streamlit.testing.v1 import AppTest

from conftest import FIXTURES, REPO

APP = str(REPO / "dashboard" / "streamlit_app.py")

# This folder is tests/pages, not tests/dashboard: pytest puts tests/ first on sys.path, and a test package named
# ``dashboard`` would hide the app's own (``from dashboard import data, state``).


@pytest.fixture(scope="session", autouse=True)
def one_component_scan_and_script_cache():
    """Scan installed distributions for Streamlit v2 components once per session, and compile each page script
    once, not once per AppTest run.

    Streamlit 1.67's ``AppTest._run`` gives every new instance a ``BidiComponentManager`` whose
    ``discover_and_register_components`` reads the metadata of every installed distribution: with
    cold caches on two cores that dominated the whole AppTest suite. The scan's result depends only
    on what is installed, so one manager serves every instance.

    Every run (``AppTest._run``) also makes a new ``ScriptCache``, so the app's script and each page were read,
    rewritten for Streamlit's "magic" and compiled again on every ``run()``, a tenth of the AppTest suites' time.
    A real server keeps one ``ScriptCache`` for every session (``Runtime``), and the scripts do not change
    during a test run: one cache serves every run here too.
    """
    from streamlit.components.v2.component_manager import BidiComponentManager
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test

    shared = BidiComponentManager()
    shared.discover_and_register_components(start_file_watching=False)
    shared.discover_and_register_components = lambda **_: None  # already done
    scripts = ScriptCache()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(app_test, "BidiComponentManager", lambda: shared)
        patch.setattr(app_test, "ScriptCache", lambda: scripts)
        yield


@pytest.fixture
def rtx_app(rtx_store, monkeypatch):
    """The app on the store of real TensorRT-RTX builds (``rtx_store``)."""
    monkeypatch.setenv("LAYERLENS_RUNS", str(rtx_store.root))
    return AppTest.from_file(APP, default_timeout=120)


@pytest.fixture
def rtx_runs(rtx_store) -> dict[str, str]:
    """``{run name: run id}`` of the TensorRT-RTX builds."""
    return {r.name: r.run_id for r in rtx_store.list_runs()}


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


