"""Accuracy beside speed and size: the error metrics, the artifact, --keep, advise, on real builds of the samples.

The real-build tests read the accuracy every build in ``rtx_builds`` measured (each recipe's
ONNX against the model it came from, 8 synthetic batches, seed 1), build a few more with
nodes kept, and recompute one SQNR independently with onnxruntime and numpy.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, RTX_MODELS
from engine_core.accuracy.metrics import TensorError, sqnr_db
from engine_core.accuracy.report import AccuracyReport, OutputAccuracy, empty_nodes
from engine_core.errors import LayerLensError

QUANTIZED_RECIPES = ("int8-ort-uncalibrated", "int8-tensorrt-uncalibrated", "fp8-tensorrt-uncalibrated")
TOP_LEVEL_KEYS = {"layerlens_accuracy", "inputs", "output", "outputs", "layers", "baseline", "candidate", "kept", "notes"}
OUTPUT_KEYS = {"name", "sqnr_db", "identical", "cosine_min", "max_abs_error", "top1_agreement", "nonfinite_values"}
LAYER_KEYS = {"onnx_node", "engine_layers", "sqnr_db", "identical", "op_type", "precision", "input_sqnr_db",
              "input_identical", "local_sqnr_db"}


def _cli(*args, timeout=900):
    return subprocess.run([sys.executable, "-m", "layerlens", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, timeout=timeout)


# --- metrics and the JSON shape (no onnxruntime) ---------------------------------------------------------------

def test_sqnr_matches_its_definition_batch_by_batch():
    rng = np.random.default_rng(3)
    ref = [rng.standard_normal((2, 5)) for _ in range(3)]
    got = [r + 0.01 * rng.standard_normal(r.shape) for r in ref]
    error = TensorError()
    for r, g in zip(ref, got):
        error.add(r, g, per_sample=True)
    whole_ref, whole_got = np.concatenate(ref), np.concatenate(got)
    expected = 10 * np.log10(np.sum(whole_ref ** 2) / np.sum((whole_ref - whole_got) ** 2))
    assert error.sqnr == pytest.approx(expected, rel=1e-12)
    assert error.max_abs == pytest.approx(np.max(np.abs(whole_ref - whole_got)))
    cosines = np.sum(whole_ref * whole_got, axis=1) / np.linalg.norm(whole_ref, axis=1) / np.linalg.norm(whole_got, axis=1)
    assert error.cosine_min == pytest.approx(cosines.min())
    assert error.top1_agreement == np.mean(np.argmax(whole_ref, 1) == np.argmax(whole_got, 1)) and error.samples == 6


def test_identical_nonfinite_and_non_classifier_outputs_are_said_so():
    same = TensorError()
    same.add(np.ones((1, 3)), np.ones((1, 3)), per_sample=True)
    assert same.identical and same.sqnr == math.inf and same.top1_agreement == 1.0
    broken = TensorError()
    broken.add(np.ones((1, 4)), np.array([[1.0, np.inf, np.nan, 1.0]]))
    assert broken.nonfinite == 2 and math.isnan(broken.sqnr) and not broken.identical
    sequence = TensorError()
    sequence.add(np.ones((1, 8, 4)), np.ones((1, 8, 4)) * 1.1, per_sample=True)
    assert sequence.top1_agreement is None  # (batch, seq, hidden) is not classifier-shaped
    assert sqnr_db(0.0, 1.0) == -math.inf and sqnr_db(1.0, 0.0) == math.inf


def test_report_json_is_strict_and_round_trips():
    nodes = pd.DataFrame({"onnx_node": ["/a", "/b"], "op_type": ["Conv", "Relu"], "precision": ["INT8", "FP32"],
                          "sqnr_db": [math.inf, 31.5], "input_sqnr_db": [math.inf, math.inf], "local_sqnr_db": [math.nan, 31.5]})
    report = AccuracyReport({"source": "synthetic", "batches": 8, "samples": 8, "description": "8 synthetic"},
                            [OutputAccuracy("logits", 28.25, 0.999, 0.5, 0.875)], nodes, {"path": "m.onnx"})
    text = json.dumps(report.to_json({"/a": ["conv_layer", "epilogue"]}), allow_nan=False)
    data = json.loads(text)
    assert set(data) == TOP_LEVEL_KEYS and set(data["output"]) == OUTPUT_KEYS and set(data["layers"][0]) == LAYER_KEYS
    assert data["layers"][0]["sqnr_db"] is None and data["layers"][0]["identical"] is True
    assert data["layers"][0]["engine_layers"] == ["conv_layer", "epilogue"] and data["layers"][1]["engine_layers"] == []
    back = AccuracyReport.from_json(data)
    assert back.nodes["sqnr_db"].tolist() == [math.inf, 31.5] and math.isnan(back.nodes["local_sqnr_db"][0])
    assert back.output.top1_agreement == 0.875 and back.synthetic and back.inputs_label == "synthetic inputs"
    assert "not task accuracy" in back.statement()
    # The text views: no local SQNR means the node adds no noise of its own (it used to read "local n/a").
    from layerlens.cli.accuracy import format_report

    text = format_report(back, "cand", "measured now", {}, top=10)
    assert "local adds none  output identical  INT8  /a" in text and "local   31.5 dB  output   31.5 dB  FP32  /b" in text


def test_pareto_front_keeps_the_builds_nothing_beats():
    from engine_core.accuracy.tradeoff import pareto_front

    points = pd.DataFrame({"name": list("abcde"), "sqnr_db": [math.inf, 70.0, 35.0, 30.0, 36.0],
                           "engine_bytes": [40, 20, 12, 13, np.nan]})
    assert pareto_front(points, "engine_bytes").tolist() == [True, True, True, False, False]


def test_quantization_error_bands_cover_every_value():
    from layerlens.views.graph_figure import error_bands

    values = pd.Series([math.inf, 62.0, 50.0, 45.0, 30.0, 25.0, 12.0, -math.inf, np.nan])
    assert error_bands(values).tolist() == ["identical", "≥ 50 dB", "≥ 50 dB", "40–50 dB", "30–40 dB", "20–30 dB",
                                            "< 20 dB", "< 20 dB", "not measured"]


# --- --keep: patterns and FP16 islands ----------------------------------------------------------------------------

def test_keep_patterns_resolve_to_nodes_or_say_what_is_wrong():
    from engine_core.recipes.keep import parse_keep, resolve_keep

    names = ["/conv1/Conv", "/layer4/layer4.0/conv1/Conv", "/layer4/layer4.1/Add", "/fc/Gemm", "/odd[1]/Conv"]
    requests = parse_keep(["fp16:/layer4/*", "FP32:/fc/Gemm", "fp16:/odd[1]/Conv"])
    assert resolve_keep(names, requests) == (("/fc/Gemm", "fp32"), ("/layer4/layer4.0/conv1/Conv", "fp16"),
                                             ("/layer4/layer4.1/Add", "fp16"), ("/odd[1]/Conv", "fp16"))
    with pytest.raises(LayerLensError, match=r"--keep fp16:/layr4/\* matches no ONNX node of the model"):
        resolve_keep(names, parse_keep(["fp16:/layr4/*"]))
    with pytest.raises(LayerLensError, match="both FP16 and FP32"):
        resolve_keep(names, parse_keep(["fp16:/fc/*", "fp32:/fc/Gemm"]))
    with pytest.raises(LayerLensError, match="is not TYPE:PATTERN"):
        parse_keep(["int8:/fc/Gemm"])


def _chain_model():
    """x -> Conv(a) -> Relu(b) -> Conv(c) -> y, with float weights."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w1, w2 = (numpy_helper.from_array(rng.standard_normal((4, 4, 3, 3)).astype(np.float32), n) for n in ("w1", "w2"))
    nodes = [helper.make_node("Conv", ["x", "w1"], ["t1"], name="a", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["t1"], ["t2"], name="b"),
             helper.make_node("Conv", ["t2", "w2"], ["y"], name="c", pads=[1, 1, 1, 1])]
    graph = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])], [w1, w2])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_fp16_island_casts_only_around_the_kept_nodes():
    import onnxruntime as ort
    from onnx import TensorProto

    from engine_core.recipes.keep import cast_nodes_to_float16

    model = _chain_model()
    x = np.random.default_rng(1).standard_normal((1, 4, 8, 8)).astype(np.float32)
    before = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    assert cast_nodes_to_float16(model, ["b", "c"]) == []
    casts = [(n.input[0], n.output[0], n.attribute[0].i) for n in model.graph.node if n.op_type == "Cast"]
    # One cast into the island (a's output), one out of it (the graph output): b hands c its FP16 result directly.
    assert casts == [("t1", "t1_fp16", TensorProto.FLOAT16), ("y_fp16", "y", TensorProto.FLOAT)]
    assert {n.name: list(n.input) for n in model.graph.node if n.op_type != "Cast"} == {
        "a": ["x", "w1"], "b": ["t1_fp16"], "c": ["t2_fp16", "w2_fp16"]}
    inits = {i.name: i.data_type for i in model.graph.initializer}
    assert inits == {"w1": TensorProto.FLOAT, "w2_fp16": TensorProto.FLOAT16}  # w2 was read only by c
    after = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    assert after.dtype == np.float32 and np.allclose(after, before, rtol=1e-2, atol=1e-2) and not np.array_equal(after, before)


