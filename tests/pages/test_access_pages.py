"""AppTest: the access gate before every page, read-only pages without their controls, fenced paths, the Models page."""

from __future__ import annotations

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO
from dashboard import state

APP = str(REPO / "dashboard" / "streamlit_app.py")

TOKEN = "s3cret-token-for-tests"
PAGES = ["overview", "layers", "precision", "size", "latency", "graph", "compare", "import_page", "runs", "build",
         "models"]


def _texts(at) -> str:
    return "\n".join(str(e.value) for kind in ("title", "markdown", "info", "error", "caption", "success", "warning")
                     for e in at.get(kind))


@pytest.fixture
def shared(store_root, monkeypatch):
    """The app as `layerlens dashboard --host 0.0.0.0` runs it: a token is required."""
    monkeypatch.setenv("LAYERLENS_RUNS", str(store_root))
    monkeypatch.setenv("LAYERLENS_NO_DEMO", "1")
    monkeypatch.setenv("LAYERLENS_TOKEN", TOKEN)
    return AppTest.from_file(APP, default_timeout=60)


@pytest.mark.parametrize("token", [None, "wrong", TOKEN[:-1], ""])
def test_without_the_right_token_only_the_way_in_is_shown(shared, runs, store_root, token):
    if token is not None:
        shared.query_params["token"] = token
    shared.query_params["run"] = runs["resnet-qat"]  # a shared view link, minus its token
    shared.run()
    assert not shared.exception
    assert [t.value for t in shared.title] == [":material/lock: LayerLens"]
    body = _texts(shared)
    assert "this browser tab has not brought it" in body and "it ends in `?token=…`" in body
    assert ("not this dashboard's" in body) is bool(token)
    # Nothing else: no sidebar, no engine, no numbers, no store path, no run names.
    assert not shared.sidebar.children and not shared.metric and not shared.dataframe and not shared.selectbox
    assert "resnet" not in body and str(store_root) not in body
    assert "token" not in shared.query_params  # a wrong token is not left in the address bar either


def test_the_right_token_opens_every_page_and_leaves_the_url(shared, runs):
    shared.query_params.update(token=TOKEN, run=runs["resnet-qat"])
    shared.run()
    assert not shared.exception
    assert "token" not in shared.query_params and shared.query_params["run"] == runs["resnet-qat"]
    assert {m.label: m.value for m in shared.metric}["Layers"] == "63"
    assert shared.session_state[state.ACCESS] != TOKEN  # the session keeps a digest, not the secret
    for page in PAGES[1:]:  # navigation keeps working without the token in the URL
        shared.switch_page(f"app_pages/{page}.py").run()
        assert not shared.exception and shared.title[0].value != ":material/lock: LayerLens", page


def test_an_exposed_server_without_a_token_shows_nothing(app, monkeypatch):
    from streamlit import config

    monkeypatch.delenv("LAYERLENS_TOKEN", raising=False)
    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")  # `streamlit run --server.address 0.0.0.0`, no token
    try:
        app.run()
    finally:
        config.set_option("server.address", before)
    assert not app.exception and not app.sidebar.children and not app.metric
    body = _texts(app)
    assert "listens on `0.0.0.0`, where other machines can reach it, but has no access token" in body
    assert "`layerlens dashboard --host 0.0.0.0`" in body


@pytest.fixture
def read_only(app, monkeypatch):
    monkeypatch.setenv("LAYERLENS_READ_ONLY", "1")
    return app


MUTATING_BUTTONS = {"import.go", "import.paste_go", "import.demo", "build.rtx.go", "build.run", "runs.delete",
                    "runs.delete.yes"}


def _open(at, page, **session):
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()
    for key, value in session.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_read_only_import_and_build_pages_say_why_instead_of_offering_controls(read_only):
    for page, what in (("import_page", "Importing runs"), ("build", "Building engines")):
        at = _open(read_only, page)
        assert any(i.value.startswith(f"{what} is turned off: this dashboard shares its run store read-only")
                   for i in at.info), page
        main = at.main
        assert not main.get("file_uploader") and not main.text_input and not main.text_area and not main.button, page
    assert any("Read-only" in c.value for c in read_only.sidebar.caption)


