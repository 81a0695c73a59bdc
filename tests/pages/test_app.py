"""AppTest: the whole app from streamlit_app.py, every page, on a store seeded from the real fixtures."""

from __future__ import annotations

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from conftest import DATA, FIXTURES, REPO
from dashboard import state
from engine_core.analysis.estimate import measured_vs_estimated
from engine_core.analysis.gpus import gpu_by_name
from engine_core.analysis.latency_model import default_latency_model
from engine_core.store import RunStore

APP = str(REPO / "dashboard" / "streamlit_app.py")


def open_page(app, page, run=None, baseline=None, more=None):
    """Open ``page`` for engine ``run``; ``baseline`` None keeps the default baseline, "" means none."""
    if run:
        app.session_state[state.RUN] = run
    if baseline is not None:
        app.session_state[state.BASELINE] = baseline
    if more:
        app.session_state[state.COMPARE] = more
    app.run()
    if page != "overview":
        app.switch_page(f"app_pages/{page}.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def texts(app) -> str:
    parts = [m.value for m in app.markdown] + [c.value for c in app.caption] + [i.value for i in app.info]
    parts += [e.label for e in app.expander] + [s.value for s in app.success] + [w.value for w in app.warning]
    parts += [e.value for e in app.error]
    return "\n".join(str(p) for p in parts)


def metrics(app) -> dict:
    return {m.label: m.value for m in app.metric}


def test_overview_of_qat_engine(app, runs):
    open_page(app, "overview", runs["resnet-qat"])
    m = metrics(app)
    assert m["GPU compute median"] == "2.1964 ms" and m["Layers"] == "63" and m["Weights"] == "24.32 MiB"
    assert m["Requested precision"] == "INT8" and m["Engine size"] == "unknown"
    body = texts(app)
    assert "3 layers are not INT8" in body and "No fair-comparison warnings" in body
    assert "resnet-qat · NVIDIA GeForce RTX 3090" in body  # provenance caption


def test_overview_findings_are_against_the_sidebars_baseline(app, store_root, runs):
    """The README's promise: the Overview's top findings are `diagnose` against the sidebar's Baseline (FP16 here),
    not against the first Compare engine (FP32 here) and not the engine alone."""
    from engine_core.analysis.diagnose import diagnose

    store = RunStore(store_root)
    open_page(app, "overview", runs["resnet-qat"], runs["fp16/resnet"], more=[runs["fp32/resnet"]])
    expected = diagnose(store.load(runs["resnet-qat"]), store.load(runs["fp16/resnet"]))[:6]
    assert expected[0].kind == "speedup" and "1.83× fp16/resnet (FP16)" in expected[0].message  # only with a baseline
    shown = [m.value for m in app.markdown if " — " in m.value]
    assert [s.split(" — ", 1)[1] for s in shown] == [f.message for f in expected]
    baseline = store.load(runs["fp16/resnet"]).name
    assert baseline == "fp16/resnet" and f"Against the baseline **{baseline}** (change it in the sidebar)." in texts(app)


def test_overview_flags_fp32_as_tf32(app, runs):
    open_page(app, "overview", runs["fp32/resnet"])
    assert any("is TF32 on NVIDIA GeForce RTX 3090" in e.value for e in app.error)


def test_overview_with_baseline_opens_with_the_verdict(app, runs):
    open_page(app, "overview", runs["resnet-qat"], runs["fp16/resnet"])
    assert app.markdown[0].value == "#### resnet-qat is 1.83× fp16/resnet (FP16): faster by 1.826 ms GPU compute median."


@pytest.mark.parametrize("engine,expected", [("resnet-qat", "fp16/resnet"), ("fp16/resnet", "fp32/resnet"),
                                             ("fp32/resnet", None), ("mobilenet.qat", None)])
def test_default_baseline_is_same_model_same_gpu_next_wider(app, runs, engine, expected):
    open_page(app, "overview", runs[engine])
    assert app.session_state[state.BASELINE] == (runs[expected] if expected else "")


def test_layers_search_and_record(app, runs):
    open_page(app, "layers", runs["resnet-qat"])
    assert "63 of 63 layers" in texts(app)
    app.text_input(key=state.LAYER_SEARCH).input("i8f32").run()
    assert "1 of 63 layers" in texts(app)
    app.multiselect(key=state.LAYER_PRECISIONS).set_value(["FP32"]).run()
    assert "0 of 63 layers" in texts(app)


def test_precision_page_groups_reasons(app, runs):
    open_page(app, "precision", runs["mobilenet.qat"])
    body = texts(app)
    assert "Requested precision: **INT8** (build flags)" in body
    assert "**int8_wide_output** · 18 layers" in body and "**no_qdq**" in body


def test_size_page_and_diff(app, runs):
    open_page(app, "size", runs["resnet-qat"], runs["fp16/resnet"])
    body = texts(app)
    assert "24.32 MiB of weights" in body
    # The pair aligns in 54 groups (53 by ONNX node, the stem convolution by structure: see Compare). Four hold no
    # weights (pool1 pad, max pool, average pool, softmax). The other 50 hold all 54 weighted layers of each engine
    # (each stage's projection shortcut joins its block's last convolution at the residual Add), and every one of
    # them went from FP16 to INT8 weights.
    from engine_core.analysis.compare import compare_engines
    from engine_core.discover import load_engines

    fp16, qat = (load_engines([FIXTURES / "trex-rtx3090" / d])[0][0] for d in ("fp16", "qat"))
    groups = compare_engines([fp16, qat]).groups
    weighted = groups[(groups["a_weights_bytes"] > 0) | (groups["b_weights_bytes"] > 0)]
    assert (len(groups), len(weighted)) == (54, 50)
    weighted_layers = set(fp16.layers.loc[fp16.layers["weights_bytes"] > 0, "name"])
    assert sum(len(weighted_layers.intersection(names)) for names in weighted["a_layers"]) == len(weighted_layers) == 54
    assert set(weighted["a_weights_precision"]) == {"FP16"} and set(weighted["b_weights_precision"]) == {"INT8"}
    net = (qat.layers["weights_bytes"].sum() - fp16.layers["weights_bytes"].sum()) / 2**20
    assert f"**{len(weighted)}** aligned ONNX groups changed weight storage; net **{net:+.2f} MiB**" in body
    assert f"{net:+.2f}" == "-24.32"


def test_size_page_reconciles_engine_file(app, runs):
    open_page(app, "size", runs["result-04"])
    assert "12.58 MiB engine" in texts(app)


def test_latency_page_reconciles_and_estimates_other_gpu(app, runs, store_root):
    open_page(app, "latency", runs["resnet-qat"])
    body = texts(app) + "\n".join(t.value for t in app.get("text")) + "\n".join(m.value for m in app.markdown)
    assert "**2** reformat layers take **0.0389 ms**" in body
    app.selectbox(key=state.GPU).set_value("A100 40GB").run()
    assert not app.exception
    m = metrics(app)
    a100 = float(m["Estimated at INT8 on A100 40GB"].lstrip("~").split()[0])
    engine = RunStore(store_root).load(runs["resnet-qat"])
    model = default_latency_model()
    assert a100 == pytest.approx(model.predict(engine.layers, gpu_by_name("A100 40GB"), precision="INT8")["estimated_ms"].sum(),
                                 abs=1e-4)


def test_latency_page_holds_every_layer_against_the_model(app, runs, store_root):
    open_page(app, "latency", runs["mobilenet.qat"])
    engine = RunStore(store_root).load(runs["mobilenet.qat"])
    table = measured_vs_estimated(engine)
    slow = table[table["slower_than_model"]].sort_values("excess_ms", ascending=False)
    m = metrics(app)
    assert m["Measured per-layer sum"] == f"{engine.per_layer_sum_ms:.4f} ms" == "0.4704 ms"
    assert m["Estimated (LayerLens latency model v1)"] == f"~{table['estimated_ms'].sum():.4f} ms"
    assert m["Slower than the model expects"] == f"{len(slow)} layers" and len(slow) >= 10
    shown = next(d.value for d in app.dataframe if "excess_ms" in d.value.columns)
    assert list(shown["name"]) == list(slow["name"])
    body = texts(app)
    assert f"**{default_latency_model().basis}** expects" in body and "TITAN RTX" in body


def test_latency_page_without_profile_says_what_to_do(app, runs):
    open_page(app, "latency", runs["result-01"])
    assert "No per-layer times" in texts(app)


def test_compare_page_n_way(app, runs):
    open_page(app, "compare", runs["resnet-qat"], runs["fp16/resnet"], [runs["fp32/resnet"]])
    m = metrics(app)
    assert m["fp16/resnet"] == "4.0222 ms" and m["resnet-qat"] == "2.1964 ms" and m["fp32/resnet"] == "12.1682 ms"
    table = next(d.value for d in app.dataframe if "fp32/resnet ms" in d.value.columns)
    assert all(len(tags) == 1 for tags in table["fp32/resnet precision"])  # each group's precision, as a coloured tag


def test_compare_page(app, runs):
    open_page(app, "compare", runs["resnet-qat"], runs["fp16/resnet"])
    m = metrics(app)
    assert m["Speedup resnet-qat vs fp16/resnet"] == "1.83x"
    assert m["fp16/resnet"] == "4.0222 ms" and m["resnet-qat"] == "2.1964 ms"
    body = texts(app)
    assert "#### resnet-qat is 1.83× fp16/resnet (FP16): faster by 1.826 ms GPU compute median." in body
    assert "**54** aligned groups (53 by onnx, 1 by structure; 98% of compute layers)" in body
    assert "explain the end-to-end change to within 0.0663 ms" in body
    assert not app.warning or all("Not measured" not in w.value for w in app.warning)


def test_compare_page_needs_a_baseline(app, runs):
    open_page(app, "compare", runs["resnet-qat"], "")
    assert "Pick a **Baseline** in the sidebar" in texts(app)


def test_compare_page_refuses_different_networks(app, runs):
    open_page(app, "compare", runs["mobilenet.qat"], runs["resnet-qat"])
    body = texts(app)
    assert "These engines are different networks" in body and "Pick a baseline built from the same model" in body
    assert "Aligned groups" not in [s.value for s in app.subheader]


def test_import_pasted_text_and_bad_paste(app, runs, store_root):
    open_page(app, "import_page", runs["resnet-qat"])
    app.text_input(key="import.paste_name").input("issue-1234").run()
    app.text_area(key="import.paste").input((DATA / "logs" / "pasted_issue_fragment.txt").read_text()).run()
    app.button(key="import.paste_go").click().run()
    assert not app.exception
    assert any("Imported **issue-1234**" in s.value for s in app.success)
    assert app.session_state[state.RUN].startswith("issue-1234-")
    app.text_area(key="import.paste").input("hello, this is not a log").run()
    app.button(key="import.paste_go").click().run()
    errors = [e.value for e in app.error]
    assert any(e.startswith("issue-1234.log: is not a TensorRT artifact") for e in errors), errors
    assert not any("/tmp" in e for e in errors)


def test_models_page_reads_sample_qdq_model(app, runs, tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERLENS_MODELS", str(tmp_path))  # samples are generated on first use, here
    open_page(app, "models", runs["resnet-qat"])
    app.selectbox(key="models.choice").select_index(1).run()  # the zoo's tiny_cnn_qdq
    assert metrics(app)["Q/DQ nodes"] == "8"
    assert any("Explicitly quantized" in s.value for s in app.success)


def test_empty_store_explains_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERLENS_RUNS", str(tmp_path / "empty"))
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception
    assert "No engine to show yet" in texts(app)
    assert any("--exportLayerInfo" in c.value for c in app.code)


def test_unreadable_run_is_an_error_not_a_traceback(tmp_path, monkeypatch):
    from engine_core.discover import load_engines
    from engine_core.store import RunStore

    store = RunStore(tmp_path)
    manifest, _ = store.add(load_engines([FIXTURES / "trex-rtx3090" / "qat"])[0][0])
    shutil.rmtree(tmp_path / manifest.run_id / "artifacts")
    (tmp_path / manifest.run_id / "artifacts").mkdir()
    monkeypatch.setenv("LAYERLENS_RUNS", str(tmp_path))
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception and not app.error
    assert "No engine to show yet" in texts(app)  # a broken run is not offered as an engine …
    app.switch_page("app_pages/runs.py").run()    # … it is listed, with the reason, on the Runs page
    assert not app.exception
    warnings = [w.value for w in app.warning]
    assert len(warnings) == 1 and manifest.run_id in warnings[0] and "artifact files are missing" in warnings[0]


def test_build_page_composes_version_aware_commands(app, runs):
    open_page(app, "build", runs["resnet-qat"])
    def code() -> str:  # the command as bash reads it: line continuations joined
        return "\n".join(c.value for c in app.code).replace(" \\\n    ", " ")
    assert "trtexec --onnx=" in code() and "--exportLayerInfo=" in code() and "--fp16" not in code()
    assert any("TF32" in w.value for w in app.warning)
    app.checkbox(key="build.fp16").check().run()
    app.checkbox(key="build.int8").check().run()
    assert "--fp16 --int8" in code()
    assert any("synthetic scales" in w.value for w in app.warning)
    app.selectbox(key="build.version").set_value("11.0").run()
    assert app.checkbox(key="build.fp16").disabled
    assert not app.error  # disabled toggles do not apply on TensorRT 11
    assert "--fp16" not in code() and "--int8" not in code() and "trtexec --onnx=" in code()
    app.selectbox(key="build.version").set_value("10.16").run()
    assert "--fp16 --int8" in code()  # the ticks come back with the version that honours them
    assert app.button(key="build.run").disabled  # no trtexec on this machine


@pytest.mark.parametrize("page", ["runs", "import_page"])
def test_pages_that_draw_no_engine_never_load_one(app, runs, monkeypatch, page):
    """With an engine picked, the sidebar's Report button names its file from the run's manifest: loading the
    engine for its name was half the server time of the Runs page of a 100k-layer run."""
    import streamlit as st

    st.cache_resource.clear()  # an engine an earlier test loaded would hide a load here
    loads = []
    real_load = RunStore.load
    monkeypatch.setattr(RunStore, "load",
                        lambda self, run_id, *a, **k: loads.append(run_id) or real_load(self, run_id, *a, **k))
    app.session_state[state.RUN] = runs["resnet-qat"]
    app.switch_page(f"app_pages/{page}.py").run()
    assert not app.exception, [e.value for e in app.exception]
    # (Its file name, from the manifest, is checked in a real browser: tests/browser/test_see_and_share.py.)
    assert ":material/summarize: Report (HTML)" in [b.proto.label for b in app.sidebar.get("download_button")]
    assert loads == []


def test_the_collector_is_paused_only_while_a_page_runs(app, runs, monkeypatch):
    """The router pauses Python's cyclic collector around a page (a 100k-layer engine's ~2M live objects made
    each collection slow); the page must see it paused and the server must get it back after."""
    import gc

    from dashboard.components import common

    seen = []
    real_current_engine = common.current_engine
    monkeypatch.setattr(common, "current_engine",
                        lambda *a, **k: seen.append(gc.isenabled()) or real_current_engine(*a, **k))
    gc.enable()  # as a server runs: on (tests/conftest.py turns it back on after a test that runs the CLI in-process)
    open_page(app, "layers", runs["resnet-qat"])
    assert seen and not any(seen)
    assert gc.isenabled()
