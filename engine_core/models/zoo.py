"""Real network architectures as ONNX, generated without torch: the models LayerLens builds on any machine.

ResNet-18/50, MobileNetV2, EfficientNet-B0 (MBConv: depthwise convolutions,
squeeze-excitation, SiLU), a transformer encoder (attention, LayerNorm, GELU),
an ALBERT-style encoder whose layers share one set of weights, and the tiny CNN,
each with deterministic seeded weights and node names the way
``torch.onnx.export`` writes them, so engines built from them read like a
user's own. Batch norm is folded into the convolutions, as PyTorch's eval-mode
export does. A module called more than once (ALBERT's shared layer) gets node
names suffixed ``_1``, ``_2``, ... and reuses its initializers, as the export does.

Two naming styles exist because PyTorch changed them, and an engine comparison
must survive both (``/layer1/layer1.0/conv1/Conv`` since PyTorch 1.13, numbered
``Conv_3`` before). Weights are He-normal; the last convolution of each residual
block is scaled down (as zero-init-residual training leaves it) so activations
stay within FP16 range through 50 layers of random weights.

Large models are generated on first use into a cache folder, never committed
(:func:`sample_model_path`). Must not import TensorRT or Streamlit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NAMINGS = ("pytorch", "legacy")


@dataclass(frozen=True)
class ZooModel:
    name: str
    description: str
    input_shape: tuple[int, ...]
    #: Already quantized (explicit Q/DQ, as a QAT export): its precision comes from the ONNX, so every recipe
    #: builds the same network (recipe ``qat``).
    quantized: bool = False


ZOO: dict[str, ZooModel] = {
    "tiny_cnn": ZooModel("tiny_cnn", "2 convolutions, pooling and a classifier (MNIST-sized)", (1, 1, 28, 28)),
    "tiny_cnn_qdq": ZooModel("tiny_cnn_qdq", "the tiny CNN as a QAT export writes it: INT8 Q/DQ on each convolution's "
                                             "input and weights (fixed scales, not trained)", (1, 1, 28, 28),
                             quantized=True),
    "resnet18": ZooModel("resnet18", "ResNet-18 (torchvision layout, 11.7M parameters)", (1, 3, 224, 224)),
    "resnet50": ZooModel("resnet50", "ResNet-50 (torchvision layout, 25.6M parameters)", (1, 3, 224, 224)),
    "mobilenetv2": ZooModel("mobilenetv2", "MobileNetV2 (depthwise separable, ReLU6, 3.5M parameters)", (1, 3, 224, 224)),
    "transformer": ZooModel("transformer", "Transformer encoder: 4 layers, d=256, 4 heads, seq 128 (attention, LayerNorm, GELU)",
                            (1, 128, 256)),
    "albert": ZooModel("albert", "ALBERT-style encoder: 4 layers sharing one layer's weights (embedding 128 -> d=256, "
                       "4 heads, seq 128)", (1, 128, 128)),
    "efficientnet_b0": ZooModel("efficientnet_b0", "EfficientNet-B0 (torchvision layout: MBConv, depthwise, "
                                "squeeze-excitation, SiLU, 5.3M parameters)", (1, 3, 224, 224)),
}


#: The float sample models: the ones a precision recipe applies to.
FLOAT_ZOO = tuple(name for name, model in ZOO.items() if not model.quantized)


def _param_prefix(scope: str) -> str:
    """Module path of a node scope, as PyTorch names parameters.

    Export scopes repeat the parent path in each segment (``/layer1/layer1.0/conv1``
    is module ``layer1.0.conv1``), so a segment that extends the previous one replaces it.
    """
    parts: list[str] = []
    for segment in scope.strip("/").split("/"):
        if parts and segment.startswith(parts[-1] + "."):
            parts[-1] = segment
        elif segment:
            parts.append(segment)
    return ".".join(parts)


class _Graph:
    """A tiny ONNX graph writer that names nodes the way a PyTorch export does."""

    def __init__(self, name: str, naming: str, seed: int) -> None:
        if naming not in NAMINGS:
            raise ValueError(f"naming must be one of {NAMINGS}")
        self.name, self.naming = name, naming
        self.rng = np.random.default_rng(seed)
        self.nodes: list = []
        self.inits: list = []
        self.counter = 0
        self.node_names: set[str] = set()
        #: Parameter name -> initializer name, for modules called more than once (ALBERT's shared layer).
        self.shared: dict[str, str] | None = None

    def _node_name(self, scope: str, op: str) -> str:
        # PyTorch >= 1.13: "/<module path>/<Op>"; earlier: "<Op>_<running index>". A module called
        # again repeats its path, and the export suffixes the clash: "/.../query/MatMul_1".
        self.counter += 1
        if self.naming == "legacy":
            return f"{op}_{self.counter}"
        name = base = f"{scope}/{op}" if scope else f"/{op}"
        index = 0
        while name in self.node_names:
            index += 1
            name = f"{base}_{index}"
        self.node_names.add(name)
        return name

    def _init_name(self, param: str) -> str:
        return param if self.naming == "pytorch" else f"onnx::{param.split('.')[-1].capitalize()}_{self.counter}"

    def param(self, name: str, array: np.ndarray) -> str:
        """An initializer for parameter ``name``; with :attr:`shared` on, a parameter made before is reused."""
        from onnx import numpy_helper

        if self.shared is not None and name in self.shared:
            return self.shared[name]
        key = self._init_name(name)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), key))
        if self.shared is not None:
            self.shared[name] = key
        return key

    def const(self, scope: str, value, dtype=np.float32) -> str:
        self.counter += 1
        return self.param(f"{_param_prefix(scope)}.const{self.counter}", np.asarray(value, dtype=dtype))

    def op(self, op: str, inputs: list[str], scope: str, suffix: str = "", **attrs) -> str:
        from onnx import helper

        name = self._node_name(scope, op + suffix)
        out = f"{name}_output_0" if self.naming == "pytorch" else str(self.counter)
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    # -- layers ----------------------------------------------------------------------
    def qdq(self, x: str, scope: str, scale: float) -> str:
        """Symmetric INT8 QuantizeLinear + DequantizeLinear on ``x``, as a QAT export writes them."""
        s, zero = self.const(scope, scale), self.const(scope, 0, np.int8)
        return self.op("DequantizeLinear", [self.op("QuantizeLinear", [x, s, zero], scope), s, zero], scope)

    def conv(self, x: str, cin: int, cout: int, k: int, scope: str, stride: int = 1, groups: int = 1,
             gain: float = 1.0, input_amax: float | None = None) -> str:
        """A convolution; with ``input_amax``, INT8 Q/DQ on its input (that range) and weights (their max)."""
        fan_in = cin // groups * k * k
        w = self.rng.normal(0.0, gain * np.sqrt(2.0 / fan_in), (cout, cin // groups, k, k)).astype(np.float32)
        b = self.rng.normal(0.0, 0.01, cout).astype(np.float32)
        prefix = _param_prefix(scope)
        wn, bn = self.param(f"{prefix}.weight", w), self.param(f"{prefix}.bias", b)
        if input_amax is not None:  # pytorch-quantization / ModelOpt name their quantizers this way
            x = self.qdq(x, f"{scope}/_input_quantizer", input_amax / 127)
            wn = self.qdq(wn, f"{scope}/_weight_quantizer", float(np.abs(w).max()) / 127)
        return self.op("Conv", [x, wn, bn], scope, kernel_shape=[k, k], strides=[stride, stride],
                       pads=[k // 2] * 4, group=groups)

    def linear(self, x: str, fin: int, fout: int, scope: str, gemm: bool = True) -> str:
        w = self.rng.normal(0.0, np.sqrt(1.0 / fin), (fout, fin)).astype(np.float32)
        b = self.rng.normal(0.0, 0.01, fout).astype(np.float32)
        prefix = _param_prefix(scope)
        if gemm:
            return self.op("Gemm", [x, self.param(f"{prefix}.weight", w), self.param(f"{prefix}.bias", b)], scope, transB=1)
        y = self.op("MatMul", [x, self.param(f"{prefix}.weight", w.T.copy())], scope)
        return self.op("Add", [y, self.param(f"{prefix}.bias", b)], scope)

    def model(self, inputs, outputs):
        import onnx
        from onnx import helper

        graph = helper.make_graph(self.nodes, self.name, inputs, outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                  producer_name="pytorch" if self.naming == "pytorch" else "pytorch-legacy",
                                  producer_version="layerlens-zoo")
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model


def _image_io(shape, classes: int = 1000):
    from onnx import TensorProto, helper

    return ([helper.make_tensor_value_info("input", TensorProto.FLOAT, list(shape))],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, [shape[0], classes])])


def _rename_output(g: _Graph, tensor: str, new: str) -> None:
    for node in g.nodes:
        node.output[:] = [new if o == tensor else o for o in node.output]


def _resnet(g: _Graph, blocks: list[int], bottleneck: bool, shape) -> object:
    x = g.conv("input", 3, 64, 7, "/conv1", stride=2)
    x = g.op("Relu", [x], "/relu")
    x = g.op("MaxPool", [x], "/maxpool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin, expansion = 64, 4 if bottleneck else 1
    for stage, (count, width) in enumerate(zip(blocks, (64, 128, 256, 512)), start=1):
        for i in range(count):
            scope = f"/layer{stage}/layer{stage}.{i}"
            stride = 2 if (i == 0 and stage > 1) else 1
            cout = width * expansion
            if bottleneck:
                y = g.op("Relu", [g.conv(x, cin, width, 1, f"{scope}/conv1")], f"{scope}/relu")
                y = g.op("Relu", [g.conv(y, width, width, 3, f"{scope}/conv2", stride=stride)], f"{scope}/relu", "_1")
                y = g.conv(y, width, cout, 1, f"{scope}/conv3", gain=0.2)
            else:
                y = g.op("Relu", [g.conv(x, cin, width, 3, f"{scope}/conv1", stride=stride)], f"{scope}/relu")
                y = g.conv(y, width, cout, 3, f"{scope}/conv2", gain=0.2)
            shortcut = x
            if stride != 1 or cin != cout:
                shortcut = g.conv(x, cin, cout, 1, f"{scope}/downsample/downsample.0", stride=stride)
            x = g.op("Relu", [g.op("Add", [y, shortcut], scope)], f"{scope}/relu", "_2" if bottleneck else "_1")
            cin = cout
    x = g.op("GlobalAveragePool", [x], "/avgpool")
    x = g.op("Flatten", [x], "", axis=1)
    _rename_output(g, g.linear(x, cin, 1000, "/fc"), "output")
    return g.model(*_image_io(shape))


def _mobilenetv2(g: _Graph, shape) -> object:
    def conv_bn_relu6(x, cin, cout, k, scope, stride=1, groups=1):
        y = g.conv(x, cin, cout, k, f"{scope}/{scope.rsplit('/', 1)[-1]}.0", stride=stride, groups=groups)
        return g.op("Clip", [y, g.const(scope, 0.0), g.const(scope, 6.0)], f"{scope}/{scope.rsplit('/', 1)[-1]}.2")

    x = conv_bn_relu6("input", 3, 32, 3, "/features/features.0", stride=2)
    cin = 32
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
    index = 1
    for t, c, n, s in settings:
        for i in range(n):
            scope = f"/features/features.{index}/conv"
            stride = s if i == 0 else 1
            hidden = cin * t
            y = x
            part = 0
            if t != 1:
                y = conv_bn_relu6(y, cin, hidden, 1, f"{scope}/conv.{part}")
                part += 1
            y = conv_bn_relu6(y, hidden, hidden, 3, f"{scope}/conv.{part}", stride=stride, groups=hidden)
            y = g.conv(y, hidden, c, 1, f"{scope}/conv.{part + 1}", gain=0.2)
            if stride == 1 and cin == c:
                y = g.op("Add", [x, y], f"/features/features.{index}")
            x, cin = y, c
            index += 1
    x = conv_bn_relu6(x, cin, 1280, 1, f"/features/features.{index}")
    x = g.op("GlobalAveragePool", [x], "/GlobalAveragePool")
    x = g.op("Flatten", [x], "", axis=1)
    _rename_output(g, g.linear(x, 1280, 1000, "/classifier/classifier.1"), "output")
    return g.model(*_image_io(shape))


#: Module paths inside one encoder layer, as Hugging Face names them: BERT, and ALBERT (whose layer is
#: ``albert_layer_groups.0.albert_layers.0``, called once per layer with the same weights).
_BERT_MODULES = {"query": "attention/self/query", "key": "attention/self/key", "value": "attention/self/value",
                 "attention": "attention/self", "attention_dense": "attention/output/dense",
                 "attention_add": "attention/output", "attention_norm": "attention/output/LayerNorm",
                 "ffn": "intermediate/dense", "activation": "intermediate/intermediate_act_fn",
                 "ffn_output": "output/dense", "ffn_add": "output", "ffn_norm": "output/LayerNorm"}
_ALBERT_MODULES = {"query": "attention/query", "key": "attention/key", "value": "attention/value",
                   "attention": "attention", "attention_dense": "attention/dense", "attention_add": "attention",
                   "attention_norm": "attention/LayerNorm", "ffn": "ffn", "activation": "activation",
                   "ffn_output": "ffn_output", "ffn_add": "", "ffn_norm": "full_layer_layer_norm"}


def _transformer(g: _Graph, shape, layers: int = 4, heads: int = 4, shared: bool = False) -> object:
    """BERT's encoder; ``shared``: ALBERT's, one layer's weights used by every layer, after a 128 -> 256 mapping."""
    from onnx import TensorProto, helper

    _, seq, width = shape
    d = 256 if shared else width
    head = d // heads
    modules = _ALBERT_MODULES if shared else _BERT_MODULES

    def layer_norm(x, scope):
        scale = g.param(f"{_param_prefix(scope)}.weight", np.ones(d, np.float32))
        bias = g.param(f"{_param_prefix(scope)}.bias", np.zeros(d, np.float32))
        return g.op("LayerNormalization", [x, scale, bias], scope, axis=-1, epsilon=1e-5)

    def gelu(x, scope):  # exact GELU as PyTorch exports it at opset 17: x * 0.5 * (1 + erf(x / sqrt(2)))
        y = g.op("Erf", [g.op("Div", [x, g.const(scope, np.sqrt(2.0))], scope)], scope)
        y = g.op("Add", [y, g.const(scope, 1.0)], scope)
        return g.op("Mul", [g.op("Mul", [x, y], scope), g.const(scope, 0.5)], scope, "_1")

    def split_heads(x, scope):
        x = g.op("Reshape", [x, g.const(scope, [1, seq, heads, head], np.int64)], scope)
        return g.op("Transpose", [x], scope, perm=[0, 2, 1, 3])

    x = "input"
    if shared:
        x = g.linear(x, width, d, "/encoder/embedding_hidden_mapping_in", gemm=False)
        g.shared = {}
    for i in range(layers):
        scope = "/encoder/albert_layer_groups.0/albert_layers.0" if shared else f"/encoder/layer.{i}"
        at = {role: "/".join(p for p in (scope, path) if p) for role, path in modules.items()}
        att = at["attention"]
        q = split_heads(g.linear(x, d, d, at["query"], gemm=False), at["query"])
        k = split_heads(g.linear(x, d, d, at["key"], gemm=False), at["key"])
        v = split_heads(g.linear(x, d, d, at["value"], gemm=False), at["value"])
        kt = g.op("Transpose", [k], att, "_1", perm=[0, 1, 3, 2])
        scores = g.op("Div", [g.op("MatMul", [q, kt], att), g.const(att, np.sqrt(head))], att)
        probs = g.op("Softmax", [scores], att, axis=-1)
        ctx = g.op("Transpose", [g.op("MatMul", [probs, v], att, "_1")], att, "_2", perm=[0, 2, 1, 3])
        ctx = g.op("Reshape", [ctx, g.const(att, [1, seq, d], np.int64)], att, "_1")
        out = g.linear(ctx, d, d, at["attention_dense"], gemm=False)
        x = layer_norm(g.op("Add", [out, x], at["attention_add"], "_1"), at["attention_norm"])
        h = gelu(g.linear(x, d, 4 * d, at["ffn"], gemm=False), at["activation"])
        out = g.linear(h, 4 * d, d, at["ffn_output"], gemm=False)
        x = layer_norm(g.op("Add", [out, x], at["ffn_add"], "_1"), at["ffn_norm"])
    g.shared = None
    _rename_output(g, x, "output")
    io = ([helper.make_tensor_value_info("input", TensorProto.FLOAT, list(shape))],
          [helper.make_tensor_value_info("output", TensorProto.FLOAT, [*shape[:2], d])])
    return g.model(*io)


