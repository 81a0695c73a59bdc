"""The CLI's answers stay byte for byte what they were on every real fixture and tests/data engine.

A faster analysis or a cached table must give exactly the same `summary --json`, `layers --csv`,
`diagnose --json` (alone and against a baseline), `compare --json` and `calib --json`. When an output changes on
purpose, regenerate with `python tests/tools/make_goldens.py` and review the diff.
"""

from __future__ import annotations

import json

import pytest

from golden import (GOLDEN, calib_folder, calib_output, calib_sets, compare_folder, compare_outputs, compare_sets,
                    engine_folder, engine_outputs, golden_files, golden_keys)

REGENERATE = "run `python tests/tools/make_goldens.py` if the change is intended, and review `git diff tests/data/golden`"


def _reject(constant: str):
    raise ValueError(f"{constant} is not JSON")


def _assert_same(folder, outputs: dict[str, str]) -> None:
    for name, text in outputs.items():
        if name.endswith(".json"):  # every --json output is strict JSON: unknown is null, never NaN
            json.loads(text, parse_constant=_reject)
    assert folder.is_dir(), f"no golden outputs in {folder}: {REGENERATE}"
    stored = golden_files(outputs)
    assert sorted(p.name for p in folder.iterdir()) == sorted(stored), REGENERATE
    for name, text in stored.items():
        expected = (folder / name).read_text()
        if text != expected:
            got, want = text.splitlines(), expected.splitlines()
            line = next((i for i, (a, b) in enumerate(zip(got, want), 1) if a != b), min(len(got), len(want)) + 1)
            pytest.fail(f"{folder.relative_to(GOLDEN)}/{name} changed at line {line}:\n"
                        f"  now:    {(got[line - 1:line] or ['<end>'])[0][:300]}\n"
                        f"  golden: {(want[line - 1:line] or ['<end>'])[0][:300]}\n{REGENERATE}")


@pytest.mark.parametrize("key", sorted(golden_keys()))
def test_engine_outputs_unchanged(key):
    _assert_same(engine_folder(key), engine_outputs(key))


@pytest.mark.parametrize("keys", compare_sets(), ids=lambda keys: " vs ".join(keys))
def test_comparison_outputs_unchanged(keys):
    _assert_same(compare_folder(keys), compare_outputs(keys))


@pytest.mark.parametrize("paths", calib_sets(), ids=lambda paths: " vs ".join(p.rsplit("/", 2)[-2] + "/" + p.rsplit("/", 1)[-1] for p in paths))
def test_calib_outputs_unchanged(paths):
    _assert_same(calib_folder(paths), calib_output(paths))


def test_every_golden_folder_is_still_produced():
    """A fixture removed or renamed leaves no stale goldens that nothing checks."""
    expected = ({engine_folder(k) for k in golden_keys()} | {compare_folder(s) for s in compare_sets()}
                | {calib_folder(s) for s in calib_sets()})
    found = {p.parent for p in GOLDEN.rglob("*") if p.is_file()}
    assert found == expected, REGENERATE
