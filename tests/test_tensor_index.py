"""The tensor index alignment, the fallback reasons and the graph share (engine.analysis.tensors): each lookup
against a plain scan of the layers, on a hand-made table with the awkward cases and on every real engine."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import engine_names
from engine_core.tensor_index import TensorIndex


def _table(layers: list[tuple[list, list]]) -> pd.DataFrame:
    return pd.DataFrame({"inputs": [[{"Name": n} for n in ins] if ins is not None else None for ins, _ in layers],
                         "outputs": [[{"Name": n} for n in outs] if outs is not None else None for _, outs in layers]})


def _scan(layers: pd.DataFrame) -> dict:
    """Each lookup the slow, obvious way: one layer at a time."""
    last, first, first_read, readers = {}, {}, {}, {}
    for row, (ins, outs) in enumerate(zip(layers["inputs"], layers["outputs"])):
        for t in outs or ():
            last[t.get("Name")] = row
            first.setdefault(t.get("Name"), row)
        for t in ins or ():
            first_read.setdefault(t.get("Name"), row)
            readers.setdefault(t.get("Name"), []).append(row)
    return {"last_writer": last, "first_writer": first, "first_reader": first_read, "readers": readers}


def test_each_lookup_on_the_awkward_cases():
    # x is written twice (rows 0 and 2) and read twice by row 3; row 1 has no tensors (a stream `wait`);
    # row 4 reads a network input and a tensor without a name.
    index = TensorIndex(_table([([], ["x"]), (None, None), (["x"], ["x", "y"]), (["x", "x"], ["z"]),
                                (["input", None], [])]))
    assert index.last_writer == {"x": 2, "y": 2, "z": 3}
    assert index.first_writer == {"x": 0, "y": 2, "z": 3}
    assert index.first_reader == {"x": 2, "input": 4, None: 4}
    assert index.readers == {"x": [2, 3, 3], "input": [4], None: [4]}


@pytest.mark.parametrize("name", engine_names())
def test_every_real_engine_indexes_as_a_scan_finds(all_engines, name):
    layers = all_engines[name].layers
    index, expected = all_engines[name].analysis.tensors, _scan(layers)
    for lookup, found in expected.items():
        assert getattr(index, lookup) == found, lookup


def test_the_graph_wires_no_tensor_without_a_name_even_a_damaged_one(all_engines):
    """A damaged file's empty list or dict as a tensor name is no name: the graph leaves it out, as it leaves out a
    missing one, instead of failing to look it up (the index must not hash what the graph never wires)."""
    import copy
    import dataclasses

    from engine_core.graph.model import build_graph

    engine = all_engines["resnet-qat"]
    damaged = engine.layers.copy()
    damaged["inputs"] = [list(ins or ()) + [{"Name": []}] for ins in damaged["inputs"]]
    damaged["outputs"] = [list(outs or ()) + [{"Name": {}}] for outs in damaged["outputs"]]
    graph = build_graph(dataclasses.replace(engine, layers=damaged), fallbacks=copy.deepcopy(engine.analysis.fallbacks))
    expected = build_graph(engine, engine.analysis.fallbacks)
    assert graph.edges.equals(expected.edges) and graph.nodes.equals(expected.nodes)
