"""Who may see and touch what: path fences (``..``, absolute paths, links out), the token check, read-only stores."""

from __future__ import annotations

import os
import shutil

import pytest

from conftest import FIXTURES
from engine_core.errors import StoreError
from layerlens import access
from layerlens.access import PathNotAllowedError, fence


@pytest.fixture
def roots(tmp_path):
    """A store and a models folder to allow, and a secret folder beside them that must stay out of reach."""
    store, models, secret = tmp_path / "store", tmp_path / "models", tmp_path / "secret"
    for folder in (store, models, secret):
        folder.mkdir()
    (models / "net.onnx").write_bytes(b"onnx")
    (secret / "key.onnx").write_bytes(b"secret")
    return store, models, secret


def test_paths_inside_a_root_resolve_to_themselves(roots):
    store, models, _ = roots
    assert fence(models / "net.onnx", [store, models], "Model path") == (models / "net.onnx").resolve()
    assert fence(models, [store, models], "Folder") == models.resolve()  # a root itself
    # Not there yet: fenced all the same, so the caller's own "no such file" message follows.
    assert fence(store / "new" / "calib", [store], "Folder") == (store / "new" / "calib").resolve()


@pytest.mark.parametrize("escape", [
    "{models}/../secret/key.onnx",          # `..` out of a root
    "{models}/./../../etc/passwd",
    "{secret}/key.onnx",                    # an absolute path elsewhere
    "/etc/passwd",
    "{models}-evil/net.onnx",               # a sibling whose name starts like the root
    "~/.ssh/id_rsa",
    "relative/net.onnx",                    # relative to the server's working folder, which is not a root
])
def test_paths_outside_every_root_are_refused(roots, escape):
    store, models, secret = roots
    path = escape.format(models=models, secret=secret)
    with pytest.raises(PathNotAllowedError) as refused:
        fence(path, [store, models], "Model path")
    message = str(refused.value)
    assert message.startswith(f"Model path `{path}` is outside the folders this dashboard may read (")
    assert f"`{store}`" in message and "--allow-dir FOLDER" in message and "Upload the file" in message


def test_links_are_followed_before_the_fence(roots):
    store, models, secret = roots
    (models / "innocent.onnx").symlink_to(secret / "key.onnx")          # a file link out of the root
    (models / "calib").symlink_to(secret, target_is_directory=True)     # a folder link out of the root
    (models / "alias.onnx").symlink_to(models / "net.onnx")             # a link that stays inside is fine
    for escape in (models / "innocent.onnx", models / "calib", models / "calib" / "key.onnx"):
        with pytest.raises(PathNotAllowedError):
            fence(escape, [store, models], "Model path")
    assert fence(models / "alias.onnx", [store, models], "Model path") == (models / "net.onnx").resolve()


def test_a_root_reached_through_a_link_still_fences(roots, tmp_path):
    store, models, secret = roots
    (tmp_path / "models-link").symlink_to(models, target_is_directory=True)
    assert fence(models / "net.onnx", [tmp_path / "models-link"], "Model path") == (models / "net.onnx").resolve()
    with pytest.raises(PathNotAllowedError):
        fence(tmp_path / "models-link" / ".." / "secret" / "key.onnx", [tmp_path / "models-link"], "Model path")


def test_readable_roots_are_the_store_the_caches_and_allowed_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERLENS_MODELS", str(tmp_path / "m"))
    monkeypatch.setenv("LAYERLENS_RECIPES", str(tmp_path / "r"))
    monkeypatch.setenv(access.ALLOW_DIRS_ENV, os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")]))
    assert access.readable_roots(tmp_path / "s") == [tmp_path / "s", tmp_path / "m", tmp_path / "r",
                                                      tmp_path / "a", tmp_path / "b"]
    monkeypatch.delenv(access.ALLOW_DIRS_ENV)
    assert access.allowed_dirs() == []


def test_token_comparison():
    assert access.token_matches("s3cret-Token", "s3cret-Token")
    assert not access.token_matches("s3cret-Toke", "s3cret-Token")
    assert not access.token_matches(None, "s3cret-Token")
    assert not access.token_matches("", "s3cret-Token")
    assert not access.token_matches("é", "e")  # non-ASCII input is compared as bytes, not refused with a crash
    assert access.token_digest("t") != "t" and len(access.token_digest("t")) == 64


@pytest.mark.parametrize("address,loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("", False), (None, False), ("192.168.1.7", False), ("example.com", False),
])
def test_loopback_addresses(address, loopback):
    assert access.is_loopback(address) is loopback


def test_read_only_switch(monkeypatch):
    monkeypatch.delenv(access.READ_ONLY_ENV, raising=False)
    assert not access.read_only()
    monkeypatch.setenv(access.READ_ONLY_ENV, "0")
    assert not access.read_only()
    monkeypatch.setenv(access.READ_ONLY_ENV, "1")
    assert access.read_only()


@pytest.fixture
def stored(tmp_path):
    """A writable store holding the QAT engine, and the same folder opened read-only."""
    from engine_core.discover import load_engines
    from engine_core.store import RunStore

    writable = RunStore(tmp_path / "runs")
    manifest, _ = writable.add(load_engines([FIXTURES / "trex-rtx3090" / "qat"])[0][0])
    return writable, RunStore(tmp_path / "runs", read_only=True), manifest


def _snapshot(root):
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*"))


def test_read_only_store_refuses_every_write(stored, tmp_path):
    from engine_core.discover import load_engines
    from engine_core.store.bundle import import_bundle, write_bundle

    writable, shared, manifest = stored
    before = _snapshot(shared.root)
    bundle = write_bundle(writable, [manifest.run_id], tmp_path / "runs.lens.zip")  # reading is allowed
    fp16 = load_engines([FIXTURES / "trex-rtx3090" / "fp16"])[0][0]
    attempts = {
        "Storing runs": lambda: shared.add(fp16),
        "Renaming runs": lambda: shared.rename(manifest.run_id, "mine now"),
        "Tagging runs": lambda: shared.set_tags(manifest.run_id, add=["baseline"]),
        "Deleting runs": lambda: shared.delete(manifest.run_id),
        "Importing bundles": lambda: import_bundle(shared, bundle, "replace"),
    }
    for action, attempt in attempts.items():
        with pytest.raises(StoreError, match=f"^{action} is turned off: the run store .* is shared read-only"):
            attempt()
    assert _snapshot(shared.root) == before
    assert [r.run_id for r in shared.list_runs()] == [manifest.run_id]
    assert shared.load(manifest.run_id).layers.shape[0] == 63  # viewing still works


def test_read_only_import_leaves_no_staging_folder(stored, tmp_path):
    from engine_core.store.bundle import import_bundle, write_bundle

    writable, shared, manifest = stored
    bundle = write_bundle(writable, [manifest.run_id], tmp_path / "b.lens.zip")
    shutil.rmtree(writable.root / manifest.run_id)
    with pytest.raises(StoreError):
        import_bundle(shared, bundle)
    assert list(shared.root.iterdir()) == []  # refused before any staging folder was made


def test_the_policy_module_imports_neither_streamlit_nor_the_dashboard_nor_the_cli():
    from conftest import REPO
    from test_layering import _imports

    banned = ("streamlit", "dashboard", "layerlens.cli")
    found = [name for _, name in _imports(REPO / "layerlens" / "access.py")
             if any(name == b or name.startswith(b + ".") for b in banned)]
    assert found == []
