"""Property tests: every importer, fed mutated real artifacts, ends in a result or one LayerLens error.

A fixed, derandomized example budget keeps `make test` repeatable; `make fuzz` runs the same
mutations at 10,000+ inputs per importer (tests/fuzz_campaign.py).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_core.errors import LayerLensError
from conftest import DATA
from fuzzing import SEEDS, import_bytes, mutate


@pytest.mark.parametrize("importer", sorted(SEEDS))
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed_index=st.integers(min_value=0, max_value=50), mutation_seed=st.integers(min_value=0, max_value=2**32))
def test_importer_survives_mutations(importer, seed_index, mutation_seed, tmp_path):
    kind, seeds = SEEDS[importer]
    data = mutate(seeds[seed_index % len(seeds)].read_bytes(), random.Random(mutation_seed))
    try:
        engine = import_bytes(kind, data, tmp_path / f"{importer}.input")
    except LayerLensError as exc:
        assert str(exc).strip()
    else:
        assert engine.layers is not None and engine.status in ("ok", "incomplete", "failed")


REGRESSIONS = sorted((DATA / "bad" / "fuzz").glob("*.bin"))


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.stem for p in REGRESSIONS])
def test_fuzz_crash_regressions_are_refused_cleanly(path, tmp_path):
    """Inputs that once crashed an importer (found by `make fuzz`); each must now be one clear error."""
    importer = path.stem.rsplit("-", 1)[0]
    kind, _ = SEEDS[importer]
    with pytest.raises(LayerLensError) as err:
        import_bytes(kind, path.read_bytes(), tmp_path / "input")
    assert "Re-export it" in str(err.value)


# Node names built from the characters that make the ONNX Metadata form ambiguous: brackets, the marker itself,
# TensorRT's separators, and the newline the regex's "." does not cross.
_NODE_TEXT = st.lists(st.sampled_from(list("ab/.]_[") + ["[ONNX Layer: ", "\x1e", "\x1f", "\n"]), max_size=6).map("".join)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(nodes=st.lists(_NODE_TEXT, min_size=1, max_size=4), separator=st.sampled_from(["\x1e", "\x1f", "", "\x1e\x1e"]),
       tail=st.sampled_from(["", "\n", "\x1e", "]"]))
def test_onnx_metadata_split_agrees_with_the_regex(nodes, separator, tail):
    """The plain ``[ONNX Layer: a]\\x1e[ONNX Layer: b]`` form is split, not regex-scanned (100k-layer engines):
    whatever the node names hold, the split reads exactly what the regex reads, or leaves the text to it."""
    from engine_core.layer_table import _ONNX_LAYER, _onnx_nodes

    metadata = separator.join(f"[ONNX Layer: {n}]" for n in nodes) + tail
    found = _ONNX_LAYER.findall(metadata)
    assert _onnx_nodes("layer", metadata) == (tuple(found) if found else ("layer",))
