"""Bad input: every failure is one actionable line, never a traceback, and stored runs survive."""

from __future__ import annotations

import json
import shutil
import zipfile

import pytest

from conftest import DATA, FIXTURES
from engine_core.archive import extract_zip
from engine_core.discover import load_engines
from engine_core.errors import ArtifactFormatError, ArtifactTooLargeError, UnsupportedArtifactError

BAD = DATA / "bad"


def test_truncated_layer_json_names_file_and_fix():
    with pytest.raises(ArtifactFormatError) as err:
        load_engines([BAD / "truncated.graph.json"])
    msg = str(err.value)
    assert msg.startswith(f"{BAD / 'truncated.graph.json'}: ends before the JSON is complete")
    assert "Re-export the file from trtexec" in msg


def test_wrong_kind_file_is_rejected_with_supported_list():
    with pytest.raises(UnsupportedArtifactError) as err:
        load_engines([BAD / "not_an_artifact.json"])
    assert "not a TensorRT artifact" in str(err.value) and "--exportLayerInfo" in str(err.value)


def test_folder_skips_unknown_files_but_reads_the_rest(tmp_path):
    shutil.copytree(FIXTURES / "trex-rtx3090" / "fp16", tmp_path / "run")
    shutil.copy(BAD / "notes.csv", tmp_path / "run" / "notes.csv")
    engines, skipped = load_engines([tmp_path / "run"])
    assert [e.name for e in engines] == ["resnet"]
    assert skipped == [f"{tmp_path / 'run' / 'notes.csv'} (not a TensorRT artifact LayerLens reads)"]


def test_mismatched_profile_is_an_error_when_named_and_a_note_in_a_folder(tmp_path):
    shutil.copy(FIXTURES / "trex-rtx3090" / "qat" / "resnet-qat.onnx.engine.graph.json", tmp_path / "e.graph.json")
    shutil.copy(BAD / "other_engine.profile.json", tmp_path / "e.profile.json")
    with pytest.raises(ArtifactFormatError) as err:
        load_engines([tmp_path / "e.graph.json", tmp_path / "e.profile.json"])
    msg = str(err.value)
    assert "e.profile.json" in msg and "matches only 0 of 2" in msg and "same engine" in msg
    engines, skipped = load_engines([tmp_path])  # one odd file never sinks a folder: the engine loads untimed
    assert len(engines) == 1 and len(engines[0].layers) == 63 and engines[0].per_layer_sum_ms is None
    assert len(skipped) == 1 and "e.profile.json" in skipped[0] and "matches only 0 of 2" in skipped[0]


def test_profile_file_with_wrong_records(tmp_path):
    path = tmp_path / "x.profile.json"
    path.write_text(json.dumps([{"count": 3}, {"layer": "a", "ms": 1}]))
    with pytest.raises(ArtifactFormatError, match="unexpected keys"):
        load_engines([path])


def test_binary_engine_file_explains_how_to_export(tmp_path):
    path = tmp_path / "model.engine"
    path.write_bytes(b"ftrt\x00\x00\x00\x01" + bytes(200))
    with pytest.raises(UnsupportedArtifactError) as err:
        load_engines([path])
    assert err.value.what == f"{path}: is a binary file (a serialized engine?), not a TensorRT artifact LayerLens can read."
    assert "trtexec --loadEngine=<engine> --exportLayerInfo=layers.json --profilingVerbosity=detailed" in err.value.fix


def test_huge_file_is_refused(tmp_path, monkeypatch):
    import engine_core.importers.jsonio as jsonio

    monkeypatch.setattr(jsonio, "MAX_ARTIFACT_BYTES", 1000)
    src = FIXTURES / "trex-rtx3090" / "qat" / "resnet-qat.onnx.engine.graph.json"
    with pytest.raises(ArtifactTooLargeError, match="over the 0 MiB limit|LAYERLENS_MAX_ARTIFACT_MB"):
        load_engines([src])


def _zip(path, members: dict[str, bytes], compress=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compress) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_zip_slip_is_refused(tmp_path):
    archive = _zip(tmp_path / "evil.zip", {"../../etc/evil.json": b"{}"})
    with pytest.raises(ArtifactFormatError, match="unsafe member path"):
        extract_zip(archive, tmp_path / "out")
    assert not (tmp_path.parent / "etc").exists()


def test_zip_bomb_is_refused(tmp_path):
    archive = _zip(tmp_path / "bomb.zip", {"big.json": b"0" * (20 * 2**20)})
    with pytest.raises(ArtifactTooLargeError, match="compression ratio"):
        extract_zip(archive, tmp_path / "out")


def test_not_a_zip(tmp_path):
    archive = tmp_path / "fake.zip"
    archive.write_text("not a zip")
    with pytest.raises(ArtifactFormatError, match="not a readable zip"):
        extract_zip(archive, tmp_path / "out")


def test_zip_of_real_artifacts_loads(tmp_path):
    folder = FIXTURES / "trex-rtx3090" / "qat"
    archive = _zip(tmp_path / "qat.zip", {f"qat/{p.name}": p.read_bytes() for p in folder.iterdir()})
    engines, _ = load_engines([archive], scratch=tmp_path)
    assert len(engines) == 1 and len(engines[0].layers) == 63
