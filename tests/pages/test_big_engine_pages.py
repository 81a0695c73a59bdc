"""Pages on an engine too big to show whole (issue 15): the Layers table pages instead of shipping every row, says
which rows it shows, orders all rows (not just the page) by the user's choice, and a filter that leaves fewer
rows than a page shows them all again; the Compare page's group table shows the largest changes and says how many
it leaves out. A synthetic 2,500-layer engine (benchmarks/synthetic.py) with a profile, and a second build of it."""

from __future__ import annotations

import sys

import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO
from dashboard import state
from tests.pages.test_app import APP, open_page, texts

sys.path.insert(0, str(REPO / "benchmarks"))
from synthetic import write_engine  # noqa: E402

LAYERS = 2500
PAGE_ROWS = 250  # dashboard/app_pages/layers.py PAGE_ROWS (a page script runs when imported)
TABLE_ROWS = 500  # dashboard/components/common.py TABLE_ROWS


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """``(store root, run id, engine, twin's run id)``: the synthetic engine and a second build of it (the same layers)."""
    from engine_core.discover import load_engines
    from engine_core.store import RunStore

    root = tmp_path_factory.mktemp("big-runs")
    run_ids = []
    for name in ("big", "twin"):
        engine = load_engines([write_engine(tmp_path_factory.mktemp(name), LAYERS, name=name)])[0][0]
        run_ids.append(RunStore(root).add(engine)[0].run_id)
    return root, run_ids[0], RunStore(root).load(run_ids[0]), run_ids[1]


@pytest.fixture
def app(big, monkeypatch):
    monkeypatch.setenv("LAYERLENS_RUNS", str(big[0]))
    monkeypatch.setenv("LAYERLENS_NO_DEMO", "1")
    return AppTest.from_file(APP, default_timeout=120)


def _table(app):
    return app.dataframe[0].value


def test_the_layers_table_shows_one_page_and_says_which(app, big):
    _, run_id, engine, _ = big
    open_page(app, "layers", run_id)
    assert PAGE_ROWS < LAYERS
    assert f"{LAYERS:,} of {LAYERS:,} layers · rows 1–{PAGE_ROWS:,} shown ({PAGE_ROWS:,} a page)" in texts(app)
    table = _table(app)
    assert len(table) == PAGE_ROWS
    assert table["order"].tolist() == engine.layers["order"].sort_values().head(PAGE_ROWS).tolist()
    # The last page holds the rest.
    pages = -(-LAYERS // PAGE_ROWS)
    app.number_input(key=state.LAYER_PAGE).set_value(pages).run()
    first = (pages - 1) * PAGE_ROWS
    assert f"rows {first + 1:,}–{LAYERS:,} shown" in texts(app)
    assert _table(app)["order"].tolist() == engine.layers["order"].sort_values().iloc[first:].tolist()


def test_rows_are_ordered_over_every_layer_before_paging(app, big):
    _, run_id, engine, _ = big
    open_page(app, "layers", run_id)
    app.selectbox(key=state.LAYER_SORT).set_value("avg_ms").run()
    app.toggle(key=state.LAYER_DESCENDING).set_value(True).run()
    slowest = engine.layers.sort_values("avg_ms", ascending=False, kind="stable").head(PAGE_ROWS)
    assert _table(app)["name"].tolist() == slowest["name"].tolist()


def test_a_filter_narrower_than_a_page_shows_every_match(app, big):
    _, run_id, engine, _ = big
    open_page(app, "layers", run_id)
    app.number_input(key=state.LAYER_PAGE).set_value(2).run()
    wanted = engine.layers["layer_type"].value_counts()
    small = wanted[wanted <= PAGE_ROWS].index[0]
    app.multiselect(key=state.LAYER_TYPES).set_value([small]).run()
    assert not app.exception
    assert f"{wanted[small]:,} of {LAYERS:,} layers · click a row" in texts(app)
    assert len(_table(app)) == wanted[small]
    assert not app.number_input  # no paging for one page


def test_the_compare_table_shows_the_largest_changes_and_says_how_many_it_leaves_out(app, big):
    from engine_core.analysis.compare import compare_engines
    from engine_core.store import RunStore

    root, run_id, engine, twin = big
    groups = compare_engines([RunStore(root).load(twin), engine]).groups
    assert len(groups) > TABLE_ROWS
    open_page(app, "compare", run_id, twin)
    assert f"Showing {TABLE_ROWS:,} of {len(groups):,} aligned groups, largest change first" in texts(app)
    table = next(d.value for d in app.dataframe if "onnx_nodes" in d.value.columns)
    assert len(table) == TABLE_ROWS
    delta = table["delta_ms"].abs()
    assert delta.tolist() == sorted(delta.tolist(), reverse=True)


def test_layers_whose_names_repeat_keep_their_fallback_reasons(tmp_path, monkeypatch):
    """Layer names can repeat (the profile join pairs them in order of appearance); the Layers table looked each
    layer's fallback reason up in a Series indexed by name, which refuses a repeated index. A real QAT engine's
    layers listed twice: 12 fallbacks, 6 names twice."""
    import json
    import shutil

    from engine_core.discover import load_engines
    from engine_core.store import RunStore

    source = REPO.parent / "shared" / "fixtures" / "trex-rtx3090" / "qat"
    for name in ("resnet-qat.onnx.engine.graph.json", "resnet-qat.onnx.engine.build.metadata.json"):
        shutil.copy(source / name, tmp_path / name)
    graph = tmp_path / "resnet-qat.onnx.engine.graph.json"
    document = json.loads(graph.read_text())
    document["Layers"] = document["Layers"] * 2
    graph.write_text(json.dumps(document))
    engine = load_engines([tmp_path])[0][0]
    fallbacks = engine.analysis.fallbacks
    assert len(fallbacks) == 12 and fallbacks["name"].duplicated().sum() == 6
    root = tmp_path / "runs"
    run_id = RunStore(root).add(engine)[0].run_id
    monkeypatch.setenv("LAYERLENS_RUNS", str(root))
    monkeypatch.setenv("LAYERLENS_NO_DEMO", "1")
    app = open_page(AppTest.from_file(APP, default_timeout=120), "layers", run_id)
    table = _table(app)
    assert len(table) == len(engine.layers) == 126
    assert set(table.loc[table["fallback_reason"].notna(), "name"]) == set(fallbacks["name"])


def test_precisions_are_coloured_tags_on_the_layers_and_compare_tables(app, big):
    """The precision cells are tags in the precision colours of every chart (a Styler coloured them before, and
    styling every cell was most of each search or click on a big engine's Layers table)."""
    import json

    from layerlens.views.figures import PRECISION_COLORS

    _, run_id, engine, twin = big
    open_page(app, "layers", run_id)
    shown = app.dataframe[0]
    config = json.loads(shown.proto.columns)
    expected = engine.layers.sort_values("order").head(PAGE_ROWS)
    for column in ("compute_precision", "output_precision", "weights_precision"):
        assert config[column]["type_config"]["type"] == "multiselect"
        options = {o["value"]: o["color"] for o in config[column]["type_config"]["options"]}
        assert options == PRECISION_COLORS
        assert [list(tags) for tags in shown.value[column]] == [[p] for p in expected[column]]
    open_page(app, "compare", run_id, twin)
    groups = next(d for d in app.dataframe if "onnx_nodes" in d.value.columns)
    config = json.loads(groups.proto.columns)
    assert config["a_precision"]["label"] == "twin precision" and config["b_precision"]["label"] == "big precision"
    assert {p for tags in groups.value["b_precision"] for p in tags} == set(engine.layers["compute_precision"]) - {"NONE"}
