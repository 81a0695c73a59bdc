"""One-way imports: the library below, presentation above it, the CLI and the dashboard on top.

Every ``import`` statement of every module is read (function-level ones too, since
lazy imports are how this project keeps heavy modules out of ``--help``).
"""

from __future__ import annotations

import ast

import pytest

from conftest import REPO

#: package -> top-level modules (or dotted prefixes) it must never import.
FORBIDDEN = {
    "engine_core": ("layerlens", "dashboard", "streamlit", "plotly"),
    "layerlens/views": ("layerlens.cli", "dashboard", "streamlit"),
    "layerlens/cli": ("dashboard", "streamlit"),
    "dashboard": ("layerlens.cli", "tensorrt", "tensorrt_rtx_bindings"),
}


def _imports(path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_run_one_way(package):
    files = sorted((REPO / package).rglob("*.py"))
    assert files, package
    bad = [f"{f.relative_to(REPO)}:{line} imports {name}"
           for f in files for line, name in _imports(f)
           if any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN[package])]
    assert not bad, "\n".join(bad)
