"""Where an engine's bytes go, on real TensorRT-RTX builds of every sample model in fp32, fp16 and int8 (both
Q/DQ placements): each constant counted once, generated-kernel constants never called bias, and the account
reconciled with the builder's own Total Weights Memory and the plan's byte count.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import DATA, ZOO_RECIPES, load_one
from engine_core.analysis.diagnose import diagnose
from engine_core.analysis.size import KERNEL_CONSTANTS, account_bytes, explain_growth
from engine_core.models.zoo import FLOAT_ZOO, make_model
from engine_core.summary import summarize_engine

BUILDS = [(m, r) for m in FLOAT_ZOO for r in ZOO_RECIPES]
#: Builds whose stored constants match Total Weights Memory to the byte (no constant the layers cannot tell apart).
EXACT = [(m, r) for m in ("resnet18", "resnet50", "mobilenetv2") for r in ("fp32", "fp16")] + [("efficientnet_b0", "fp32")]
#: Quantized builds bigger than their FP32 build: the seed question, on depthwise and shared-weight models.
BIGGER = [(m, p) for m in ("mobilenetv2", "efficientnet_b0", "albert") for p in ("ort", "tensorrt")]


@pytest.mark.parametrize("model,recipe", BUILDS)
def test_every_build_reconciles_with_the_builder(rtx_zoo_builds, model, recipe):
    engine = rtx_zoo_builds[(model, recipe)]
    account = account_bytes(engine)
    memory, size = account.weights_memory_bytes, account.engine_size_bytes
    assert memory and size and account.itemised_bytes <= size
    assert abs(account.stored_bytes - memory) <= 0.05 * memory, account.statement
    assert int(account.components()["bytes"].sum()) == size  # the parts are the whole file
    layers = engine.layers
    # Constants of generated kernels are their own part: a layer holding them has neither weights nor bias.
    kernels = layers[layers["kernel_constants_bytes"] > 0]
    assert (kernels["weights_bytes"] == 0).all() and (kernels["bias_bytes"] == 0).all()
    counted = engine.constants[engine.constants["first_use"]]
    assert int(counted["bytes"].sum()) == account.itemised_bytes
    assert int(counted["stored_bytes"].sum()) == account.stored_bytes


@pytest.mark.parametrize("model,recipe", EXACT)
def test_float_cnn_builds_match_total_weights_memory_to_the_byte(rtx_zoo_builds, model, recipe):
    account = account_bytes(rtx_zoo_builds[(model, recipe)])
    assert account.stored_bytes == account.weights_memory_bytes
    assert account.padding_bytes > 0 and account.unitemised_weights_bytes == 0
    assert "(+0.0%)" in account.statement


def _matrix_weight_bytes(model: str, element_bytes: int) -> int:
    """The model's weight matrices (2-D initializers) at ``element_bytes`` each: what the engine must store once."""
    return sum(int(np.prod(i.dims)) for i in make_model(model).graph.initializer if len(i.dims) == 2) * element_bytes


@pytest.mark.parametrize("recipe,element_bytes", [("fp32", 4), ("fp16", 2)])
def test_shared_weights_count_once(rtx_zoo_builds, recipe, element_bytes):
    """ALBERT's four layers use one layer's weights; TensorRT-RTX gives every use its own constant name."""
    albert, bert = rtx_zoo_builds[("albert", recipe)], rtx_zoo_builds[("transformer", recipe)]
    assert int(albert.layers["weights_bytes"].sum()) == _matrix_weight_bytes("albert", element_bytes) == 819_200 * element_bytes
    assert int(bert.layers["weights_bytes"].sum()) == _matrix_weight_bytes("transformer", element_bytes)
    shared = albert.layers[albert.layers["weights_shared_from"].notna()]
    assert len(shared) == 12 and (shared["weights_bytes"] == 0).all()
    assert set(shared["weights_precision"]) == {"FP32" if recipe == "fp32" else "FP16"}
    # The names differ per use: counted by name, the weights would be four times what the builder stored.
    uses = albert.constants[albert.constants["role"] == "weights"]
    assert uses["name"].nunique() == len(uses) == 17 and int(uses["first_use"].sum()) == 5
    summary = summarize_engine(albert)["weights"]
    assert summary["layers_sharing_weights"] == 12 and summary["bytes"] == 819_200 * element_bytes
    statement = account_bytes(albert).statement
    assert "12 layers reuse weights another layer holds" in statement


