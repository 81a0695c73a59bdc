"""Every engine on the Overview, Compare and Graph pages, against a neighbour, itself and a TensorRT-RTX build
for the first engine of each shape: no exception box, ever. Engines are discovered, so a new fixture joins
by itself."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from conftest import DATA_FOLDERS, ENGINE_FOLDERS, engine_names, engine_shape
from tests.dashboard.test_app import APP, open_page

FOLDERS = ENGINE_FOLDERS + DATA_FOLDERS
NAMES = engine_names()


@pytest.fixture(scope="module")
def pair_store(rtx_store, tmp_path_factory):
    from engine_core.discover import load_engines
    from engine_core.store import RunStore

    store = RunStore(tmp_path_factory.mktemp("pairs"))
    for engine in load_engines(FOLDERS)[0]:
        store.add(engine)
    for run in rtx_store.list_runs():
        engine = rtx_store.load(run.run_id)
        engine.files = [str(p) for p in rtx_store.artifact_paths(run.run_id)]
        store.add(engine, source="build", labels=run.labels)
    return store


def _no_exception_box(app) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not [e.value for e in app.error if "Something went wrong" in e.value]


@pytest.fixture(scope="module")
def shapes(pair_store) -> dict:
    """``{run name: the first run name (sorted) of its engine shape}`` (see ``conftest.engine_shape``)."""
    first: dict = {}
    out = {}
    for run in sorted(pair_store.list_runs(), key=lambda r: r.name):
        out[run.name] = first.setdefault(engine_shape(pair_store.load(run.run_id)), run.name)
    return out


def _open(page, run, baseline):
    app = AppTest.from_file(APP, default_timeout=120)
    _no_exception_box(open_page(app, page, run, baseline))
    return app


@pytest.mark.parametrize("name", NAMES)
def test_engine_against_neighbour_itself_and_an_rtx_build(pair_store, shapes, monkeypatch, name):
    """The first engine of each shape on every page against its neighbour, itself and a TensorRT-RTX build,
    both ways; another engine of a shape already covered on the Overview and Compare against that engine
    and on its own Graph (a page shows nothing an engine of the same shape has not shown)."""
    monkeypatch.setenv("LAYERLENS_RUNS", str(pair_store.root))
    runs = {r.name: r.run_id for r in pair_store.list_runs()}
    if shapes[name] != name:
        _open("overview", runs[name], runs[shapes[name]])
        _open("compare", runs[name], runs[shapes[name]])
        _open("graph", runs[name], "")
        return
    neighbour = NAMES[(NAMES.index(name) + 1) % len(NAMES)]
    rtx = runs["resnet18-int8-tensorrt-uncalibrated"]
    for page, baseline in (("overview", runs[neighbour]), ("compare", runs[neighbour]), ("compare", runs[name]),
                           ("compare", rtx)):
        _open(page, runs[name], baseline)
        if baseline != runs[name]:  # and the other way round
            _open(page, baseline, runs[name])
    # The graph, coloured by the precision change against each baseline.
    for baseline in (runs[neighbour], rtx):
        app = AppTest.from_file(APP, default_timeout=120)
        open_page(app, "graph", runs[name], baseline)
        app.radio(key="graph.colour").set_value("Change vs baseline").run()
        _no_exception_box(app)
