"""Format-faithful synthetic engines for benchmarks: N layers of detailed layer-info JSON plus a profile.

The mix follows a transformer-ish TensorRT 10 engine: Cask convolutions/GEMMs
with weights and Metadata, reformats at precision boundaries, Myelin kgen
kernels with short datatype names, and pointwise layers. Deterministic.
"""

from __future__ import annotations

import json
import random
from pathlib import Path


def _tensor(name: str, dims: list[int], fmt: str) -> dict:
    return {"Name": name, "Location": "Device", "Dimensions": dims, "Format/Datatype": fmt}


def make_layers(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    layers = []
    for i in range(n):
        kind = i % 10
        prev, out = f"t{i}", f"t{i + 1}"
        meta = f"[ONNX Layer: /block{i // 10}/op{kind}]\u001e[ONNX Layer: /block{i // 10}/act{kind}]"
        if kind in (0, 3, 6):
            c, k = rng.choice([64, 128, 256]), rng.choice([64, 128, 256])
            layers.append({"Name": f"/block{i // 10}/conv{kind} + /block{i // 10}/relu{kind}", "LayerType": "CaskConvolution",
                           "Inputs": [_tensor(prev, [8, c, 56, 56], "Thirty-two wide channel vectorized row major Int8 format")],
                           "Outputs": [_tensor(out, [8, k, 56, 56], "Thirty-two wide channel vectorized row major Int8 format")],
                           "ParameterType": "Convolution", "Kernel": [3, 3], "PaddingMode": "kEXPLICIT_ROUND_DOWN",
                           "PrePadding": [1, 1], "PostPadding": [1, 1], "Stride": [1, 1], "Dilation": [1, 1], "OutMaps": k,
                           "Groups": 1, "Weights": {"Type": "Int8", "Count": k * c * 9}, "Bias": {"Type": "Float", "Count": k},
                           "HasSparseWeights": 0, "Activation": "RELU", "HasBias": 1, "HasReLU": 1,
                           "TacticName": "sm80_xmma_fprop_implicit_gemm_interleaved_i8i8_i8i32_f32_nchw_vect_c_32kcrs_vect_c_32_nchw_vect_c_32_tilesize128x128x64_stage3_warpsize2x2x1_g1_tensor16x8x32",
                           "TacticValue": f"0x{rng.getrandbits(64):016x}", "StreamId": 0, "Metadata": meta})
        elif kind == 1:
            layers.append({"Name": f"Reformatting CopyNode for Input Tensor 0 to /block{i // 10}/gemm", "LayerType": "Reformat",
                           "Inputs": [_tensor(prev, [8, 128, 56, 56], "Thirty-two wide channel vectorized row major Int8 format")],
                           "Outputs": [_tensor(out, [8, 128, 56, 56], "Channel major FP16 format where channel % 8 == 0")],
                           "ParameterType": "Reformat", "Origin": "REFORMAT", "TacticValue": "0x0000000000000000",
                           "StreamId": 0, "Metadata": ""})
        elif kind in (2, 5, 8):
            layers.append({"Name": f"__myl_MulSumAdd_myl{i}_{kind}", "LayerType": "kgen",
                           "Inputs": [_tensor(prev, [8, 3136, 128], "Half"), _tensor(f"__mye{i}_dconst", [128, 128], "Half")],
                           "Outputs": [_tensor(out, [8, 3136, 128], "Half")],
                           "TacticName": f"__myl_MulSumAdd_0x{rng.getrandbits(128):032x}", "StreamId": i % 2, "Metadata": meta})
        else:
            layers.append({"Name": f"PWN(/block{i // 10}/add{kind})", "LayerType": "PointWiseV2",
                           "Inputs": [_tensor(prev, [8, 128, 56, 56], "Channel major FP16 format where channel % 8 == 0")],
                           "Outputs": [_tensor(out, [8, 128, 56, 56], "Channel major FP16 format where channel % 8 == 0")],
                           "ParameterType": "PointWise", "NbInputArgs": 1, "InputArgs": ["arg0"], "NbOutputVars": 1,
                           "OutputVars": ["var0"], "NbParams": 0, "Params": [], "NbLiterals": 0, "Literals": [],
                           "NbOperations": 1, "Operations": ["auto const var0 = pwgen::iMax(arg0, 0.f);"],
                           "TacticValue": f"0x{rng.getrandbits(64):016x}", "StreamId": 0, "Metadata": meta})
    return layers


def write_engine(folder: Path, n: int, name: str = "synthetic") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    layers = make_layers(n)
    with open(folder / f"{name}.graph.json", "w") as f:
        json.dump({"Layers": layers, "Bindings": ["t0", f"t{n}"]}, f, indent=1)
    rng = random.Random(1)
    profile = [{"count": 1000}] + [{"name": l["Name"], "timeMs": (t := rng.uniform(1, 50)), "averageMs": t / 1000,
                                    "medianMs": t / 1000, "percentage": 0.0} for l in layers]
    with open(folder / f"{name}.profile.json", "w") as f:
        json.dump(profile, f)
    return folder
