"""The engine as a graph: layers are nodes, tensors are edges.

* :mod:`~engine_core.graph.model` wires an engine's layer table into nodes and
  edges (a tensor written by one layer and read by another is an edge; network
  inputs and outputs become their own nodes), with the marks the pages draw:
  reformat, quantize, fallback and why.
* :mod:`~engine_core.graph.collapse` folds layers into their ONNX scope
  (``layer3/…``) or Myelin region so a 10k-layer engine stays readable.
* :mod:`~engine_core.graph.annotate` puts the analyses on it (fallback reasons,
  the precision change against a baseline).
* :mod:`~engine_core.graph.layout` places nodes with a Sugiyama layered layout
  (igraph), lazily imported.

Pure data in, data out; no Streamlit, no TensorRT.
"""

from engine_core.graph.annotate import engine_graph
from engine_core.graph.collapse import auto_depth, chunk, collapse, fit_for_drawing, scope_depth
from engine_core.graph.model import EngineGraph, build_graph, mark_precision_change
from engine_core.graph.layout import layout_graph

__all__ = ["EngineGraph", "auto_depth", "build_graph", "chunk", "collapse", "engine_graph", "fit_for_drawing", "layout_graph", "mark_precision_change", "scope_depth"]
