"""Commands that need no layer table answer at once: they never import pandas, numpy, plotly or streamlit.

Each command runs in a fresh interpreter (imports are per process) through the real entry point, and the
modules it left in ``sys.modules`` are the evidence.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import DATA, FIXTURES, REPO

HEAVY = ("pandas", "numpy", "plotly", "streamlit", "pyarrow", "onnx", "onnxruntime", "igraph", "tensorrt_rtx")
CALIB = FIXTURES / "calib" / "rmccorm4_imagenet_trt6001_4models"

_PROBE = """
import contextlib, io, json, sys
from layerlens.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit:  # --help
        code = exit.code
print(json.dumps({"code": code, "stdout": out.getvalue(), "heavy": sorted(m for m in sys.modules if m.split(".")[0] in %r)}))
"""


def probe(*args) -> dict:
    proc = subprocess.run([sys.executable, "-c", _PROBE % (HEAVY,), *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def _commands() -> list[str]:
    """Every subcommand the parser has, so a new command is checked by itself."""
    import argparse

    from layerlens.cli.main import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


@pytest.mark.parametrize("args", [["--help"]] + [[command, "--help"] for command in _commands()], ids=" ".join)
def test_help_imports_nothing_heavy(args):
    result = probe(*args)
    assert result["code"] == 0 and "usage: layerlens" in result["stdout"]
    assert result["heavy"] == []


def test_runs_and_calib_import_nothing_heavy(tmp_path):
    listing = probe("runs", "--store", tmp_path, "--json")
    assert listing["code"] == 0 and json.loads(listing["stdout"]) == {"runs": [], "broken": []}
    assert listing["heavy"] == []
    one = probe("calib", CALIB / "resnet50.cache")
    assert one["code"] == 0 and "TensorRT 6.0.1, EntropyCalibration2" in one["stdout"] and one["heavy"] == []
    two = probe("calib", CALIB / "resnet50.cache", DATA / "calib" / "traps_crlf_junk.cache", "--json")
    assert two["code"] == 0 and json.loads(two["stdout"])["comparison"]["shared"] >= 0 and two["heavy"] == []


def test_summary_needs_the_table_and_nothing_more():
    """summary reads a layer table (pandas, numpy, pyarrow through pandas) but no figures, app or model code."""
    result = probe("summary", FIXTURES / "trex-rtx3090" / "qat", "--json")
    assert result["code"] == 0 and json.loads(result["stdout"])["engines"][0]["layers"]["count"] == 63
    assert {m.split(".")[0] for m in result["heavy"]} <= {"pandas", "numpy", "pyarrow"}


def test_help_skips_the_version_lookup_and_the_http_client_and_version_still_answers():
    """`importlib.metadata` (the version) and `urllib.request` (the dashboard's health check) were a third of `--help`."""
    code = ("import sys\nfrom layerlens.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print([m for m in ('importlib.metadata', 'urllib.request') if m in sys.modules], file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.stderr.strip() == "[]"
    from importlib.metadata import version

    shown = subprocess.run([sys.executable, "-m", "layerlens", "--version"], capture_output=True, text=True, cwd=REPO,
                           timeout=60)
    assert shown.returncode == 0 and shown.stdout == f"layerlens {version('layerlens')}\n"
