"""`layerlens report`: one offline HTML file with every section, on real engines and pairs; its CLI and images."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys

import pytest

from conftest import FIXTURES, REPO, engine_names, load_one
from offline_html import external_references
from engine_core.analysis.diagnose import diagnose
from engine_core.analysis.estimate import estimate_basis
from layerlens.views.report import build_report, render_html

QAT, FP16 = FIXTURES / "trex-rtx3090" / "qat", FIXTURES / "trex-rtx3090" / "fp16"
SECTIONS = ["summary", "precision", "size", "latency", "comparison", "graph", "layers", "provenance"]


def layer_data(page: str) -> dict:
    found = re.search(r"<script type='application/json' id='layer-data'>(.*?)</script>", page, re.S)
    return json.loads(found.group(1).replace("<\\/", "</"))


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "layerlens", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or REPO, timeout=300)


def test_qat_against_fp16_has_every_section_and_real_numbers():
    qat, fp16 = load_one(QAT), load_one(FP16)
    report = build_report(qat, fp16)
    assert [s.anchor for s in report.sections] == SECTIONS
    assert report.verdict == "resnet-qat is 1.83× resnet (FP16): faster by 1.826 ms GPU compute median."
    assert report.estimate_notice is None
    kpis = dict((label, value) for label, value, _ in report.sections[0].blocks[0].items)
    assert kpis["GPU compute median"] == "2.1964 ms" and kpis["Weights"] == "24.32 MiB" and kpis["Layers"] == "63"
    page = render_html(report)
    table = layer_data(page)
    assert len(table["rows"]) == 63 and table["columns"][:3] == ["order", "name", "layer_type"]
    pad = next(r for r in table["rows"] if r[1] == "resnet50/conv1_pad/Pad")
    assert pad[table["columns"].index("avg_ms")] == 0.0848
    assert pad[table["columns"].index("fallback_reason")] == "No Q/DQ around this op in an explicitly quantized network"
    # Provenance: every source file of both engines with its sha256.
    for path in list(QAT.iterdir()) + list(FP16.iterdir()):
        assert f"{path.name}  sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}" in page
    assert "Max batch: explicit batch" in page and "input_1=32x224x224x3" in page


def test_the_html_needs_no_network():
    page = render_html(build_report(load_one(QAT), load_one(FP16)))
    # plotly.js itself mentions URLs in strings and comments; nothing in the page's markup or styles loads one.
    assert external_references(page) == [] and "<link" not in page
    assert page.count("Plotly.newPlot") == 10  # the latency section holds the profile against the latency model


def test_unmeasured_build_is_labelled_an_estimate(rtx_builds):
    engine = rtx_builds[("resnet18", "int8-ort-uncalibrated")]
    report = build_report(engine)
    assert report.estimate_notice.startswith("Not measured: TensorRT-RTX")
    page = render_html(report)
    assert estimate_basis("RTX 4090") in page and "TensorRT-RTX 1." in page and "int8-ort-uncalibrated" in page
    assert "comparison" not in [s.anchor for s in report.sections]


@pytest.mark.parametrize("name", engine_names())
def test_every_engine_reports_against_its_neighbour(all_engines, name):
    names = sorted(all_engines)
    neighbour = all_engines[names[(names.index(name) + 1) % len(names)]]
    report = build_report(all_engines[name], neighbour)
    page = render_html(report)
    assert len(layer_data(page)["rows"]) == len(all_engines[name].layers)
    # The findings are diagnose's, each once (the fairness warnings were once listed twice).
    findings = next(b.items for b in report.sections[0].blocks if b.kind == "findings")
    assert findings == diagnose(all_engines[name], neighbour)
    assert len({(f.kind, f.message) for f in findings}) == len(findings)


def test_ten_thousand_layer_report_stays_small(tmp_path):
    sys.path.insert(0, str(REPO / "benchmarks"))
    from synthetic import write_engine

    engine = load_one(write_engine(tmp_path / "syn", 10_000, name="big"))
    page = render_html(build_report(engine))
    plotly_js = 4.9 * 2**20
    assert len(page) - plotly_js < 3 * 2**20, len(page)  # aggregated charts, compact table
    assert len(layer_data(page)["rows"]) == 10_000


def test_cli_writes_the_report_and_says_what_it_wrote(tmp_path):
    out = tmp_path / "qat.html"
    proc = cli("report", QAT, "--baseline", FP16, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {out}" in proc.stdout and "10 charts, 63 layers" in proc.stdout
    assert "resnet-qat is 1.83× resnet (FP16)" in proc.stdout
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_cli_report_of_a_stored_run_by_name(tmp_path):
    store = tmp_path / "runs"
    assert cli("import", QAT, "--store", store).returncode == 0
    out = tmp_path / "r.html"
    proc = cli("report", "resnet-qat", "--store", store, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"wrote {out} (") and "9 charts, 63 layers)" in proc.stdout  # no baseline: no comparison; the profile against the latency model
    page = out.read_text()
    assert "<title>LayerLens report: resnet-qat</title>" in page and len(layer_data(page)["rows"]) == 63
    # The stored run's artifacts, byte for byte the fixture's, are the report's sources.
    for path in QAT.iterdir():
        assert f"{path.name}  sha256 {hashlib.sha256(path.read_bytes()).hexdigest()}" in page


@pytest.mark.parametrize("args,message", [
    (["no/such/folder"], "is neither a file, a folder, nor a stored run"),
    ([str(FIXTURES / "trex-rtx3090")], "holds 3 engines"),
])
def test_cli_report_bad_input_is_one_line(tmp_path, args, message):
    proc = cli("report", *args, "--store", tmp_path / "empty", "-o", tmp_path / "r.html")
    assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "r.html").exists()


def test_png_needs_chromium_and_says_so(tmp_path):
    env_path = tmp_path / "bin"
    env_path.mkdir()
    proc = subprocess.run([sys.executable, "-m", "layerlens", "report", str(QAT), "-o", str(tmp_path / "r.html"),
                           "--png", str(tmp_path / "png")], capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={"PATH": str(env_path), "HOME": str(tmp_path)})
    assert proc.returncode == 1 and "apt-get install chromium" in proc.stderr
    assert not (tmp_path / "r.html").exists()


@pytest.mark.browser
def test_png_writes_every_chart(tmp_path):
    proc = cli("report", QAT, "--baseline", FP16, "-o", tmp_path / "r.html", "--png", tmp_path / "png")
    assert proc.returncode == 0, proc.stderr
    pngs = sorted(p.name for p in (tmp_path / "png").iterdir())
    assert len(pngs) == 10 and pngs[0] == "01-share-of-time-per-precision.png" and pngs[-1] == "10-engine-graph.png"
    assert any(p.endswith("-measured-vs-estimated.png") for p in pngs)
    assert all((tmp_path / "png" / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_report_files_are_written_atomically(tmp_path, monkeypatch):
    from layerlens.views import report as report_mod

    out = tmp_path / "r.html"
    out.write_text("the previous report")
    monkeypatch.setattr(report_mod, "render_html", lambda r: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        report_mod.write_report(load_one(QAT), None, out)
    assert out.read_text() == "the previous report"
