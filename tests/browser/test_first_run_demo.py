"""`make run` on an empty machine: the dashboard builds real ResNet-18 engines and opens on their comparison.

One ``layerlens dashboard`` start serves both tests (the demo is four real builds): what the process printed, stored
and loaded, then what the browser shows.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from browser.conftest import _free_port, open_app
from conftest import REPO
from test_demo import STEMS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """``layerlens dashboard`` as `make run` starts it, on an empty HOME; yields the URL it prints, its output, the
    process and the store it built the demo into."""
    tmp_path = tmp_path_factory.mktemp("first-run")
    port = _free_port()
    env = {**os.environ, "HOME": str(tmp_path), "LAYERLENS_RUNS": str(tmp_path / "runs")}
    for key in ("LAYERLENS_MODELS", "LAYERLENS_RECIPES", "LAYERLENS_NO_DEMO"):
        env.pop(key, None)
    proc = subprocess.Popen([sys.executable, "-m", "layerlens", "dashboard", "--headless", "--port", str(port)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, deadline = [], time.time() + 240
    url = None
    while time.time() < deadline and url is None:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(r"LayerLens dashboard: (http://\S+)", line)
        url = match[1] if match else None
    try:
        assert url, "".join(lines)
        yield url, "".join(lines), proc, tmp_path / "runs"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_an_empty_store_gets_the_real_demo_and_the_link_to_its_comparison(first_run):
    """What `layerlens dashboard` does first on an empty store: four real builds, with progress for each, then the URL
    it opens; the dashboard process never loads the TensorRT-RTX binding (the builds run in worker processes)."""
    from engine_core.store import RunStore

    url, output, proc, store = first_run
    runs = {r.name: r.run_id for r in RunStore(store).list_runs()}
    assert sorted(runs) == sorted(STEMS.values())
    link = urlsplit(url)
    assert f"{link.path}?{link.query}" == "/compare?" + urlencode({
        "run": runs["resnet18-int8-tensorrt-uncalibrated"], "baseline": runs["resnet18-fp32"],
        "compare": f"{runs['resnet18-fp16']},{runs['resnet18-int8-ort-uncalibrated']}"})
    # The binding's native library would be mapped into the process that imported it.
    assert "tensorrt_rtx" not in Path(f"/proc/{proc.pid}/maps").read_text()
    assert "building real ResNet-18 engines with TensorRT-RTX" in output and "Built 4 demo engines in" in output
    for stem in STEMS.values():
        assert f"  [{stem}] build" in output  # progress for each variant


def test_first_run_builds_the_demo_and_opens_on_the_comparison(page, first_run, screenshot):
    url, output, _, _ = first_run
    assert "building real ResNet-18 engines with TensorRT-RTX" in output and "Built 4 demo engines" in output
    assert "/compare?" in url
    main = open_app(page, url)
    expect(main).to_contain_text("Bytes: why resnet18-int8-tensorrt-uncalibrated is the size it is", timeout=60000)
    expect(main).to_contain_text("31% of resnet18-fp32's 44.88 MiB")
    expect(main).to_contain_text("What is not INT8 in resnet18-int8-tensorrt-uncalibrated, and why")
    expect(main).to_contain_text("split_epilogue")
    expect(main).to_contain_text("quantize steps")
    expect(main).to_contain_text("Not measured")
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30000)
    screenshot(page, "first-run-demo")