def _efficientnet_b0(g: _Graph, shape) -> object:
    """torchvision's ``efficientnet_b0``: MBConv blocks (expand, depthwise, squeeze-excitation, project)."""
    def conv_silu(x, cin, cout, k, scope, stride=1, groups=1):
        # Conv2dNormActivation: conv (batch norm folded) at .0, SiLU at .2, exported as Sigmoid and Mul.
        leaf = scope.rsplit("/", 1)[-1]
        y = g.conv(x, cin, cout, k, f"{scope}/{leaf}.0", stride=stride, groups=groups)
        return g.op("Mul", [y, g.op("Sigmoid", [y], f"{scope}/{leaf}.2")], f"{scope}/{leaf}.2")

    def squeeze_excitation(x, channels, squeeze, scope):
        s = g.op("GlobalAveragePool", [x], f"{scope}/avgpool")
        s = g.conv(s, channels, squeeze, 1, f"{scope}/fc1")
        s = g.op("Mul", [s, g.op("Sigmoid", [s], f"{scope}/activation")], f"{scope}/activation")
        s = g.op("Sigmoid", [g.conv(s, squeeze, channels, 1, f"{scope}/fc2")], f"{scope}/scale_activation")
        return g.op("Mul", [s, x], scope)

    x = conv_silu("input", 3, 32, 3, "/features/features.0", stride=2)
    cin = 32
    # (expand ratio, kernel, stride, output channels, blocks) per stage: torchvision's _efficientnet_conf("b0").
    stages = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3),
              (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]
    for stage, (t, k, s, c, n) in enumerate(stages, start=1):
        for i in range(n):
            block = f"/features/features.{stage}/features.{stage}.{i}"
            stride, hidden, part = s if i == 0 else 1, cin * t, 0
            y = x
            if t != 1:
                y = conv_silu(y, cin, hidden, 1, f"{block}/block/block.{part}")
                part += 1
            y = conv_silu(y, hidden, hidden, k, f"{block}/block/block.{part}", stride=stride, groups=hidden)
            y = squeeze_excitation(y, hidden, max(1, cin // 4), f"{block}/block/block.{part + 1}")
            y = g.conv(y, hidden, c, 1, f"{block}/block/block.{part + 2}/block.{part + 2}.0",
                       gain=0.2 if stride == 1 and cin == c else 1.0)
            if stride == 1 and cin == c:  # stochastic depth is the identity in eval mode
                y = g.op("Add", [y, x], block)
            x, cin = y, c
    x = conv_silu(x, cin, 1280, 1, "/features/features.8")
    x = g.op("GlobalAveragePool", [x], "/avgpool")
    x = g.op("Flatten", [x], "", axis=1)
    _rename_output(g, g.linear(x, 1280, 1000, "/classifier/classifier.1"), "output")
    return g.model(*_image_io(shape))


def _tiny_cnn(g: _Graph, shape, quantized: bool = False) -> object:
    # Input pixels in [0, 1]; 4.0 covers the first block's ReLU outputs for these weights.
    x = g.op("Relu", [g.conv("input", 1, 8, 3, "/conv1", input_amax=1.0 if quantized else None)], "/relu1")
    x = g.op("MaxPool", [x], "/pool1", kernel_shape=[2, 2], strides=[2, 2])
    x = g.op("Relu", [g.conv(x, 8, 16, 3, "/conv2", input_amax=4.0 if quantized else None)], "/relu2")
    x = g.op("GlobalAveragePool", [x], "/gap")
    x = g.op("Flatten", [x], "/flatten", axis=1)
    _rename_output(g, g.linear(x, 16, 10, "/fc"), "output")
    return g.model(*_image_io(shape, classes=10))


def make_model(name: str, naming: str = "pytorch", batch: int = 1, seed: int = 0):
    """Build one zoo model as an ``onnx.ModelProto``.

    Args:
        name: a key of :data:`ZOO`.
        naming: ``"pytorch"`` (``/layer1/layer1.0/conv1/Conv``) or ``"legacy"`` (``Conv_3``).
        batch: batch size of the static input shape.
        seed: weights seed; the same seed gives byte-identical models.

    Raises:
        KeyError: unknown model name.
    """
    spec = ZOO[name]
    shape = (batch, *spec.input_shape[1:])
    g = _Graph(name, naming, seed)
    if name in ("tiny_cnn", "tiny_cnn_qdq"):
        return _tiny_cnn(g, shape, quantized=name == "tiny_cnn_qdq")
    if name in ("resnet18", "resnet50"):
        return _resnet(g, [2, 2, 2, 2] if name == "resnet18" else [3, 4, 6, 3], name == "resnet50", shape)
    if name == "mobilenetv2":
        return _mobilenetv2(g, shape)
    if name == "efficientnet_b0":
        return _efficientnet_b0(g, shape)
    return _transformer(g, shape, shared=name == "albert")


def models_cache_dir() -> Path:
    """``$LAYERLENS_MODELS`` or ``~/.layerlens/models``: where generated models live."""
    return Path(os.environ.get("LAYERLENS_MODELS") or Path.home() / ".layerlens" / "models")


def sample_model_path(name: str, naming: str = "pytorch", folder: Path | None = None) -> Path:
    """The zoo model's ONNX file, generated on first use (atomically) and reused after.

    Raises:
        KeyError: unknown model name.
    """
    import onnx

    if name not in ZOO:
        raise KeyError(name)
    folder = Path(folder) if folder else models_cache_dir()
    path = folder / (f"{name}.onnx" if naming == "pytorch" else f"{name}-{naming}.onnx")
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        onnx.save(make_model(name, naming), str(tmp))
        os.replace(tmp, path)
    return path


def resolve_model(name_or_path: str) -> tuple[Path, str | None]:
    """An ONNX path, or a sample model generated on first use; returns ``(path, label for sample models)``.

    Raises:
        LayerLensError: neither a file nor a sample model name.
    """
    from engine_core.errors import LayerLensError

    path = Path(name_or_path)
    if path.is_file():
        return path, None
    key = name_or_path.removeprefix("zoo:")
    if key in ZOO:
        return sample_model_path(key), f"{key} (LayerLens sample, PyTorch-style names)"
    raise LayerLensError(f"{name_or_path}: no such ONNX file or sample model.",
                         f"Pass an .onnx path or one of: {', '.join(ZOO)}.")
