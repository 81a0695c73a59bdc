"""Tests write outside the source tree: screenshots, server logs and fuzz crashes go to a temporary folder (or the
one ``$LAYERLENS_TEST_ARTIFACTS`` names), so ``git status`` stays clean after ``make test``."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import REPO, run_temp


def _inside_repo(path) -> bool:
    return path.resolve().is_relative_to(REPO.resolve())


@pytest.mark.skipif("LAYERLENS_TEST_ARTIFACTS" in os.environ, reason="the user named the artifacts folder")
def test_screenshots_and_server_logs_go_to_a_temporary_folder(artifacts, tmp_path_factory):
    assert not _inside_repo(artifacts) and artifacts.is_relative_to(run_temp(tmp_path_factory))


def test_fuzz_crashes_go_outside_the_source_tree(tmp_path, monkeypatch):
    from fuzz_campaign import default_crash_folder

    monkeypatch.delenv("LAYERLENS_TEST_ARTIFACTS", raising=False)
    assert not _inside_repo(default_crash_folder())
    monkeypatch.setenv("LAYERLENS_TEST_ARTIFACTS", str(tmp_path))
    assert default_crash_folder() == tmp_path / "fuzz-crashes"


def test_nothing_generated_is_hidden_from_git_status():
    """A test that writes into tests/ again must show up in `git status`, not vanish behind an ignore rule."""
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    probe = REPO / "tests" / "artifacts" / "probe.png"
    ignored = subprocess.run(["git", "check-ignore", "-q", "--no-index", str(probe)], cwd=REPO).returncode == 0
    assert not ignored, "tests/artifacts is ignored: a test writing there would leave `git status` clean"


def test_hypothesis_keeps_its_database_outside_the_source_tree():
    from hypothesis.configuration import storage_directory

    where = storage_directory("examples", intent_to_write=False)
    assert not _inside_repo(getattr(where, "path", where))  # hypothesis >= 6.131 wraps the path