def test_keeping_every_node_the_tensorrt_placement_quantizes_leaves_no_qdq(rtx_env, tmp_path):
    """onnxruntime reads an empty nodes_to_quantize as 'every node': with the tiny CNN's 3 weighted ops kept, the
    tensorrt placement used to quantize the ReLU and pool outputs instead (advise's all-kept step: 8.6 dB)."""
    import onnx

    from engine_core.models.zoo import sample_model_path
    from engine_core.recipes import RecipeSpec, apply_recipe

    keep = tuple((node, "fp16") for node in ("/conv1/Conv", "/conv2/Conv", "/fc/Gemm"))
    result = apply_recipe(sample_model_path("tiny_cnn"), RecipeSpec("int8", "tensorrt", "minmax", keep), None,
                          tmp_path / "kept.onnx")
    ops = [n.op_type for n in onnx.load(result.path).graph.node]
    assert "QuantizeLinear" not in ops and "DequantizeLinear" not in ops and result.quantized_nodes == 0
    assert result.kept == {"fp16": ["/conv1/Conv", "/conv2/Conv", "/fc/Gemm"]} and ops.count("Cast") == 6


def test_a_qat_run_says_why_its_layers_cannot_be_kept_before_offering_a_build(tmp_path):
    """The dashboard's keep panel offered 'Build with N node(s) kept' on a QAT run, and the build then failed."""
    from engine_core.build.rebuild import rebuild_of
    from engine_core.engine import Engine

    model = tmp_path / "tiny_cnn_qdq.onnx"
    model.write_bytes(b"stands in for the model: only its existence is checked")
    request = json.dumps({"model": str(model), "precision": "int8", "placement": "ort", "keep": []})
    qat = rebuild_of(Engine("qat", [], build_facts={"request": request, "recipe": "qat"}))
    assert qat.problems == ["the model came with its Q/DQ placed (a QAT or ModelOpt export), so no node can be kept "
                            "out of them; keep nodes where the Q/DQ are made, or build the float model"]
    assert rebuild_of(Engine("int8", [], build_facts={"request": request, "recipe": "int8-ort-uncalibrated"})).problems == []


