"""One layer's full record: type, precisions, tactic, ONNX origin, why it is not in the requested precision,
its tensors, and the raw TensorRT JSON. The Layers and Graph pages open a layer with it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from engine_core.precision import tensor_format


def render_layer_record(layer: pd.Series, fallbacks: pd.DataFrame) -> None:
    st.subheader(f"#{layer['order']} {layer['name']}")
    a, b = st.columns(2)
    a.markdown(f"**Type** {layer['layer_type']} ({layer['parameter_type'] or '—'})  \n"
               f"**Compute** {layer['compute_precision']} (from {layer['compute_precision_source']}) · "
               f"**output** {layer['output_precision']}  \n"
               f"**Tactic** `{layer['tactic_name'] or layer['tactic_value'] or '—'}`  \n"
               f"**ONNX origin** {', '.join(layer['onnx_nodes']) or '— (inserted by TensorRT)'}")
    reason = fallbacks[fallbacks["name"] == layer["name"]] if not fallbacks.empty else fallbacks
    if not reason.empty:
        fb = reason.iloc[0]
        a.warning(f"**Not {fb['requested_precision']}: {fb['reason_text']}.**  \n{fb['evidence']}")
    for title, tensors in (("Inputs", layer["inputs"]), ("Outputs", layer["outputs"])):
        b.markdown(f"**{title}**")
        b.dataframe(pd.DataFrame([{"name": t.get("Name"), "format": tensor_format(t),
                                   "dims": t.get("Dimensions")} for t in tensors or ()]), hide_index=True, width="stretch")
    with st.expander("Raw TensorRT record"):
        st.json(layer["record"], expanded=False)
