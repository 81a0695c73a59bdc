"""Polygraphy's rule: every module imports and every --help runs with TensorRT, TensorRT-RTX and the recipe libraries unavailable."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO

SCRIPT = r"""
import sys
BLOCKED = ("tensorrt", "tensorrt_rtx_bindings", "onnxruntime", "onnxconverter_common", "polygraphy", "modelopt")
for name in BLOCKED:
    sys.modules[name] = None  # any `import <name>` now raises ImportError
import importlib, pkgutil, contextlib, io
import engine_core, layerlens
names = [m.name for pkg in (engine_core, layerlens)
         for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".") if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
from layerlens.cli import build_parser, main
parser = build_parser()
commands = [None] + sorted(parser._subparsers._group_actions[0].choices)
for cmd in commands:
    argv = ([cmd] if cmd else []) + ["--help"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main(argv)
        except SystemExit as exc:
            assert exc.code == 0, (argv, exc.code)
    assert "usage: layerlens" in out.getvalue(), argv
assert not set(BLOCKED) & {k for k, v in sys.modules.items() if v is not None}
print(len(names), len(commands))
"""


def test_every_module_and_help_without_tensorrt():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    modules, commands = map(int, proc.stdout.split())
    assert modules >= 50 and commands >= 10
