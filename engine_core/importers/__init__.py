"""Importers: one module per artifact kind, each turning one format into plain data.

``sniff`` decides a file's kind from its content; the format modules read it;
``engine_core.discover`` groups files into engines and ``engine_core.engine``
assembles the canonical layer table. None of these import TensorRT.
"""