def test_keep_fp16_refused_where_it_means_nothing():
    from engine_core.recipes.keep import check_keep

    with pytest.raises(LayerLensError, match="only fp32 can be kept there"):
        check_keep("fp16", (("/a", "fp16"),))
    with pytest.raises(LayerLensError, match="every node is FP32 already"):
        check_keep("fp32", (("/a", "fp32"),))
    check_keep("int8", (("/a", "fp16"), ("/b", "fp32")))


def test_a_kept_node_the_builder_folded_away_is_not_reported_as_running_in_another_precision():
    """ResNet-18's /Flatten is a reshape TensorRT-RTX removes: kept in FP16, it has no layer, so nothing ran in
    another precision (the build table used to say it 'runs its layers in no layer')."""
    from engine_core.analysis.kept import kept_precision
    from engine_core.engine import Engine
    from engine_core.recipes.keep import keep_fact
    from engine_core.schema import conform

    layers = conform(pd.DataFrame({"name": ["/fc/Gemm_myl0_51", "/conv1/Conv_myl0_1"],
                                   "compute_precision": ["FP16", "INT8"],
                                   "onnx_nodes": [["/fc/Gemm"], ["/conv1/Conv"]]}))
    engine = Engine("kept", [], layers=layers,
                    build_facts={keep_fact("fp16"): "/Flatten, /conv1/Conv, /fc/Gemm"})
    rows = kept_precision(engine).set_index("onnx_node")
    assert rows.loc["/fc/Gemm", "honoured"] and rows.loc["/fc/Gemm", "built"] == ["FP16"]
    assert not rows.loc["/conv1/Conv", "honoured"] and rows.loc["/conv1/Conv", "built"] == ["INT8"]
    assert rows.loc["/Flatten", "honoured"] and rows.loc["/Flatten", "layers"] == []