def test_read_only_runs_page_keeps_bundling_and_drops_rename_tag_delete(read_only, runs, store_root):
    before = sorted(p.name for p in store_root.iterdir())
    at = _open(read_only, "runs", **{"runs.chosen": [runs["resnet-qat"]]})
    assert any(i.value.startswith("Renaming, tagging and deleting runs is turned off") for i in at.info)
    main = at.main
    assert [b.proto.label for b in main.get("download_button")] == [":material/package_2: Bundle 1 run(s)"]
    assert not main.text_input and not {b.key for b in main.button} & MUTATING_BUTTONS
    assert [b.key for b in main.button] == ["runs.open"]  # "Explore it" only
    assert sorted(p.name for p in store_root.iterdir()) == before


def test_read_only_store_refuses_writes_the_pages_would_have_made(read_only, store_root, monkeypatch):
    from dashboard import data
    from engine_core.errors import StoreError

    monkeypatch.setenv("LAYERLENS_RUNS", str(store_root))
    assert data.store().read_only
    run_id = data.store().list_runs()[0].run_id
    for attempt in (lambda s: s.delete(run_id), lambda s: s.rename(run_id, "x"), lambda s: s.set_tags(run_id, ["t"])):
        with pytest.raises(StoreError, match="is shared read-only"):
            attempt(data.store())


@pytest.mark.parametrize("field,outside", [
    ("build.model_path", "/etc/passwd"),
    ("build.model_path", "{models}/../../etc/passwd"),
    ("build.rtx.calib", "/etc"),
])
def test_build_page_refuses_paths_outside_the_readable_folders(app, tmp_path, monkeypatch, field, outside):
    monkeypatch.setenv("LAYERLENS_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("LAYERLENS_RECIPES", str(tmp_path / "recipes"))
    from engine_core.build.rtx import rtx_available

    if not rtx_available():
        pytest.skip("TensorRT-RTX is not installed: the page offers no build")
    at = _open(app, "build")
    if field == "build.model_path":
        at.selectbox(key="build.model").select("other path…").run()
    else:
        at.selectbox(key="build.model").select("tiny_cnn (sample)").run()
    at.text_input(key=field).input(outside.format(models=tmp_path / "models")).run()
    at.button(key="build.rtx.go").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "is outside the folders this dashboard may read" in errors[0], errors
    assert "--allow-dir FOLDER" in errors[0]
    assert not (tmp_path / "recipes").exists()  # refused before any recipe or build ran


def test_models_page_lists_the_samples_and_the_users_own_models(app, tmp_path, monkeypatch):
    from engine_core.models.zoo import ZOO, sample_model_path

    cache, mine = tmp_path / "models", tmp_path / "mine"
    monkeypatch.setenv("LAYERLENS_MODELS", str(cache))
    sample_model_path("tiny_cnn")                      # a generated sample: listed once, as the sample
    mine.mkdir()
    shutil.copy(cache / "tiny_cnn.onnx", cache / "my_cnn.onnx")
    shutil.copy(cache / "tiny_cnn.onnx", mine / "other.onnx")
    monkeypatch.setenv("LAYERLENS_ALLOW_DIRS", str(mine))
    at = _open(app, "models")
    options = at.selectbox(key="models.choice").options
    assert options[:len(ZOO)] == [f"{name} (sample: {spec.description})" for name, spec in ZOO.items()]
    assert options[len(ZOO):] == ["my_cnn.onnx", "other.onnx"]
    at.selectbox(key="models.choice").select_index(len(ZOO) + 1).run()
    assert {m.label: m.value for m in at.metric}["Nodes"] == "8"


def test_import_page_offers_to_build_the_demo_not_repo_fixtures(app, monkeypatch):
    from engine_core.build.rtx import rtx_available

    monkeypatch.delenv("LAYERLENS_NO_DEMO")
    at = _open(app, "import_page")
    labels = [e.label for e in at.expander]
    assert ("No artifacts at hand? Build real ResNet-18 engines here (TensorRT-RTX on the CPU, about 10 s)"
            in labels) is rtx_available()
    assert "shared/fixtures" not in _texts(at)
