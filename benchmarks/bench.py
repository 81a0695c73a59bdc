"""`make bench`: load speed and memory against targets, and dashboard first paint on a 10k-layer engine.

Targets (from the roadmap):
* a 10k-layer engine loads at least 7x faster than TREx (1.8 s measured here) and within 2x of a bare json.load;
* a 50k-layer engine loads at least 10x faster than TREx (11.8 s) and within 2x of a bare json.load;
* the dashboard's first paint for a 10k-layer engine is under 2 s;
* real TensorRT-RTX build matrices (ResNet-18 and ResNet-50 in fp32, fp16, int8: recipes + builds + import),
  timed as whole `layerlens build` commands with cold model and recipe caches, and warm;
* `make run` on an empty store: the demo comparison on screen in chromium within 60 s of the command;
* the Graph page draws the largest real fixture (ResNet-50 FP32, 103 layers) and a 10k-layer synthetic engine
  in chromium in under 3 s, cold (first visit: engine load, wiring, layout) and warm;
* `layerlens report` of a 10k-layer engine: whole-command time and file size (reported; the file must stay
  under plotly.js + 3 MiB);
* the calibrated latency model on every measured fixture, leave-one-engine-out and leave-one-GPU-out, beside the
  bare roofline: it must beat the roofline's median per-layer and total error on every engine held out; and a
  100k-layer engine estimated in under a second.
Exit status 1 when a target is missed. Synthetic engines are format-faithful (benchmarks/synthetic.py).
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from synthetic import write_engine  # noqa: E402

TREX_SECONDS = {10_000: 1.8, 50_000: 11.8}
SPEEDUP_TARGET = {10_000: 7.0, 50_000: 10.0}
FIRST_PAINT_TARGET_S = 2.0
COMPARE_TARGET_S = 2.0  # the Compare page aligns two 10k-layer engines on first paint
FIRST_RUN_TARGET_S = 60.0  # empty store -> demo engines built -> comparison on screen
GRAPH_TARGET_S = 3.0  # Graph page: navigation to every node drawn
REPORT_EXTRA_BYTES = 3 * 2**20  # a 10k-layer report beyond the inlined plotly.js


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_load(n: int, root: Path) -> bool:
    from engine_core.discover import load_engines

    folder = write_engine(root / f"e{n}", n)
    files = sorted(folder.iterdir())

    def bare_json():
        for f in files:
            with open(f) as handle:
                json.load(handle)

    baseline = best_of(bare_json)
    ours = best_of(lambda: load_engines([folder]))
    ok_compare = True
    if n == 10_000:
        from engine_core.analysis.compare import compare_engines

        engine = load_engines([folder])[0][0]
        took = best_of(lambda: compare_engines([engine, engine]), repeat=1)
        ok_compare = took < COMPARE_TARGET_S
        print(f"{n:>6} layers: compare (ONNX alignment) {took:.2f} s (target < {COMPARE_TARGET_S} s)  "
              f"{'OK' if ok_compare else 'MISSED'}")
    speedup = TREX_SECONDS[n] / ours
    ok = speedup >= SPEEDUP_TARGET[n] and ours <= 2 * baseline
    size = sum(f.stat().st_size for f in files) / 2**20
    print(f"{n:>6} layers ({size:.0f} MiB JSON): load {ours:.3f} s | bare json.load {baseline:.3f} s ({ours / baseline:.2f}x, "
          f"target <= 2x) | TREx {TREX_SECONDS[n]} s ({speedup:.1f}x faster, target >= {SPEEDUP_TARGET[n]:.0f}x)"
          f"  {'OK' if ok else 'MISSED'}")
    return ok and ok_compare


def bench_first_paint(root: Path) -> bool:
    from streamlit.testing.v1 import AppTest

    from engine_core.discover import load_engines
    from engine_core.store import RunStore

    store = root / "store"
    engine = load_engines([write_engine(root / "paint", 10_000, name="big")])[0][0]
    RunStore(store).add(engine)
    os.environ["LAYERLENS_RUNS"] = str(store)
    os.environ["LAYERLENS_NO_DEMO"] = "1"
    import streamlit as st

    ok = True
    for page in ("overview", "layers", "precision", "size", "latency"):
        st.cache_data.clear()
        st.cache_resource.clear()  # cold: the engine is re-read from the store for every page
        app = AppTest.from_file(str(HERE.parent / "dashboard" / "streamlit_app.py"), default_timeout=120)
        start = time.perf_counter()
        app.run()  # a cold session: nothing cached yet for this page's analyses
        if page != "overview":
            app.switch_page(f"app_pages/{page}.py").run()
        elapsed = time.perf_counter() - start
        failed = bool(app.exception)
        ok &= elapsed < FIRST_PAINT_TARGET_S and not failed
        print(f"server render, 10k layers, cold, {page:<9}: {elapsed:.2f} s (target < {FIRST_PAINT_TARGET_S} s)"
              f"{'  EXCEPTION' if failed else ''}  {'OK' if elapsed < FIRST_PAINT_TARGET_S and not failed else 'MISSED'}")
    small = root / "small-store"
    RunStore(small).add(load_engines([write_engine(root / "small", 100, name="small")])[0][0])
    return ok & bench_browser_paint(store, small)


def bench_browser_paint(store: Path, small_store: Path) -> bool:
    """In Debian chromium: first paint (title and KPI cards) and charts drawn, 10k layers vs a 100-layer floor.

    Headless chromium without a GPU spends a fixed ~1-1.5 s loading and drawing
    plotly.js on this 2-core machine whatever the engine size, so chart time is
    judged against the same page on a 100-layer engine (must add < 0.5 s).
    """
    if not Path("/usr/bin/chromium").exists():
        print("browser first paint: skipped (no /usr/bin/chromium)")
        return True
    sys.path.insert(0, str(HERE.parent / "tests"))
    from browser.conftest import CHROMIUM_ARGS, _serve, _stop
    from playwright.sync_api import sync_playwright

    def measure(root: Path) -> dict[str, tuple[float, float]]:
        proc, url = _serve(root)
        out = {}
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
                for path in ("", "latency", "layers"):
                    best = (1e9, 1e9)
                    for _ in range(2):  # the first visit also pays the server's cold engine load
                        page = browser.new_page(viewport={"width": 1400, "height": 1000})
                        start = time.perf_counter()
                        page.goto(f"{url}/{path}")
                        page.wait_for_selector("[data-testid='stMetric'], [data-testid='stDataFrame'], h1", timeout=60000)
                        first = time.perf_counter() - start
                        page.wait_for_selector(".js-plotly-plot" if path != "layers" else "[data-testid='stDataFrame']", timeout=60000)
                        best = min(best, (first, time.perf_counter() - start))
                        page.close()
                    out[path or "overview"] = best
                browser.close()
        finally:
            _stop(proc)
        return out

    floor, big = measure(small_store), measure(store)
    ok = True
    for page, (first, charts) in big.items():
        extra = charts - floor[page][1]
        page_ok = first < FIRST_PAINT_TARGET_S and extra < 0.5
        ok &= page_ok
        print(f"browser, 10k layers, {page:<9}: first paint {first:.2f} s (target < {FIRST_PAINT_TARGET_S} s), "
              f"charts {charts:.2f} s vs {floor[page][1]:.2f} s at 100 layers ({extra:+.2f} s, target < +0.5 s)  "
              f"{'OK' if page_ok else 'MISSED'}")
    return ok


def _timed(cmd: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=HERE.parent, timeout=1800)
    return time.perf_counter() - start, proc


def bench_build_matrix(root: Path) -> bool:
    """Whole `layerlens build` commands: cold (model generated, recipes computed) and warm (recipes cached)."""
    from engine_core.build.rtx import rtx_available

    if not rtx_available():
        print("build matrix: TensorRT-RTX not installed (make setup installs it)  MISSED")
        return False
    ok = True
    for model in ("resnet18", "resnet50"):
        env = {**os.environ, "LAYERLENS_MODELS": str(root / "models"), "LAYERLENS_RECIPES": str(root / f"recipes-{model}")}
        for label in ("cold", "warm"):
            cmd = [sys.executable, "-m", "layerlens", "build", model, "--precision", "fp32,fp16,int8",
                   "--out", str(root / f"builds-{model}-{label}")]
            took, proc = _timed(cmd, env)
            ok &= proc.returncode == 0
            sizes = [line.split()[2] for line in proc.stdout.splitlines()[1:4]]
            print(f"build matrix {model} fp32,fp16,int8 ({label}): {took:.1f} s  engines {' / '.join(sizes)} MiB"
                  f"{'' if proc.returncode == 0 else '  FAILED: ' + proc.stderr.strip().splitlines()[-1]}")
    return ok


def bench_first_run(root: Path) -> bool:
    """`layerlens dashboard` on an empty store until chromium shows the demo comparison."""
    import re
    import socket

    from playwright.sync_api import sync_playwright

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    home = root / "first-run-home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAYERLENS_")}
    env["HOME"] = str(home)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "layerlens", "dashboard", "--headless", "--port", str(port)],
                            env=env, cwd=HERE.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        for line in proc.stdout:
            match = re.search(r"LayerLens dashboard: (http://\S+)", line)
            if match:
                url = match[1]
                break
        built = time.perf_counter() - start
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            page = browser.new_page()
            page.goto(url)
            page.get_by_text("Bytes: why").wait_for(timeout=60000)
            page.wait_for_selector(".js-plotly-plot", timeout=60000)
            shown = time.perf_counter() - start
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    ok = shown < FIRST_RUN_TARGET_S
    print(f"first run (empty store): demo built and served in {built:.1f} s, comparison on screen at {shown:.1f} s "
          f"(target < {FIRST_RUN_TARGET_S:.0f} s)  {'OK' if ok else 'MISSED'}")
    return ok


def bench_graph_page(root: Path) -> bool:
    """Graph page in chromium until every node is drawn: the largest real fixture and a 10k-layer synthetic engine.

    Two measures, as a user meets them. In the app (the Overview is open; click Graph): the first time the
    server wires and lays out the engine, then again. Target < 3 s. And a new browser opening the Graph URL,
    against the same visit to the Overview: headless chromium without a GPU spends a
    fixed ~1.8 s loading plotly.js on this 2-core machine whatever the chart, so that number is reported
    with its floor.
    """
    if not Path("/usr/bin/chromium").exists():
        print("graph page: skipped (no /usr/bin/chromium)")
        return True
    sys.path.insert(0, str(HERE.parent / "tests"))
    from browser.conftest import CHROMIUM_ARGS, _serve, _stop
    from playwright.sync_api import sync_playwright

    from engine_core.discover import load_engines
    from engine_core.store import RunStore

    nodes = ".js-plotly-plot .scatterlayer .points path"
    fixtures = HERE.parent.parent / "shared" / "fixtures" / "trex-rtx3090" / "fp32"
    engines = load_engines([fixtures, write_engine(root / "graph-10k", 10_000, name="graph-10k")])[0]
    ok = True
    for i, engine in enumerate(engines):
        store = RunStore(root / f"graph-store-{i}")
        run_id = store.add(engine)[0].run_id
        proc, url = _serve(store.root)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                page.goto(f"{url}/?run={run_id}")
                page.wait_for_selector(".js-plotly-plot", timeout=60000)
                in_app = []
                for _ in range(2):
                    start = time.perf_counter()
                    page.get_by_role("link", name="Graph").click()
                    page.wait_for_selector(nodes, timeout=60000)
                    in_app.append(time.perf_counter() - start)
                    drawn = page.locator(nodes).count()
                    page.get_by_role("link", name="Layers").click()
                    page.wait_for_selector("h1:has-text('Layers')", timeout=60000)
                fresh = {}
                for path, wanted in (("graph", nodes), ("", ".js-plotly-plot")):  # a new browser, no cache
                    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                    start = time.perf_counter()
                    page.goto(f"{url}/{path}?run={run_id}")
                    page.wait_for_selector(wanted, timeout=60000)
                    fresh[path or "overview"] = time.perf_counter() - start
                    page.context.close()
                browser.close()
        finally:
            _stop(proc)
        good = max(in_app) < GRAPH_TARGET_S
        ok &= good
        print(f"graph page, {len(engine.layers):,} layers ({drawn} nodes drawn): in the app {in_app[0]:.2f} s first, "
              f"{in_app[1]:.2f} s again (target < {GRAPH_TARGET_S:.0f} s)  {'OK' if good else 'MISSED'}; a new browser "
              f"opening it {fresh['graph']:.2f} s (an Overview chart: {fresh['overview']:.2f} s)")
    return ok


def bench_report(root: Path) -> bool:
    """`layerlens report` of a 10k-layer engine as a whole command: time and size."""
    from plotly.offline import get_plotlyjs

    folder = write_engine(root / "report-10k", 10_000, name="report-10k")
    out = root / "report-10k.html"
    took, proc = _timed([sys.executable, "-m", "layerlens", "report", str(folder), "-o", str(out)], dict(os.environ))
    if proc.returncode:
        print(f"report, 10k layers: FAILED {proc.stderr.strip()[-300:]}")
        return False
    size, plotly = out.stat().st_size, len(get_plotlyjs())
    good = size - plotly < REPORT_EXTRA_BYTES
    print(f"report, 10k layers: {took:.1f} s whole command, {size / 2**20:.2f} MiB ({plotly / 2**20:.2f} MiB of it "
          f"plotly.js; the rest {(size - plotly) / 2**20:.2f} MiB, target < {REPORT_EXTRA_BYTES / 2**20:.0f} MiB)  "
          f"{'OK' if good else 'MISSED'}")
    return good


LATENCY_MODEL_100K_TARGET_S = 1.0


def bench_latency_model() -> bool:
    """The latency model held out engine by engine and GPU by GPU, against the roofline; then its speed."""
    import dataclasses

    import pandas as pd

    from engine_core.analysis.estimate import estimate_latency
    from engine_core.analysis.fit_latency_model import evaluate, format_evaluation, measured_engines
    from engine_core.discover import load_engines

    fixtures = HERE.parent.parent / "shared" / "fixtures"
    start = time.perf_counter()
    evaluation, band = evaluate(measured_engines(fixtures))
    print(format_evaluation(evaluation))
    held_out = evaluation["leave_one_engine_out"]
    beaten = [r["engine"] for r in held_out
              if abs(r["model"]["total_error_pct"]) < abs(r["roofline"]["total_error_pct"])
              and r["model"]["median_layer_error_pct"] < r["roofline"]["median_layer_error_pct"]]
    good = len(beaten) == len(held_out)
    print(f"latency model: beats the roofline's total and median per-layer error on {len(beaten)} of {len(held_out)} "
          f"engines held out; error band ±{band.total_pct:.0f}% on {band.engines} real engines (worst total with its GPU "
          f"left out), median per-layer error {band.per_layer_median_pct:.0f}% ({time.perf_counter() - start:.0f} s "
          f"to refit {2 * len(held_out)} times)  {'OK' if good else 'MISSED'}")
    engines, _ = load_engines([fixtures / "trex-rtx3090" / "fp32"])
    base = engines[0]
    big = dataclasses.replace(base, layers=pd.concat([base.layers] * 1000, ignore_index=True))
    took = best_of(lambda: estimate_latency(big))
    fast = took < LATENCY_MODEL_100K_TARGET_S
    print(f"latency model, {len(big.layers):,} layers: estimated in {took:.2f} s "
          f"(target < {LATENCY_MODEL_100K_TARGET_S:.0f} s)  {'OK' if fast else 'MISSED'}")
    return good and fast


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="layerlens-bench-") as tmp:
        root = Path(tmp)
        from engine_core.discover import load_engines  # import cost is not load cost

        load_engines([write_engine(root / "warm", 100)])
        ok = bench_latency_model()
        ok &= bench_load(10_000, root)
        ok &= bench_load(50_000, root)
        ok &= bench_first_paint(root)
        ok &= bench_graph_page(root)
        ok &= bench_report(root)
        ok &= bench_build_matrix(root)
        ok &= bench_first_run(root)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB")
    print("all targets met" if ok else "some targets missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
