"""AppTest: the Graph and Runs pages on the real fixtures (rename, tag, delete after asking, bundle, broken runs)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.pages.test_app import APP, open_page, texts


def test_graph_page_draws_and_finds_layers(app, runs):
    open_page(app, "graph", runs["resnet-qat"], runs["fp16/resnet"])
    assert "63 layers. Drag to pan" in texts(app)
    assert [r.label for r in app.radio] == ["Colour by", "Size by"]
    app.text_input(key="graph.search").set_value("conv3_block2").run()
    assert "**3** layers match 'conv3_block2' (outlined black)" in texts(app)
    app.radio(key="graph.colour").set_value("Change vs baseline").run()
    assert not app.exception
    app.selectbox(key="graph.detail").set_value("Scope depth 1").run()
    assert not app.exception and "folded by ONNX scope at depth 1" in texts(app)


def test_graph_page_without_a_baseline_offers_precision_only(app, runs):
    open_page(app, "graph", runs["mobilenet.qat"], "")
    assert app.radio(key="graph.colour").options == ["Compute precision"]


def test_runs_page_renames_tags_and_asks_before_deleting(tmp_path, monkeypatch):
    from engine_core.discover import load_engines
    from engine_core.store import RunStore
    from conftest import FIXTURES

    store = RunStore(tmp_path / "runs")
    for engine in load_engines([FIXTURES / "trex-rtx3090"])[0]:
        store.add(engine)
    (store.root / "half-copied").mkdir()
    monkeypatch.setenv("LAYERLENS_RUNS", str(store.root))
    monkeypatch.setenv("LAYERLENS_NO_DEMO", "1")
    app = AppTest.from_file(APP, default_timeout=60)
    open_page(app, "runs")
    assert "`half-copied`: no manifest.json" in " ".join(w.value for w in app.warning)
    qat = next(r for r in store.list_runs() if r.name == "resnet-qat")
    app.multiselect(key="runs.chosen").set_value([qat.run_id]).run()
    form_inputs = {t.label: t for t in app.text_input}
    form_inputs["Name"].set_value("resnet50 QAT")
    form_inputs["Tags (space-separated)"].set_value("baseline candidate")
    next(b for b in app.button if b.label == "Save").click().run()
    assert not app.exception
    assert store.manifest(qat.run_id).name == "resnet50 QAT" and store.manifest(qat.run_id).tags == ["baseline", "candidate"]
    app.multiselect(key="runs.chosen").set_value([qat.run_id]).run()
    next(b for b in app.button if b.label.startswith(":material/delete: Delete 1 run")).click().run()
    assert qat.run_id in {r.run_id for r in store.list_runs()}  # the dialog asks first
    assert any("cannot be undone" in m.value for m in app.markdown)
    # Confirming runs inside the dialog (a fragment AppTest cannot rerun): tests/browser/test_see_and_share.py.
