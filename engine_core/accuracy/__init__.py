"""Accuracy beside speed and size: what a precision recipe costs in output error, per output and per ONNX node.

``measure`` runs a baseline and a candidate ONNX with onnxruntime on the CPU on the same
inputs (``inputs``: a data folder in the calibration format, else labelled synthetic
batches) and returns an :class:`~engine_core.accuracy.report.AccuracyReport`: output SQNR,
cosine and top-1 agreement, and the SQNR of every tensor the two models share. ``report``
is its strict-JSON form, which a build also writes as ``<stem>.accuracy.json``; ``join``
maps ONNX nodes to engine layers through the layer table's ``onnx_nodes``; ``advise``
searches for the fewest nodes to keep in FP16 for a target SQNR, building each candidate.
Must not import ``layerlens``, ``dashboard``, Streamlit, Plotly or TensorRT; onnxruntime
and onnx are imported inside functions.
"""

from engine_core.accuracy.report import AccuracyReport, OutputAccuracy, format_sqnr

__all__ = ["AccuracyReport", "OutputAccuracy", "format_sqnr"]
