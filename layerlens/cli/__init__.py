"""The ``layerlens`` command line: ``main`` routes to one module per command family.

``main`` (router, summary, layers, import, dashboard), ``analysis`` (compare,
diagnose, report, calib), ``build`` (build, quantize), ``runs`` (runs, bundle).
"""

from layerlens.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
