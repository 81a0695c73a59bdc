"""Models: LayerLens's sample models (generated on first use) and the user's own ONNX files, with Q/DQ facts."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import data
from engine_core.errors import LayerLensError
from engine_core.models.onnx_info import read_onnx_info
from engine_core.models.zoo import ZOO, models_cache_dir, sample_model_path

st.title("Models")
st.caption("ONNX models and what TensorRT will see in them. The model lens (predicted engine, size and "
           "estimated latency per GPU) builds on this page.")

# A sample is a name until picked (ResNet-50 is 100 MB to generate); the user's own are paths.
models: list[str | Path] = [*ZOO, *data.user_models()]
upload = st.file_uploader("Open your own ONNX model", type=["onnx"], key="models.upload")
if upload is not None:
    target = Path(tempfile.gettempdir()) / f"layerlens-{Path(upload.name).name}"
    target.write_bytes(upload.getbuffer())
    models = [target] + models
st.caption(f"Your own models: the `.onnx` files in `{models_cache_dir()}` and in the folders given with "
           "`layerlens dashboard --allow-dir`.")


def _label(model: str | Path) -> str:
    return f"{model} (sample: {ZOO[model].description})" if isinstance(model, str) else model.name


choice = st.selectbox("Model", models, format_func=_label, key="models.choice")
try:
    if isinstance(choice, str):
        with st.spinner(f"Generating the {choice} sample…"):
            choice = sample_model_path(choice)
    info = read_onnx_info(choice)
except LayerLensError as exc:
    st.error(str(exc))
    st.stop()
cols = st.columns(4)
cols[0].metric("Nodes", f"{info.node_count:,}")
cols[1].metric("Parameters", f"{info.parameter_count:,}")
cols[2].metric("Opset", info.opset or "?")
cols[3].metric("Q/DQ nodes", info.qdq_nodes)
if info.explicitly_quantized:
    st.success(f"Explicitly quantized: {len(info.quantized_ops)} ops are fed by a DequantizeLinear "
               f"({', '.join(info.quantized_ops[:8])}). TensorRT 11 builds these in INT8 strongly typed.")
else:
    st.info("No Q/DQ nodes: on TensorRT 11 this builds in the ONNX types (FP32). Quantize with ModelOpt "
            "to get INT8/FP8 layers; on TensorRT ≤ 10, --int8 with calibration is the implicit route.")
left, right = st.columns(2)
left.markdown("**Inputs / outputs**")
left.dataframe(pd.DataFrame([(n, d, "x".join(map(str, s)), kind) for kind, rows in (("input", info.inputs), ("output", info.outputs))
                             for n, d, s in rows], columns=["name", "dtype", "shape", "kind"]), hide_index=True, width="stretch")
left.markdown("**Weights by dtype**")
left.dataframe(pd.DataFrame(list(info.parameter_bytes_by_dtype.items()), columns=["dtype", "bytes"]), hide_index=True)
right.markdown("**Operators**")
right.dataframe(pd.DataFrame(list(info.op_counts.items()), columns=["op", "count"]), hide_index=True, width="stretch")
st.caption(f"{info.path} · producer {info.producer or '?'} · IR {info.ir_version}")
