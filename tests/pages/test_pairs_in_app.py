"""Every engine on the Overview, Compare and Graph pages: the first engine of each shape against a neighbour and a
TensorRT-RTX build, both ways round; the others against their shape's first. The page shows the comparison of
exactly that pair (verdict, aligned groups or the different-networks refusal, the graph's precision changes),
never an exception box. Engines are discovered, so a new fixture joins by itself. What each page should say is the
library's answer for the same two stored runs."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from conftest import DATA_FOLDERS, ENGINE_FOLDERS, engine_names, engine_shape
from dashboard import state
from tests.pages.test_app import APP, open_page

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


def _expected(store, baseline_id: str, run_id: str):
    """``(comparison, attribution)`` of run against baseline, as the library makes them from the stored runs."""
    from engine_core.analysis.attribution import attribute
    from engine_core.analysis.compare import compare_engines
    from engine_core.analysis.estimate import on_one_footing

    engines = on_one_footing([store.load(baseline_id), store.load(run_id)])
    cmp = compare_engines(engines)
    return cmp, attribute(cmp, engines[0], engines[1])


def _no_exception_box(app) -> None:
    assert not app.exception, [e.value for e in app.exception]
    assert not [e.value for e in app.error if "Something went wrong" in e.value]


def _shows_the_comparison(app, page: str, cmp, att) -> None:
    _no_exception_box(app)
    markdown = [m.value for m in app.markdown]
    assert f"#### {att.verdict}" in markdown  # the verdict of this pair, baseline first
    if page != "compare":
        return
    errors = [e.value for e in app.error]
    if cmp.different_networks:
        assert any(e.startswith(f"{cmp.aligned_share:.0%} of compute layers align") for e in errors), errors
        assert "Aligned groups" not in [s.value for s in app.subheader]
    else:
        assert any(m.startswith(f"**{len(cmp.groups)}** aligned groups (") for m in markdown)
        speedup = {m.label: m.value for m in app.metric if m.label.startswith("Speedup ")}
        if cmp.speedup:
            assert list(speedup.values()) == [f"{cmp.speedup:.2f}x"], speedup


def _graph_legend(app) -> tuple[str, set[str]]:
    spec = json.loads(app.get("plotly_chart")[0].proto.spec)
    return spec["layout"]["legend"]["title"]["text"], {t["name"] for t in spec["data"] if t.get("name")}


@pytest.fixture(scope="module")
def shapes(pair_store) -> dict:
    """``{run name: the first run name (sorted) of its engine shape}`` (see ``conftest.engine_shape``)."""
    first: dict = {}
    out = {}
    for run in sorted(pair_store.list_runs(), key=lambda r: r.name):
        out[run.name] = first.setdefault(engine_shape(pair_store.load(run.run_id)), run.name)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_engine_against_neighbour_and_an_rtx_build(pair_store, shapes, monkeypatch, name):
    """Two engines of one shape take the same paths through the pages, so an engine whose shape is already covered
    is shown against that shape's first engine only (both ways round), on the Overview, Compare and Graph pages."""
    monkeypatch.setenv("LAYERLENS_RUNS", str(pair_store.root))
    runs = {r.name: r.run_id for r in pair_store.list_runs()}
    shape_covered = shapes[name] != name
    neighbour = shapes[name] if shape_covered else NAMES[(NAMES.index(name) + 1) % len(NAMES)]
    rtx = runs["resnet18-int8-tensorrt-uncalibrated"]
    pairs = [(runs[neighbour], runs[name]), (runs[name], runs[neighbour])]  # (baseline, engine), both ways round
    if rtx != runs[name] and not shape_covered:
        pairs += [(rtx, runs[name]), (runs[name], rtx)]
    expected = {}
    for baseline, run in pairs:
        expected[baseline, run] = cmp, att = _expected(pair_store, baseline, run)
        app = open_page(AppTest.from_file(APP, default_timeout=120), "overview", run, baseline)
        for page in ("overview", "compare"):
            if page == "compare":  # opened from the overview's first run, as open_page opens every other page
                app.switch_page("app_pages/compare.py").run()
            assert app.session_state[state.BASELINE] == baseline  # the pair asked for is the pair shown
            _shows_the_comparison(app, page, cmp, att)
    # The graph, coloured by the precision change of each aligned group against the baseline.
    for baseline in (runs[neighbour],) if shape_covered else (runs[neighbour], rtx):
        if baseline == runs[name]:
            continue
        app = AppTest.from_file(APP, default_timeout=120)
        open_page(app, "graph", runs[name], baseline)
        app.radio(key="graph.colour").set_value("Change vs baseline").run()
        _no_exception_box(app)
        title, legend = _graph_legend(app)
        changes = set(expected[baseline, runs[name]][0].groups["precision_change"].dropna())
        assert title == "precision change vs baseline:" and {n for n in legend if "->" in n} == changes


def test_an_engine_cannot_be_its_own_baseline(pair_store, monkeypatch):
    """Asked to compare an engine with itself, the app falls back to its default baseline and says so by showing it."""
    monkeypatch.setenv("LAYERLENS_RUNS", str(pair_store.root))
    runs = {r.name: r.run_id for r in pair_store.list_runs()}
    app = AppTest.from_file(APP, default_timeout=120)
    open_page(app, "compare", runs["resnet-qat"], runs["resnet-qat"])
    assert app.session_state[state.BASELINE] == runs["fp16/resnet"]  # same model, same GPU, next wider precision
    _shows_the_comparison(app, "compare", *_expected(pair_store, runs["fp16/resnet"], runs["resnet-qat"]))


def test_the_graph_colours_each_layer_by_its_groups_precision_change(pair_store, monkeypatch):
    """resnet-qat against its FP16 build: the changed groups are FP16->INT8, and the layers only in the QAT engine
    (its input quantize, the classifier's squeeze and reformat) say so."""
    monkeypatch.setenv("LAYERLENS_RUNS", str(pair_store.root))
    runs = {r.name: r.run_id for r in pair_store.list_runs()}
    app = AppTest.from_file(APP, default_timeout=120)
    open_page(app, "graph", runs["resnet-qat"], runs["fp16/resnet"])
    app.radio(key="graph.colour").set_value("Change vs baseline").run()
    _no_exception_box(app)
    title, legend = _graph_legend(app)
    assert title == "precision change vs baseline:" and {"FP16->INT8", "only here"} <= legend
    assert {n for n in legend if "->" in n} == {"FP16->INT8"}
