"""Format-faithful synthetic engines for benchmarks: detailed layer-info JSON, a profile and an ``--exportTimes`` trace.

Two shapes, both deterministic:

* :func:`make_layers` / :func:`write_engine`: a ResNet-ish TensorRT 10 engine (Cask convolutions with weights
  and Metadata, reformats, Myelin kgen kernels with short datatype names, pointwise layers);
* :func:`make_transformer_layers` / :func:`write_transformer_engine`: an LLM decoder as TensorRT 10 writes it
  (run ``python benchmarks/synthetic.py --layers 100000 OUT/`` to look at one). Decoder blocks
  ``/model/layers.N/...`` of Myelin kernels: RMSNorm, rotary, softmax, SiLU and residual ``kgen`` kernels
  (``__myl_<Ops>_myl<region>_<k>``) reading the rotary tables and attention mask every block shares (network
  inputs with thousands of readers), ``gemm`` projections whose weights are ``__mye…_dconst`` inputs, a
  quantize kernel before every INT8 GEMM (``int8`` variant: W8A8 GEMMs that write FP16, as SmoothQuant
  engines do; ``fp16`` variant: FP16 GEMMs), ``shape_call`` layers, and a reformat every few blocks. Every
  layer exists once per optimization profile; profile 1's layers and tensors carry TensorRT's
  ``[profile 1]`` suffix. The profile times profile 0, as ``trtexec --exportProfile`` does.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HIDDEN, FFN, TOKENS = 4096, 11008, 128


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


# -- an LLM decoder, TensorRT 10 / Myelin style ----------------------------------------------------------------

_GEMM_TACTIC = {"int8": "sm80_xmma_gemm_i8f16_i8i32_f32_tn_n_tilesize128x256x64_stage3_warpsize2x4x1_tensor16x8x32",
                "fp16": "sm80_xmma_gemm_f16f16_f16f32_f32_tn_n_tilesize128x256x32_stage4_warpsize2x4x1_tensor16x8x16"}
_ACT = {"int8": "Int8", "fp16": "Half"}


class _Decoder:
    """Writes one profile's layers, block by block, wiring each kernel's output into the next."""

    def __init__(self, precision: str, profile: int, rng: random.Random) -> None:
        self.precision, self.rng = precision, rng
        self.suffix = f" [profile {profile}]" if profile else ""
        self.layers: list[dict] = []
        self.kernel = 0

    def _layer(self, name: str, layer_type: str, inputs: list[dict], out_dims: list[int], out_fmt: str,
               nodes: list[str], tactic: str | None = None, **extra) -> str:
        out = f"{name}_output_0{self.suffix}"
        record = {"Name": name + self.suffix, "LayerType": layer_type, "Inputs": inputs,
                  "Outputs": [_tensor(out, out_dims, out_fmt)],
                  "TacticName": tactic if tactic is not None else f"{name.split('_myl')[0]}_0x{self.rng.getrandbits(64):016x}",
                  "StreamId": 0, "Metadata": "\u001e".join(f"[ONNX Layer: {n}]" for n in nodes), **extra}
        self.layers.append(record)
        return out

    def kgen(self, block: int, ops: str, nodes: list[str], inputs: list[tuple[str, list[int], str]],
             out_dims: list[int], out_fmt: str = "Half") -> str:
        self.kernel += 1
        return self._layer(f"__myl_{ops}_myl{block}_{self.kernel}", "kgen",
                           [_tensor(n, d, f) for n, d, f in inputs], out_dims, out_fmt, nodes)

    def gemm(self, block: int, scope: str, source: str, k: int, n: int) -> str:
        """A projection: its activation (quantized first in the int8 variant) times a constant weight."""
        act = source
        nodes = [f"{scope}/MatMul"]
        if self.precision == "int8":
            act = self.kgen(block, "MulMinMaxRounCast", [f"{scope}/input_quantizer/QuantizeLinear"],
                            [(source, [1, TOKENS, k], "Half")], [1, TOKENS, k], "Int8")
            nodes = [f"{scope}/input_quantizer/DequantizeLinear", f"{scope}/weight_quantizer/DequantizeLinear"] + nodes
        self.kernel += 1
        weight = f"__mye{block * 100 + self.kernel}_dconst{self.suffix}"
        return self._layer(f"{scope}/MatMul_myl{block}_{self.kernel}", "gemm",
                           [_tensor(act, [1, TOKENS, k], _ACT[self.precision]),
                            _tensor(weight, [k, n], _ACT[self.precision])],
                           [1, TOKENS, n], "Half", nodes, tactic=_GEMM_TACTIC[self.precision])

    def block(self, b: int, hidden: str) -> str:
        p = f"/model/layers.{b}"
        h = [1, TOKENS, HIDDEN]
        if b and b % 4 == 0:  # a layout change TensorRT inserted between two Myelin regions
            reformatted = f"Reformatted Input Tensor 0 to {p}/input_layernorm{self.suffix}"
            self.layers.append({"Name": f"Reformatting CopyNode for Input Tensor 0 to {p}/input_layernorm{self.suffix}",
                                "LayerType": "Reformat", "Inputs": [_tensor(hidden, h, "Row major linear FP16 format")],
                                "Outputs": [_tensor(reformatted, h, "Half")], "ParameterType": "Reformat",
                                "Origin": "REFORMAT", "TacticValue": "0x00000000000003e8", "StreamId": 0, "Metadata": ""})
            hidden = reformatted
        self.kernel += 1
        self.layers.append({"Name": f"dummy_shape_call__mye{b}_0_myl{b}_{self.kernel}{self.suffix}", "LayerType": "shape_call",
                            "Inputs": [], "Outputs": [], "TacticName": "", "StreamId": 0, "Metadata": ""})
        normed = self.kgen(b, "PowMeanAddSqrtDivMulMul", [f"{p}/input_layernorm/Pow", f"{p}/input_layernorm/Mul_1"],
                           [(hidden, h, "Half")], h)
        q, k, v = (self.gemm(b, f"{p}/self_attn/{x}_proj", normed, HIDDEN, HIDDEN) for x in "qkv")
        # Every block reads the same rotary tables and attention mask: network inputs with thousands of readers.
        rope = [(f"{x}{self.suffix}", [1, TOKENS, 128], "Half") for x in ("position_cos", "position_sin")]
        q = self.kgen(b, "MulSlicNegConcMulAdd", [f"{p}/self_attn/rotary_emb/Mul", f"{p}/self_attn/Add"],
                      [(q, h, "Half"), *rope], h)
        k = self.kgen(b, "MulSlicNegConcMulAdd", [f"{p}/self_attn/rotary_emb/Mul_2", f"{p}/self_attn/Add_1"],
                      [(k, h, "Half"), *rope], h)
        scores = self.kgen(b, "TranMulMaxSubExpSumDiv", [f"{p}/self_attn/MatMul", f"{p}/self_attn/Softmax"],
                           [(q, h, "Half"), (k, h, "Half"), (f"attention_mask{self.suffix}", [1, 1, TOKENS, TOKENS], "Half")],
                           [1, 32, TOKENS, TOKENS])
        attn = self.kgen(b, "MoveTran", [f"{p}/self_attn/MatMul_1", f"{p}/self_attn/Transpose_1"],
                         [(scores, [1, 32, TOKENS, TOKENS], "Half"), (v, h, "Half")], h)
        o = self.gemm(b, f"{p}/self_attn/o_proj", attn, HIDDEN, HIDDEN)
        hidden = self.kgen(b, "Add", [f"{p}/Add"], [(hidden, h, "Half"), (o, h, "Half")], h)
        normed = self.kgen(b, "PowMeanAddSqrtDivMulMul", [f"{p}/post_attention_layernorm/Pow",
                                                          f"{p}/post_attention_layernorm/Mul_1"], [(hidden, h, "Half")], h)
        gate = self.gemm(b, f"{p}/mlp/gate_proj", normed, HIDDEN, FFN)
        up = self.gemm(b, f"{p}/mlp/up_proj", normed, HIDDEN, FFN)
        f = [1, TOKENS, FFN]
        act = self.kgen(b, "SigmMulMul", [f"{p}/mlp/act_fn/Sigmoid", f"{p}/mlp/Mul"], [(gate, f, "Half"), (up, f, "Half")], f)
        down = self.gemm(b, f"{p}/mlp/down_proj", act, FFN, HIDDEN)
        return self.kgen(b, "Add", [f"{p}/Add_1"], [(hidden, h, "Half"), (down, h, "Half")], h)


def make_transformer_layers(n: int, precision: str = "int8", profiles: int = 2, seed: int = 0) -> list[dict]:
    """About ``n`` layers (whole decoder blocks, every profile) of an LLM decoder engine."""
    if precision not in _GEMM_TACTIC:
        raise ValueError(f"precision must be one of {sorted(_GEMM_TACTIC)}")
    rng = random.Random(seed)
    per_block = len(_profile(1, precision, 0, rng))
    blocks = max(1, round(n / profiles / per_block))
    return [layer for profile in range(profiles) for layer in _profile(blocks, precision, profile, rng)]


def _profile(blocks: int, precision: str, profile: int, rng: random.Random) -> list[dict]:
    decoder = _Decoder(precision, profile, rng)
    hidden = "input_embeds" + decoder.suffix
    for b in range(blocks):
        hidden = decoder.block(b, hidden)
    return decoder.layers


def write_transformer_engine(folder: Path, n: int, name: str = "llm", precision: str = "int8") -> Path:
    """``<name>.graph.json``, ``.profile.json`` (profile 0 timed) and ``.timing.json`` of about ``n`` layers."""
    folder.mkdir(parents=True, exist_ok=True)
    layers = make_transformer_layers(n, precision)
    rng = random.Random(1)
    speed = 0.55 if precision == "int8" else 1.0
    with open(folder / f"{name}.graph.json", "w") as f:
        json.dump({"Layers": layers, "Bindings": ["input_embeds", "position_cos", "position_sin", "attention_mask",
                                                  layers[-1]["Outputs"][0]["Name"]]}, f, indent=1)
    timed = [layer for layer in layers if "[profile " not in layer["Name"]]
    times = [rng.uniform(0.002, 0.02) * (speed if layer["LayerType"] == "gemm" else 1.0) for layer in timed]
    total = sum(times)
    profile = [{"count": 100}] + [{"name": layer["Name"], "timeMs": t * 100, "averageMs": t, "medianMs": t,
                                   "percentage": 100 * t / total} for layer, t in zip(timed, times)]
    with open(folder / f"{name}.profile.json", "w") as f:
        json.dump(profile, f)
    trace = [{"startEnqMs": i * total, "endEnqMs": i * total + 0.05, "startComputeMs": i * total,
              "endComputeMs": (i + 1) * total * 0.92, "latencyMs": total * 0.95, "computeMs": total * 0.92 * (1 + 0.01 * (i % 7)),
              "h2dMs": 0.0, "d2hMs": 0.0} for i in range(100)]
    with open(folder / f"{name}.timing.json", "w") as f:
        json.dump(trace, f)
    return folder


def write_repeated_engine(source: Path, folder: Path, copies: int, name: str = "repeated") -> Path:
    """A real engine's layer JSON and profile repeated ``copies`` times, layer names made unique (`` #k``) and
    tensor names kept: how the issue measured 50k-layer engines (every tensor then has ``copies`` readers)."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = source.name.removesuffix(".graph.json")
    graph = json.loads(source.read_text())
    profile = json.loads(source.with_name(stem + ".profile.json").read_text())
    header, rows = profile[0], profile[1:]
    layers = [{**layer, "Name": f"{layer['Name']} #{k}"} for k in range(copies) for layer in graph["Layers"]]
    with open(folder / f"{name}.graph.json", "w") as f:
        json.dump({**graph, "Layers": layers}, f, indent=1)
    with open(folder / f"{name}.profile.json", "w") as f:
        json.dump([header] + [{**row, "name": f"{row['name']} #{k}"} for k in range(copies) for row in rows], f)
    return folder


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Write a synthetic LLM engine's trtexec artifacts.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--layers", type=int, default=100_000)
    parser.add_argument("--precision", choices=sorted(_GEMM_TACTIC), default="int8")
    parser.add_argument("--name", default="llm")
    args = parser.parse_args()
    folder = write_transformer_engine(args.out, args.layers, args.name, args.precision)
    print(f"wrote {folder}: {len(json.load(open(folder / f'{args.name}.graph.json'))['Layers']):,} layers")
