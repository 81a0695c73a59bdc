"""Run bundles and run management: a teammate sees the same runs; hostile zips and conflicts never damage a store."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile

import pytest

from conftest import FIXTURES, REPO
from engine_core.errors import ArtifactFormatError, ArtifactTooLargeError, StoreError
from engine_core.store import RunStore
from engine_core.store.baseline import default_baseline
from engine_core.store.bundle import BUNDLE_INDEX, import_bundle, write_bundle


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "layerlens", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, timeout=300, input=stdin)


@pytest.fixture
def store(tmp_path):
    """The three RTX 3090 ResNet-50 runs, one renamed and tagged."""
    from engine_core.discover import load_engines

    store = RunStore(tmp_path / "mine")
    for engine in load_engines([FIXTURES / "trex-rtx3090"])[0]:  # fp32/resnet, fp16/resnet, resnet-qat
        store.add(engine)
    fp16 = next(r for r in store.list_runs() if r.name == "fp16/resnet")
    store.rename(fp16.run_id, "resnet50 fp16 (RTX 3090)")
    store.set_tags(fp16.run_id, add=["baseline", "shipped"])
    return store


def snapshot(store: RunStore) -> dict:
    """Every file of the store, byte for byte: what "nothing stored is lost" means."""
    out = {}
    for root, _, files in os.walk(store.root):
        for f in files:
            path = os.path.join(root, f)
            out[os.path.relpath(path, store.root)] = open(path, "rb").read()
    return out


def test_bundle_round_trip_through_the_cli(store, tmp_path):
    bundle = tmp_path / "runs.lens.zip"
    proc = cli("bundle", "--all", "-o", bundle, "--store", store.root)
    assert proc.returncode == 0 and "3 runs" in proc.stdout, proc.stderr
    theirs = tmp_path / "theirs"
    proc = cli("import", bundle, "--store", theirs)
    assert proc.returncode == 0 and proc.stdout.count("imported:") == 3, proc.stderr
    mine, other = store.list_runs(), RunStore(theirs).list_runs()
    key = lambda r: (r.run_id, r.name, tuple(r.tags), tuple(r.files), r.layer_count, r.device)  # noqa: E731
    assert sorted(map(key, mine)) == sorted(map(key, other))
    for run in mine:
        a, b = store.load(run.run_id), RunStore(theirs).load(run.run_id)
        assert a.layers[["name", "compute_precision", "avg_ms"]].equals(b.layers[["name", "compute_precision", "avg_ms"]])
    # Importing again changes nothing.
    again = cli("import", bundle, "--store", theirs)
    assert again.returncode == 0 and again.stdout.count("already present:") == 3


def test_bundle_by_name_and_unknown_run(store, tmp_path):
    proc = cli("bundle", "resnet50 fp16 (RTX 3090)", "resnet-qat", "-o", tmp_path / "two.lens.zip", "--store", store.root)
    assert proc.returncode == 0 and "2 runs" in proc.stdout
    with zipfile.ZipFile(tmp_path / "two.lens.zip") as zf:
        assert len(json.loads(zf.read(BUNDLE_INDEX))["runs"]) == 2
    proc = cli("bundle", "nope", "-o", tmp_path / "x.lens.zip", "--store", store.root)
    assert proc.returncode == 1 and "No run 'nope'" in proc.stderr and not (tmp_path / "x.lens.zip").exists()


def test_conflicting_run_is_refused_then_copied_or_replaced(store, tmp_path):
    bundle = write_bundle(store, [r.run_id for r in store.list_runs()], tmp_path / "b.lens.zip")
    theirs = RunStore(tmp_path / "theirs")
    import_bundle(theirs, bundle)
    fp16 = next(r for r in theirs.list_runs() if "baseline" in r.tags)
    theirs.rename(fp16.run_id, "their own name")
    before = snapshot(theirs)
    with pytest.raises(StoreError, match="differs from the bundle's.*Nothing was imported"):
        import_bundle(theirs, bundle)
    assert snapshot(theirs) == before  # all or nothing
    proc = cli("import", bundle, "--store", theirs.root)
    assert proc.returncode == 1 and "--rename" in proc.stderr
    copied = import_bundle(theirs, bundle, "rename")
    assert [r.status for r in copied].count("imported as a copy") == 1
    assert theirs.manifest(f"{fp16.run_id}-2").name == "resnet50 fp16 (RTX 3090)"
    assert theirs.manifest(fp16.run_id).name == "their own name"
    replaced = import_bundle(theirs, bundle, "replace")
    assert [r.status for r in replaced].count("replaced") == 1
    assert theirs.manifest(fp16.run_id).name == "resnet50 fp16 (RTX 3090)"


def _zip(path, members: dict, index: dict | None = None, **options):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        if index is not None:
            zf.writestr(BUNDLE_INDEX, json.dumps(index))
        for name, content in members.items():
            if isinstance(content, zipfile.ZipInfo):
                zf.writestr(content, options.get("payload", b""))
            else:
                zf.writestr(name, content)
    return path


def _symlink_member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


INDEX = {"format": "layerlens-bundle", "version": 1, "runs": ["r1"]}


@pytest.mark.parametrize("members,options,error,message", [
    ({"/etc/passwd": "x"}, {}, ArtifactFormatError, "unsafe member path"),
    ({"runs/../../escape.txt": "x"}, {}, ArtifactFormatError, "unsafe member path"),
    ({"C:/windows/x": "x"}, {}, ArtifactFormatError, "unsafe member path"),
    ({"runs/r1/link": _symlink_member("runs/r1/link")}, {"payload": b"/etc/passwd"}, ArtifactFormatError, "symbolic link"),
    ({"runs/r1/bomb.json": b"0" * (20 * 2**20)}, {}, ArtifactTooLargeError, "compression ratio"),
    ({f"runs/r1/f{i}.json": "{}" for i in range(2001)}, {}, ArtifactTooLargeError, "over the 2000 limit"),
], ids=["absolute", "dotdot", "drive", "symlink", "bomb", "entries"])
def test_hostile_bundles_are_refused_and_the_store_is_untouched(store, tmp_path, members, options, error, message):
    hostile = _zip(tmp_path / "hostile.lens.zip", members, INDEX, **options)
    before = snapshot(store)
    with pytest.raises(error, match=message):
        import_bundle(store, hostile)
    assert snapshot(store) == before
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "mine" / "escape.txt").exists()
    assert not [p for p in store.root.iterdir() if p.name.startswith(".bundle-")]  # staging cleaned up


def test_oversized_member_is_refused(store, tmp_path, monkeypatch):
    import engine_core.archive as archive

    monkeypatch.setattr(archive, "MAX_ZIP_TOTAL_BYTES", 1000)
    big = _zip(tmp_path / "big.lens.zip", {"runs/r1/manifest.json": os.urandom(4000)}, INDEX)
    with pytest.raises(ArtifactTooLargeError, match="over the 0 MiB limit"):
        import_bundle(store, big)


@pytest.mark.parametrize("index,members,message", [
    (None, {"model.graph.json": "[]"}, "not a LayerLens bundle"),
    ({"format": "something-else", "runs": []}, {}, "unreadable layerlens-bundle.json"),
    ({"format": "layerlens-bundle", "version": 9, "runs": []}, {}, "bundle format 9"),
    ({"format": "layerlens-bundle", "version": 1, "runs": ["../up"]}, {}, "invalid run ids"),
    (INDEX, {"runs/r1/manifest.json": "{not json"}, "cannot be read"),
    (INDEX, {"runs/r1/manifest.json": json.dumps({"run_id": "r1", "name": "x", "source": "import",
                                                  "files": ["gone.graph.json"], "created_utc": ""})}, "missing its artifact"),
    (INDEX, {"runs/r1/manifest.json": json.dumps({"run_id": "r2", "name": "x", "source": "import", "files": [],
                                                  "created_utc": ""})}, "names another run"),
], ids=["no-index", "wrong-format", "future-version", "bad-id", "bad-manifest", "missing-file", "lying-manifest"])
def test_damaged_bundles_say_what_is_wrong(store, tmp_path, index, members, message):
    damaged = _zip(tmp_path / "damaged.lens.zip", members, index)
    before = snapshot(store)
    with pytest.raises(ArtifactFormatError, match=message):
        import_bundle(store, damaged)
    assert snapshot(store) == before


def test_cli_import_of_a_hostile_bundle_is_one_line(store, tmp_path):
    hostile = _zip(tmp_path / "h.lens.zip", {"/abs": "x"}, INDEX)
    proc = cli("import", hostile, "--store", store.root)
    assert proc.returncode == 1 and "unsafe member path" in proc.stderr and "Traceback" not in proc.stderr


def test_rename_tag_and_delete_from_the_cli(store):
    qat = next(r for r in store.list_runs() if r.name == "resnet-qat")
    assert cli("runs", "rename", qat.run_id, "  resnet50 QAT  ", "--store", store.root).returncode == 0
    assert store.manifest(qat.run_id).name == "resnet50 QAT"
    assert cli("runs", "tag", "resnet50 QAT", "int8", "candidate", "--store", store.root).returncode == 0
    assert store.manifest(qat.run_id).tags == ["int8", "candidate"]
    assert cli("runs", "tag", qat.run_id, "--remove", "int8", "--store", store.root).returncode == 0
    assert store.manifest(qat.run_id).tags == ["candidate"]
    bad = cli("runs", "tag", qat.run_id, "no spaces!", "--store", store.root)
    assert bad.returncode == 1 and "not a usable tag" in bad.stderr
    empty = cli("runs", "rename", qat.run_id, "  ", "--store", store.root)
    assert empty.returncode == 1 and "cannot be empty" in empty.stderr
    listing = cli("runs", "--store", store.root).stdout
    assert "#candidate" in listing and "name: resnet50 QAT" in listing
    # A delete asks first: without a terminal it refuses unless --yes.
    refused = cli("runs", "delete", qat.run_id, "--store", store.root, stdin="y\n")
    assert refused.returncode == 1 and "--yes" in refused.stderr and store.manifest(qat.run_id)
    done = cli("runs", "delete", qat.run_id, "--yes", "--store", store.root)
    assert done.returncode == 0 and qat.run_id not in {r.run_id for r in store.list_runs()}


def test_delete_asks_and_no_keeps_the_run(store, monkeypatch, capsys):
    from layerlens.cli import runs as store_cli

    qat = next(r for r in store.list_runs() if r.name == "resnet-qat")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert store_cli._delete(store, [qat.run_id], yes=False) == 1
    assert "resnet-qat" in capsys.readouterr().out and store.manifest(qat.run_id)
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert store_cli._delete(store, [qat.run_id], yes=False) == 0
    assert qat.run_id not in {r.run_id for r in store.list_runs()}


def test_broken_run_folders_are_listed_with_their_reason(store):
    (store.root / "half-copied").mkdir()
    (store.root / "bad-manifest").mkdir()
    (store.root / "bad-manifest" / "manifest.json").write_text("{oops")
    qat = next(r for r in store.list_runs() if r.name == "resnet-qat")
    (store.root / qat.run_id / "artifacts" / qat.files[0]).unlink()
    broken = {b.folder: b.reason for b in store.list_broken()}
    assert broken["half-copied"].startswith("no manifest.json")
    assert "unreadable" in broken["bad-manifest"]
    assert broken[qat.run_id].startswith("artifact files are missing")
    listing = json.loads(cli("runs", "--json", "--store", store.root).stdout)
    assert {b["folder"] for b in listing["broken"]} == set(broken) and len(listing["runs"]) == 2
    text = cli("runs", "--store", store.root).stdout
    assert "half-copied" in text and "BROKEN" in text
    assert cli("runs", "delete", "half-copied", "--yes", "--store", store.root).returncode == 0
    assert "half-copied" not in {b.folder for b in store.list_broken()}


def test_a_run_tagged_baseline_is_the_default_baseline(store):
    runs = store.list_runs()
    by_name = {r.name: r.run_id for r in runs}
    # The FP32 build would have no baseline (nothing wider); tagged, the FP16 build is its model's baseline.
    assert default_baseline(by_name["fp32/resnet"], runs) == by_name["resnet50 fp16 (RTX 3090)"]
    assert default_baseline(by_name["resnet-qat"], runs) == by_name["resnet50 fp16 (RTX 3090)"]


def test_a_run_stored_meanwhile_is_a_clear_error(store, tmp_path, monkeypatch):
    import engine_core.store.bundle as bundle_mod

    bundle = write_bundle(store, [r.run_id for r in store.list_runs()], tmp_path / "b.lens.zip")
    theirs = RunStore(tmp_path / "theirs")
    real_plan = bundle_mod._plan

    def plan_then_race(target_store, staged, path, run_id, policy):
        planned = real_plan(target_store, staged, path, run_id, policy)
        (target_store.root / run_id).mkdir(exist_ok=True)  # a concurrent import lands first
        (target_store.root / run_id / "x").write_text("theirs")
        return planned

    monkeypatch.setattr(bundle_mod, "_plan", plan_then_race)
    with pytest.raises(StoreError, match="appeared in .* during the import"):
        import_bundle(theirs, bundle)
    assert all((theirs.root / r.run_id / "x").read_text() == "theirs" for r in store.list_runs())