def test_a_fused_qkv_weight_is_one_tensor_per_concatenation_order(rtx_zoo_builds):
    """INT8 ALBERT: layer 0 fuses value+query+key, layers 1-3 value+key+query; two orders are two tensors."""
    engine = rtx_zoo_builds[("albert", "int8-ort-uncalibrated")]
    constants = engine.constants
    qkv = constants[(constants["role"] == "weights") & constants["dims"].map(lambda d: d == (1, 256, 768))]
    assert len(qkv) == 4 and qkv["identity"].nunique() == 2 and qkv["identity"].str.startswith("concat:").all()
    assert int(qkv["first_use"].sum()) == 2


def test_depthwise_int8_constants_are_generated_kernel_constants_not_bias(rtx_zoo_builds):
    engine, fp32 = rtx_zoo_builds[("efficientnet_b0", "int8-ort-uncalibrated")], rtx_zoo_builds[("efficientnet_b0", "fp32")]
    account = account_bytes(engine)
    largest = account.largest_kernel_constants.iloc[0]
    # TensorRT-RTX pads each channel of an INT8 depthwise input to 4 lanes with a generated [1,C,3,H,W] Int8 constant.
    assert len(largest["dims"]) == 5 and largest["dims"][2] == 3 and largest["precision"] == "INT8"
    assert largest["name"].startswith("__mye") and largest["layer_name"].startswith("__myl_")
    holder = engine.layers.set_index("name").loc[largest["layer_name"]]
    assert holder["layer_type"] == "kgen" and holder["bias_bytes"] == 0
    assert account.kernel_constants_bytes > account.weights_bytes > account.bias_bytes
    dims = "[" + ",".join(map(str, largest["dims"])) + "]"
    assert "generated kernels hold" in account.statement and dims in account.statement
    fills = engine.constants[engine.constants["identity"].str.startswith("fill:") & engine.constants["first_use"]]
    assert fills["dims"].nunique() == len(fills)  # one stored fill per shape
    first = diagnose(engine, fp32)[0]
    assert first.kind == "engine_bigger_than_baseline" and KERNEL_CONSTANTS in first.message
    assert first.layers and all(name.startswith("__myl_") for name in first.layers)


@pytest.mark.parametrize("model,placement", BIGGER)
def test_int8_bigger_than_fp32_is_answered_first(rtx_zoo_builds, model, placement):
    fp32, int8 = rtx_zoo_builds[(model, "fp32")], rtx_zoo_builds[(model, f"int8-{placement}-uncalibrated")]
    assert int8.engine_size_bytes > fp32.engine_size_bytes
    growth = explain_growth(fp32, int8)
    assert growth is not None and growth.statement.startswith(f"{int8.name} (INT8) is ")
    grew = growth.components.set_index("component")["delta_bytes"]
    assert grew.sum() == int8.engine_size_bytes - fp32.engine_size_bytes
    assert grew["weights"] < 0 < grew.max()
    assert ("--placement tensorrt" in growth.fix) == (placement == "ort")
    findings = diagnose(int8, fp32)
    assert findings[0].kind == "engine_bigger_than_baseline" and findings[0].severity == "high"
    assert explain_growth(int8, fp32) is None  # FP32 is not "bigger than its INT8 baseline"


def test_smaller_int8_engines_raise_nothing(rtx_zoo_builds):
    for model in ("resnet18", "resnet50", "transformer"):
        fp32, int8 = rtx_zoo_builds[(model, "fp32")], rtx_zoo_builds[(model, "int8-tensorrt-uncalibrated")]
        assert int8.engine_size_bytes < fp32.engine_size_bytes and explain_growth(fp32, int8) is None
        assert "engine_bigger_than_baseline" not in {f.kind for f in diagnose(int8, fp32)}


@pytest.mark.parametrize("model,recipe", BUILDS)
def test_what_ran_is_what_was_asked(rtx_zoo_builds, model, recipe):
    """A recipe's engine runs the recipe's precision: no precision_not_applied finding on any sample build."""
    engine = rtx_zoo_builds[(model, recipe)]
    assert "precision_not_applied" not in {f.kind for f in diagnose(engine)}


def test_tensorrt_10_weights_without_names_are_counted_per_layer():
    """TensorRT <= 10 records carry Weights/Bias blobs without names: nothing to share, nothing padded."""
    engine = load_one(DATA / "fused" / "convactpool.graph.json")
    assert engine.constants.empty and int(engine.layers["constants_padding_bytes"].sum()) == 0
    assert int(engine.layers["weights_bytes"].sum()) == 254_080