# --- real builds ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", RTX_MODELS)
@pytest.mark.parametrize("recipe", QUANTIZED_RECIPES)
def test_a_quantized_build_is_finite_and_below_its_fp16_build(rtx_builds, model, recipe):
    quantized, fp16 = rtx_builds[(model, recipe)].accuracy, rtx_builds[(model, "fp16")].accuracy
    assert quantized is not None and fp16 is not None
    assert math.isfinite(quantized.output.sqnr_db) and math.isfinite(fp16.output.sqnr_db)
    assert quantized.output.sqnr_db < fp16.output.sqnr_db
    assert quantized.inputs == {"source": "synthetic", "batches": 8, "samples": 8,
                                "description": "8 synthetic standard-normal batches (seed 1)"}
    assert quantized.output.top1_agreement is not None  # both samples end in a (1, classes) classifier
    measured = quantized.nodes[quantized.nodes["precision"].isin(["INT8", "FP8"])]
    assert len(measured) and np.isfinite(measured["sqnr_db"]).all()


@pytest.mark.parametrize("model", RTX_MODELS)
def test_fp32_build_is_identical_and_bf16_says_why_it_is_not_measured(rtx_builds, model):
    fp32 = rtx_builds[(model, "fp32")]
    assert fp32.accuracy.output.identical and fp32.accuracy.inputs["source"] == "none" and fp32.accuracy.inputs["batches"] == 0
    assert json.loads(json.dumps(fp32.accuracy.to_json(), allow_nan=False))["output"]["sqnr_db"] is None
    bf16 = rtx_builds[(model, "bf16")]
    # onnxruntime has no CPU kernels for bfloat16 convolutions: the build says so instead of a number.
    if bf16.accuracy is None:
        assert bf16.build_facts["accuracy"].startswith("not measured: onnxruntime cannot run")
    else:
        assert math.isfinite(bf16.accuracy.output.sqnr_db)


def test_resnet18_numbers_and_the_join_to_engine_layers(rtx_builds):
    from engine_core.accuracy.join import engine_layers_by_node, layer_sqnr

    engine = rtx_builds[("resnet18", "int8-tensorrt-uncalibrated")]
    report = engine.accuracy
    assert report.output.sqnr_db == pytest.approx(36.12, abs=0.05)
    assert rtx_builds[("resnet18", "int8-ort-uncalibrated")].accuracy.output.sqnr_db == pytest.approx(35.12, abs=0.05)
    assert rtx_builds[("resnet18", "fp16")].accuracy.output.sqnr_db == pytest.approx(68.79, abs=0.05)
    # 49 nodes compared: every node of the float model (the output Gemm included); 29 read Q/DQ in this placement.
    assert len(report.nodes) == 49 and (report.nodes["precision"] == "INT8").sum() == 29
    mapping = engine_layers_by_node(engine.layers)
    assert mapping["/conv1/Conv"] == ["__myl_MulMinMaxRounCastConc_myl0_0", "/conv1/Conv_myl0_1",
                                      "__myl_MulAddReluMulMinMaxRounCast_myl0_2"]
    per_layer = layer_sqnr(engine.layers, report)
    convs = engine.layers["layer_type"] == "correlation"
    assert np.isfinite(per_layer.loc[convs, "sqnr_db"]).all() and convs.sum() == 20
    # Layers from no ONNX node (TensorRT-RTX's stream signal/wait) have no SQNR.
    syncs = engine.layers["layer_type"].isin(["signal", "wait"])
    assert syncs.sum() == 12 and per_layer.loc[syncs, "sqnr_db"].isna().all()


