"""Analysis: pure pandas functions over the canonical layer table (DataFrame in, DataFrame out).

``fallback`` (why a layer is not in the requested precision), ``size`` (engine
byte accounting), ``latency`` (waterfall, reformats, reconciliation),
``roofline`` + ``gpus`` (per-layer FLOPs/bytes against a GPU catalog), ``latency_model`` + ``estimate``
(the calibrated per-layer latency model, fitted by ``fit_latency_model``, and the labelled estimates), ``lint``
(layer and fair-comparison lints), ``compare`` (ONNX-aligned engine diff) and
``diagnose`` (ranked findings). No Streamlit, no TensorRT, no plotting.
"""
