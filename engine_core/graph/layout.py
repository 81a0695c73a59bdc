"""Layered (Sugiyama) layout of an :class:`~engine_core.graph.model.EngineGraph`.

Why igraph: its ``layout_sugiyama`` is the classic layered DAG layout (ranks,
crossing minimisation, dummy vertices that route long edges around nodes) in a
C core with wheels on PyPI for every platform, actively released
(https://python.igraph.org/en/stable/api/igraph.Graph.html#layout_sugiyama).
Graphviz ``dot`` draws nicer splines but is a system binary (not on a clean
machine or in a wheel) and takes tens of seconds on 10k nodes; grandalf is pure
Python and unmaintained since 2023. igraph lays out a 10k-node engine in
~0.1 s here.

Imported lazily: everything else in LayerLens works without igraph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine_core.errors import LayerLensError
from engine_core.graph.model import EngineGraph


@dataclass
class GraphLayout:
    """Node positions, in ``graph.nodes`` order: ``x`` within a rank, ``y = -rank`` (data flows down)."""

    x: np.ndarray
    y: np.ndarray
    ranks: int


def layout_graph(graph: EngineGraph) -> GraphLayout:
    """Place the nodes top to bottom in data-flow order.

    Raises:
        LayerLensError: igraph is not installed.
    """
    try:
        import igraph
    except ImportError:
        raise LayerLensError("The engine graph needs the igraph package for its layout.",
                             "Install it: pip install igraph (it is in LayerLens's dependencies).") from None
    n = len(graph.nodes)
    if n == 0:
        return GraphLayout(np.zeros(0), np.zeros(0), 0)
    # Node ids are positions in graph.nodes (build_graph and collapse number them 0..n-1).
    pairs = list(zip(graph.edges["src"].tolist(), graph.edges["dst"].tolist()))
    g = igraph.Graph(n=n, edges=pairs, directed=True)
    coords = np.asarray(g.layout_sugiyama(maxiter=20 if n > 2000 else 100).coords, dtype=float)[:n]
    return GraphLayout(coords[:, 0], -coords[:, 1], int(coords[:, 1].max()) + 1)