def test_one_sqnr_recomputed_with_onnxruntime_and_numpy(rtx_builds, tmp_path):
    """The artifact's output SQNR from scratch (onnxruntime runs, numpy sums), and one convolution's SQNR
    through onnxruntime's own ``qdq_loss_debug`` pipeline."""
    import onnxruntime as ort
    from onnxruntime.quantization import qdq_loss_debug

    from engine_core.accuracy.measure import measure_accuracy

    engine = rtx_builds[("resnet18", "int8-tensorrt-uncalibrated")]
    quantized = engine.build_facts["onnx"]
    source = engine.accuracy.baseline["path"]
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # the graph as written
    sessions = [ort.InferenceSession(p, options, providers=["CPUExecutionProvider"]) for p in (source, quantized)]
    rng = np.random.default_rng(1)
    signal = noise = 0.0
    for _ in range(8):
        x = {"input": rng.standard_normal((1, 3, 224, 224)).astype(np.float32)}
        ref, got = (s.run(["output"], x)[0].astype(np.float64) for s in sessions)
        signal += float(np.sum(ref ** 2))
        noise += float(np.sum((ref - got) ** 2))
    assert engine.accuracy.output.sqnr_db == pytest.approx(10 * np.log10(signal / noise), abs=1e-6)

    rng = np.random.default_rng(1)
    batches = [{"input": rng.standard_normal((1, 3, 224, 224)).astype(np.float32)} for _ in range(2)]
    saved = {}
    for role, path in (("float", source), ("qdq", quantized)):
        augmented = tmp_path / f"{role}.onnx"
        qdq_loss_debug.modify_model_output_intermediate_tensors(path, augmented, op_types_for_saving=["Conv"])
        saved[role] = qdq_loss_debug.collect_activations(str(augmented), iter(batches))
    conv = "/layer3/layer3.1/conv2/Conv_output_0"
    theirs = qdq_loss_debug.compute_signal_to_quantization_noice_ratio(saved["float"][conv], saved["qdq"][conv])
    ours = measure_accuracy(source, quantized, batches=2).nodes.set_index("onnx_node")
    assert ours.loc["/layer3/layer3.1/conv2/Conv", "sqnr_db"] == pytest.approx(theirs, abs=1e-3)


def test_keeping_the_noisiest_nodes_in_fp16_raises_the_output_sqnr(rtx_builds, rtx_env, tmp_path):
    from engine_core.accuracy.advise import rank_quantized_nodes
    from engine_core.accuracy.inputs import evaluation_inputs
    from engine_core.accuracy.measure import load_onnx
    from engine_core.accuracy.sensitivity import keep_gains
    from engine_core.build.matrix import Variant, build_matrix
    from engine_core.models.zoo import sample_model_path

    base = rtx_builds[("resnet18", "int8-ort-uncalibrated")]
    model = sample_model_path("resnet18")
    float_model, quantized = load_onnx(model), load_onnx(base.build_facts["onnx"])
    candidates = rank_quantized_nodes(base.accuracy.nodes)["onnx_node"].tolist()
    gains = keep_gains(float_model, quantized, candidates, evaluation_inputs(float_model))
    noisiest = rank_quantized_nodes(base.accuracy.nodes, gains)["onnx_node"].head(4).tolist()
    assert noisiest[0] == "/fc/Gemm"  # the logits' Q/DQ lands on the output whole
    result = build_matrix(model, [Variant("int8", "ort", tuple((n, "fp16") for n in noisiest))], out_dir=tmp_path)
    kept = result.results[0].engine
    assert kept.recipe == "int8-ort-uncalibrated+keep4" and kept.accuracy.kept == {"fp16": sorted(noisiest)}
    assert kept.build_facts["kept in FP16 (--keep)"] == ", ".join(sorted(noisiest))
    assert kept.accuracy.output.sqnr_db > base.accuracy.output.sqnr_db + 1.0
    # TensorRT-RTX runs the kept GEMM in FP16: the precision reached the engine, not just the ONNX. Found by its
    # ONNX origin: with its casts fused in, the layer is named __myl_CastMulCastFc_myl0_51, not /fc/Gemm_myl0_51.
    gemm = kept.layers[kept.layers["onnx_nodes"].map(lambda nodes: "/fc/Gemm" in nodes)]
    assert len(gemm) >= 1 and set(gemm["compute_precision"]) == {"FP16"}
    assert kept.engine_size_bytes > base.engine_size_bytes  # FP16 weights are twice INT8's


