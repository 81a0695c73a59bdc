"""What a generated (kgen / Myelin) kernel does, read from its name.

TensorRT-RTX and TensorRT 10's Myelin name generated kernels after the ops they
fuse, abbreviated and concatenated: ``__myl_MulAddReluMulMinMaxRounCast_myl0_5``
is scale, bias Add, ReLU, then *quantize* (``Mul`` by 1/scale, ``Min``/``Max``
clamp, ``Roun``d, ``Cast`` to Int8). Turning that back into words is how
LayerLens explains the quantize kernels and split epilogues of an INT8 engine
without a profiler. Pure string work; no pandas, no TensorRT.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Greedy letters: the suffix starts with "_", so a lazy "+?" matched the same text after backtracking letter by
# letter (5 µs a name; this runs twice for each of an LLM engine's ~100k kernels).
_KGEN = re.compile(r"^__myl_([A-Za-z]+)(?:_0x[0-9a-f]+)?(?:_myl\d+_\d+)?$")
_OP = re.compile(r"[A-Z][a-z0-9]*")
_QUANTIZE = "MulMinMaxRounCast"
# INT8 quantize is scale, clamp, round, cast; FP8 needs no clamp or round (``MulCast``), which is
# only read as a quantize when the kernel's output really is quantized (see describe_kernel).
_WORDS = (("MulMinMaxRounCast", "quantize"), ("MulCastCastMul", "quantize, dequantize"), ("CastMul", "dequantize"), ("Relu", "ReLU"), ("Add", "add"),
          ("Mul", "scale"), ("Conc", "concat"), ("Tran", "transpose"), ("Mean", "mean"), ("Move", "copy"),
          ("Resh", "reshape"), ("Corr", "convolution"), ("Sum", "sum"), ("Fc", "fully connected"), ("Cast", "cast"), ("Max", "max"),
          ("Min", "min"), ("Div", "divide"), ("Sub", "subtract"), ("Exp", "exp"), ("Erf", "erf"), ("Tanh", "tanh"),
          ("Sigm", "sigmoid"), ("Soft", "softmax"), ("Norm", "normalize"), ("Etc", "…"))


#: How every generated kernel's name starts (see _KGEN).
_PREFIX = "__myl_"


def kgen_ops(name: str | None) -> str | None:
    """The fused-op string of a generated kernel name (``MulAddRelu...``), or None for other names."""
    if not name or not name.startswith(_PREFIX):  # most layers: no regex (this runs for every layer)
        return None
    m = _KGEN.match(name)
    return m.group(1) if m else None


def is_generated_kernel(name: str | None, weights_count: int = 0) -> bool:
    """A generated (kgen/Myelin) kernel without weights of its own: glue around the layers doing the work."""
    return not weights_count and kgen_ops(name) is not None


def are_generated_kernels(names: list[str], weights_counts: list[int]) -> list[bool]:
    """:func:`is_generated_kernel` of each layer of a table. The prefix is tested before any call: on a 100k-layer
    engine the call per layer cost more than the test."""
    return [name.startswith(_PREFIX) and is_generated_kernel(name, weights)
            for name, weights in zip(names, weights_counts)]


def quantize_count(name: str | None, quantized_output: bool = False) -> int:
    """How many quantize steps a generated kernel performs (see :func:`describe_kernel`)."""
    words = describe_kernel(name, quantized_output)
    return words.split(", ").count("quantize") if words else 0


def describe_kernel(name: str | None, quantized_output: bool = False) -> str | None:
    """Plain words for a generated kernel: ``"dequantize, add, ReLU, quantize"``; None if not one.

    ``quantized_output``: the kernel writes INT8/FP8, so a trailing ``MulCast`` is FP8's quantize.
    """
    ops = kgen_ops(name)
    return _ops_in_words(ops, quantized_output) if ops else None


@lru_cache(maxsize=4096)
def _ops_in_words(ops: str, quantized_output: bool) -> str:
    """:func:`describe_kernel` of one fused-op string: a 100k-layer engine has ~100k kernels but a few dozen
    distinct op strings, so each is spelled out once."""
    words: list[str] = []
    rest = ops
    if quantized_output and ops.endswith("MulCast") and not ops.endswith(_QUANTIZE):
        rest, tail = ops[: -len("MulCast")], ["quantize"]
    else:
        tail = []
    while rest:
        for token, word in _WORDS:
            if rest.startswith(token):
                words.append(word)
                rest = rest[len(token):]
                break
        else:
            op = _OP.match(rest)
            step = op.group(0) if op else rest[0]
            words.append(step.lower())
            rest = rest[len(step):]
    # "scale, add" right after a float convolution is its dequantize-and-bias; keep the words literal.
    return ", ".join(words + tail)
