"""The engine graph on every real engine: wiring, marks, folding, layout and the two-engine colouring."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from conftest import DATA, FIXTURES, REPO, RTX_MODELS, engine_names, load_one
from engine_core.graph import auto_depth, chunk, collapse, engine_graph, fit_for_drawing, layout_graph
from engine_core.graph.collapse import MAX_DRAWN_NODES
from engine_core.graph.model import _path_scope

sys.path.insert(0, str(REPO / "benchmarks"))
from synthetic import write_engine  # noqa: E402


def _check_graph(engine) -> None:
    graph = engine_graph(engine)
    nodes, edges = graph.nodes, graph.edges
    layers = nodes[nodes["kind"] == "layer"]
    assert len(layers) == len(engine.layers) and list(layers["name"]) == list(engine.layers["name"])
    assert list(nodes["node"]) == list(range(len(nodes)))
    assert edges.empty or (edges[["src", "dst"]].to_numpy().max() < len(nodes) and (edges["src"] != edges["dst"]).all())
    layout = layout_graph(fit_for_drawing(graph))
    assert np.isfinite(layout.x).all() and np.isfinite(layout.y).all()
    drawn = fit_for_drawing(graph)
    assert len(drawn.nodes) <= max(MAX_DRAWN_NODES, 1)
    assert drawn.nodes["members"].sum() == len(nodes)  # folding loses no layer


@pytest.mark.parametrize("name", engine_names())
def test_every_engine_becomes_a_graph(all_engines, name):
    _check_graph(all_engines[name])


@pytest.mark.parametrize("model", RTX_MODELS)
def test_every_rtx_build_becomes_one_connected_graph(rtx_builds, model):
    import igraph

    for (m, recipe), engine in rtx_builds.items():
        if m != model:
            continue
        _check_graph(engine)
        graph = engine_graph(engine)
        g = igraph.Graph(n=len(graph.nodes), edges=list(zip(graph.edges["src"], graph.edges["dst"])), directed=True)
        # TensorRT-RTX's tensors link every kernel; its signal/wait events hang off the kernel before them.
        assert g.is_dag() and len(g.connected_components(mode="weak")) == 1, recipe


def test_qat_engine_wiring_and_marks():
    engine = load_one(FIXTURES / "trex-rtx3090" / "qat")
    graph = engine_graph(engine)
    nodes = graph.nodes
    assert (len(nodes), len(graph.edges), graph.wired_by) == (65, 80, "tensors")
    io = nodes[nodes["kind"] != "layer"]
    assert io[["name", "kind"]].values.tolist() == [["input_1", "input"], ["quant_predictions", "output"]]
    assert sorted(nodes.loc[nodes["is_fallback"], "name"]) == sorted([
        "resnet50/conv1_pad/Pad", "QuantLinearNode__838", "copied_squeeze_after_resnet50/quant_predictions/BiasAdd",
        "Reformatting CopyNode for Input Tensor 0 to copied_squeeze_after_resnet50/quant_predictions/BiasAdd",
        "resnet50/quant_predictions/Softmax"])
    assert nodes["is_reformat"].sum() == 2 and nodes["is_quantize"].sum() == 1
    pad = nodes[nodes["name"] == "resnet50/conv1_pad/Pad"].iloc[0]
    assert pad["reason"] == "No Q/DQ around this op in an explicitly quantized network" and pad["ms"] == pytest.approx(0.0848)
    # Data flows down: every edge points to a lower rank.
    layout = layout_graph(graph)
    assert (layout.y[graph.edges["src"]] > layout.y[graph.edges["dst"]]).all()


def test_weight_constants_are_not_network_inputs():
    engine = load_one(FIXTURES / "rtx3060-trt10" / "resnet18_fp16.graph.json")
    graph = engine_graph(engine)
    io = graph.nodes[graph.nodes["kind"] != "layer"]
    assert io["name"].tolist() == ["input", "output"] and len(graph.edges) == 35  # not "fc_bias … constantHalf"


def test_int8_conv_writing_fp32_is_a_reason_not_a_fallback(rtx_builds):
    graph = engine_graph(rtx_builds[("resnet18", "int8-ort-uncalibrated")])
    convs = graph.nodes[graph.nodes["name"].str.contains("/Conv_myl")]
    assert len(convs) == 20 and (convs["precision"] == "INT8").all()
    assert not convs["is_fallback"].any()  # the split epilogue's FP32 output is explained in the hover, not outlined red


def test_layers_without_tensors_are_chained_in_execution_order():
    engine = load_one(DATA / "layer_info" / "names_only.graph.json")
    graph = engine_graph(engine)
    assert graph.wired_by == "order"
    assert graph.edges[["src", "dst"]].values.tolist() == [[0, 1], [1, 2]]


@pytest.mark.parametrize("name,scope", [
    ("/layer3/layer3.0/conv1/Conv", ("layer3", "layer3.0", "conv1")),
    ("resnet50/conv2_block1_1_conv/Conv2D + resnet50/conv2_block1_1_relu/Relu", ("resnet50", "conv2_block1_1_conv")),
    ("PWN(/block7/add4)", ("block7",)),
    ("/layer1/layer1.0/conv1/Conv_myl0_4", ("layer1", "layer1.0", "conv1")),
    ("Conv_3", ()),
])
def test_scope_of_a_layer_name(name, scope):
    assert _path_scope(name) == scope


def test_precision_change_against_the_fp16_baseline():
    fp16 = load_one(FIXTURES / "trex-rtx3090" / "fp16")
    qat = load_one(FIXTURES / "trex-rtx3090" / "qat")
    changes = engine_graph(qat, fp16).nodes["change"].value_counts().to_dict()
    assert changes == {"FP16->INT8": 59, "only here": 3, "same": 1}


@pytest.fixture(scope="module")
def synthetic_10k(tmp_path_factory):
    return load_one(write_engine(tmp_path_factory.mktemp("syn"), 10_000, name="big"))


def test_ten_thousand_layers_fold_to_a_drawable_graph(synthetic_10k):
    graph = engine_graph(synthetic_10k)
    assert len(graph.nodes) == 10_002 and graph.wired_by == "tensors"
    depth = auto_depth(graph)
    assert depth == 1  # /block0 … /block999: the top scope level still has 1,000 groups
    by_scope = collapse(graph, depth)
    assert len(by_scope.nodes) == 1002 and by_scope.nodes["members"].sum() == 10_002
    drawn = chunk(by_scope)
    assert len(drawn.nodes) <= MAX_DRAWN_NODES and drawn.nodes["members"].sum() == 10_002
    assert len(drawn.group_of) == 10_002 and drawn.group_of.max() == len(drawn.nodes) - 1
    # A block keeps its layers' time and bytes, and its dominant precision.
    block = by_scope.nodes[by_scope.nodes["name"] == "block0"].iloc[0]
    members = graph.nodes[graph.nodes["scope"].map(lambda s: s[:1] == ("block0",))]
    assert block["members"] == len(members) == 10
    assert block["bytes"] == members["bytes"].sum() and block["reformats"] == members["is_reformat"].sum()
    layout = layout_graph(drawn)
    assert layout.ranks == len(drawn.nodes)  # a chain of chunks, one per rank


def test_collapse_at_a_chosen_depth_keeps_edges_between_blocks():
    engine = load_one(FIXTURES / "rtx3060-trt10" / "resnet18_fp16.graph.json")
    graph = engine_graph(engine)
    folded = collapse(graph, 1)
    names = set(folded.nodes["name"])
    assert {"layer1", "layer2", "layer3", "layer4"} <= names
    ids = dict(zip(folded.nodes["name"], folded.nodes["node"]))
    pairs = set(zip(folded.edges["src"], folded.edges["dst"]))
    assert (ids["layer1"], ids["layer2"]) in pairs and (ids["layer3"], ids["layer4"]) in pairs
    assert (ids["layer1"], ids["layer3"]) not in pairs