def test_advise_meets_a_reachable_target_with_the_fewest_nodes_it_tried(rtx_builds, rtx_env, tmp_path):
    from engine_core.accuracy.advise import advise
    from engine_core.models.zoo import sample_model_path
    from engine_core.store import RunStore

    start = rtx_builds[("tiny_cnn", "int8-ort-uncalibrated")].accuracy.output.sqnr_db
    target = start + 3.0
    messages = []
    advice = advise(sample_model_path("tiny_cnn"), target, store=RunStore(tmp_path / "runs"), on_progress=messages.append)
    assert advice.met and advice.complete and advice.kept
    steps = {len(s.kept): s for s in advice.steps}
    assert steps[0].sqnr_db == pytest.approx(start, abs=1e-9) and not steps[0].met  # the same recipe, same inputs
    assert advice.chosen.sqnr_db >= target and advice.chosen.kept == advice.kept
    assert not steps[len(advice.kept) - 1].met  # bisection ended with one node fewer failing
    assert all(s.engine_bytes > 0 and s.latency_estimate_ms > 0 and s.run_id for s in advice.steps)
    assert any(m.startswith("bisect") for m in messages)
    assert f"  output gain of keeping each node: {len(advice.ranking)}/{len(advice.ranking)}" in messages  # all ranked
    # The answer has the fewest kept nodes, not the fastest engine: keeping all 8 (FP16 in effect) is estimated
    # faster on the tiny CNN, and the advice says so.
    everything = steps[len(advice.ranking)]
    assert everything.latency_estimate_ms < advice.chosen.latency_estimate_ms
    assert [n for n in advice.notes if n.startswith(f"keeping all {len(advice.ranking)} quantized nodes")]
    data = json.loads(json.dumps(advice.to_json(), allow_nan=False))
    assert {"target_db", "met", "kept", "steps"} <= set(data) and data["target_db"] == target
    assert set(data["steps"][0]) >= {"kept", "sqnr_db", "engine_bytes", "latency_estimate_ms"}


def test_advise_says_when_a_target_is_unreachable_or_the_budget_ran_out(rtx_builds, rtx_env, tmp_path):
    from engine_core.accuracy.advise import advise
    from engine_core.models.zoo import sample_model_path
    from engine_core.store import RunStore

    store = RunStore(tmp_path / "runs")
    unreachable = advise(sample_model_path("tiny_cnn"), 150.0, store=store)
    assert not unreachable.met and len(unreachable.steps) == 2 and unreachable.complete
    assert len(unreachable.steps[1].kept) == len(unreachable.ranking)  # every quantized node kept, still short
    assert unreachable.notes[0].startswith("unreachable: even with all") and "below 150 dB" in unreachable.notes[0]
    rushed = advise(sample_model_path("tiny_cnn"), 150.0, store=store, budget_s=0.5)
    assert not rushed.met and not rushed.complete and len(rushed.steps) == 1 and "budget ran out" in rushed.notes[0]


def test_advise_refuses_a_model_that_already_carries_qdq_before_building(rtx_env, tmp_path):
    """A QAT export has its Q/DQ placed and no float twin: advise says so up front (it used to build step 1 and
    then blame onnxruntime), and an unreadable file is one line too."""
    from engine_core.accuracy.advise import advise
    from engine_core.models.zoo import sample_model_path
    from engine_core.store import RunStore

    store = RunStore(tmp_path / "runs")
    with pytest.raises(LayerLensError, match="tiny_cnn_qdq.onnx already carries Q/DQ nodes"):
        advise(sample_model_path("tiny_cnn_qdq"), 30.0, store=store)
    assert store.list_runs() == []  # refused before any build
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x08\x07this is not protobuf" * 10)
    proc = _cli("advise", garbage, "--min-sqnr", "30", "--store", tmp_path / "runs")
    assert proc.returncode == 1 and "garbage.onnx: is not a readable ONNX model" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_accuracy_cli_json_for_a_stored_build_and_for_onnx_files_with_data(rtx_builds, rtx_store, tmp_path):
    run = next(r for r in rtx_store.list_runs() if r.name == "tiny_cnn-int8-tensorrt-uncalibrated")
    proc = _cli("accuracy", run.run_id, "--store", rtx_store.root, "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == TOP_LEVEL_KEYS | {"source"} and data["source"].startswith("measured when")
    assert data["inputs"]["source"] == "synthetic" and all(set(layer) == LAYER_KEYS for layer in data["layers"])
    assert any(layer["engine_layers"] for layer in data["layers"])  # joined to the stored engine
    # Two ONNX files, the user's data: three .npy batches of the single input.
    folder = tmp_path / "data"
    folder.mkdir()
    for i in range(3):
        np.save(folder / f"b{i}.npy", np.random.default_rng(i).random((1, 1, 28, 28), dtype=np.float32))
    engine = rtx_builds[("tiny_cnn", "int8-tensorrt-uncalibrated")]
    proc = _cli("accuracy", engine.build_facts["onnx"], "--baseline", "tiny_cnn", "--data", folder, "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["inputs"]["source"] == "data" and data["inputs"]["batches"] == 3 and data["inputs"]["samples"] == 3
    assert data["source"] == "measured now" and all(layer["engine_layers"] == [] for layer in data["layers"])
    assert data["output"]["sqnr_db"] > 0 and data["output"]["top1_agreement"] is not None
    text = _cli("accuracy", engine.build_facts["onnx"], "--baseline", "tiny_cnn")
    assert "relative error, not task accuracy" in text.stdout and "Noisiest of" in text.stdout
    bad = _cli("accuracy", "tiny_cnn", "--baseline", "resnet18")
    assert bad.returncode == 1 and "takes inputs" in bad.stderr and "Traceback" not in bad.stderr


def test_a_run_name_two_builds_share_asks_for_an_id(rtx_builds, tmp_path):
    """Building a variant again stores a second run of the same name: the error lists both ids (it used to say
    the name was 'neither an ONNX file, a folder, a stored run nor a sample model')."""
    from engine_core.store import RunStore

    store = RunStore(tmp_path / "runs")
    first, _ = store.add(rtx_builds[("tiny_cnn", "int8-ort-uncalibrated")], source="build")
    second, _ = store.add(rtx_builds[("tiny_cnn", "int8-tensorrt-uncalibrated")], source="build")
    store.rename(second.run_id, first.name)
    proc = _cli("accuracy", first.name, "--store", store.root)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"2 runs are named '{first.name}'" in proc.stderr
    assert first.run_id in proc.stderr and second.run_id in proc.stderr
    assert _cli("accuracy", first.run_id, "--store", store.root).returncode == 0


def test_build_keep_from_the_cli_and_its_errors(rtx_env, tmp_path):
    proc = _cli("build", "tiny_cnn", "--precision", "fp32,fp16", "--keep", "fp32:/conv2/Conv", "--out", tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[-2:] == ["SQNR", "dB"]
    assert lines[1].split()[0] == "tiny_cnn-fp32" and lines[1].split()[-1] == "identical"
    assert lines[2].split()[0] == "tiny_cnn-fp16+keep1" and float(lines[2].split()[-1]) > 40
    assert "relative error between the two models, not task accuracy" in proc.stdout
    from conftest import load_one

    import onnx

    kept = load_one(tmp_path / "tiny_cnn-fp16+keep1")
    assert kept.build_facts["kept in FP32 (--keep)"] == "/conv2/Conv" and kept.recipe == "fp16+keep1"
    # The recipe keeps the convolution FP32 between two casts...
    recipe = {n.name: n for n in onnx.load(kept.build_facts["onnx"]).graph.node}
    assert recipe["/conv2/Conv_input_cast0"].attribute[0].i == onnx.TensorProto.FLOAT
    # ...and TensorRT-RTX 1.7 folds that island back into one FP16 convolution: the tool says so, it does not assume.
    conv2 = kept.layers[kept.layers["onnx_nodes"].map(lambda n: "/conv2/Conv" in n)]
    assert conv2["compute_precision"].tolist() == ["FP16"]
    assert "note: tiny_cnn-fp16+keep1: /conv2/Conv was kept in FP32, but the builder runs its layers in FP16" in proc.stdout
    for args, message in ((["--precision", "int8", "--keep", "fp16:/nope/*"], "matches no ONNX node of tiny_cnn.onnx"),
                          (["--precision", "fp32", "--keep", "fp16:/conv2/Conv"], "applies to no variant of this build"),
                          (["--precision", "int8", "--keep", "bf16:/conv2/Conv"], "is not TYPE:PATTERN")):
        bad = _cli("build", "tiny_cnn", *args, "--out", tmp_path / "bad")
        assert bad.returncode == 1 and message in bad.stderr and "Traceback" not in bad.stderr


def test_a_matrix_of_a_qat_model_says_why_its_sqnr_is_blank(rtx_env, tmp_path):
    """tiny_cnn_qdq carries Q/DQ: every recipe builds it as it is, and there is no float model to measure against.
    The closing table says both, once per reason, instead of a silent '-'."""
    proc = _cli("build", "tiny_cnn_qdq", "--precision", "fp16,int8", "--out", tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()[1:3]]
    assert [(r[0], r[-1]) for r in rows] == [("tiny_cnn_qdq-fp16", "-"), ("tiny_cnn_qdq-int8-ort-uncalibrated", "-")]
    assert ("note: tiny_cnn_qdq-fp16: the model already carries Q/DQ nodes, so it is built as quantized, "
            "not as fp16.") in proc.stdout
    assert ("note: tiny_cnn_qdq-fp16, tiny_cnn_qdq-int8-ort-uncalibrated: SQNR not measured: the model came with "
            "Q/DQ, so there is no float model to compare it with.") in proc.stdout


def test_a_missing_data_folder_stops_build_and_advise_before_any_build(rtx_env, tmp_path):
    """`build --data` used to build every variant and then leave the SQNR blank ('not measured: Calibration data
    folder ... does not exist.'); advise failed the same way after its first build."""
    store = tmp_path / "runs"
    for command in (["build", "tiny_cnn", "--precision", "int8"], ["advise", "tiny_cnn", "--min-sqnr", "40"]):
        proc = _cli(*command, "--data", tmp_path / "nope", "--store", store)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert f"--data {tmp_path / 'nope'} is not a folder of input batches" in proc.stderr
    assert not store.exists() or not any(store.iterdir())  # nothing was built


def test_an_accuracy_file_without_its_build_log_is_skipped_with_its_reason(rtx_builds, tmp_path):
    import shutil

    from engine_core.discover import load_engines

    engine = rtx_builds[("tiny_cnn", "fp16")]
    artifact = next(f for f in engine.files if f.endswith(".accuracy.json"))
    shutil.copy(artifact, tmp_path)
    engines, skipped = load_engines([tmp_path])
    assert engines == [] and "an accuracy file with no build log beside it" in skipped[0]


def test_summary_and_report_carry_the_accuracy(rtx_builds):
    from engine_core.summary import summarize_engine
    from layerlens.views.report import build_report

    engine, baseline = rtx_builds[("resnet18", "int8-tensorrt-uncalibrated")], rtx_builds[("resnet18", "fp32")]
    summary = json.loads(json.dumps(summarize_engine(engine), allow_nan=False))
    assert summary["accuracy"]["output_sqnr_db"] == pytest.approx(36.12, abs=0.05) and summary["accuracy"]["inputs"] == "synthetic"
    assert summarize_engine(baseline)["accuracy"]["identical"] is True
    report = build_report(engine, baseline)
    section = next(s for s in report.sections if s.anchor == "accuracy")
    assert section.blocks[0].text.startswith("Output SQNR 36.1 dB against resnet18.onnx")
    side_by_side = next(b.table for b in section.blocks if b.title == "Accuracy beside size and speed")
    assert side_by_side["output SQNR"].tolist() == ["36.1 dB", "identical"]
    assert side_by_side["inputs"].tolist() == ["synthetic inputs", "the float model itself"]
    assert "Per-layer SQNR" in [title for title, _ in report.figures()]
    sqnr = report.layer_table["sqnr_db"]
    assert sqnr.notna().sum() == 41 and np.isfinite(sqnr.dropna()).all()  # every layer from a measured node
