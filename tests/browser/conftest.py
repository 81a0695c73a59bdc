"""Real-browser fixtures: `streamlit run` headless on a free port, driven by Debian's chromium via Playwright.

Never `playwright install`: browser downloads fail here. The recipe follows
streamlit's own e2e_playwright/conftest.py: start, poll /_stcore/health, then
wait for the script to finish running before asserting. Screenshots and server
logs go to ``$LAYERLENS_TEST_ARTIFACTS`` when set, else to pytest's temporary
folder (printed at the end of the run), never into the source tree.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import FIXTURES, REPO

# Every `expect` waits up to 30 s: Playwright's 5 s default fails on a busy 2-core machine while Streamlit is
# still rendering (a chart's title, a table cell), which is no failure of the page.
expect.set_options(timeout=30_000)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory) -> Path:
    from engine_core.discover import load_engines
    from engine_core.store import RunStore

    root = tmp_path_factory.mktemp("runs")
    store = RunStore(root)
    engines, _ = load_engines([FIXTURES / "trex-rtx3090", FIXTURES / "trex-mobilenet", FIXTURES / "h100-trt10-logs"])
    for e in engines:
        store.add(e)
    return root


def _serve(store_root: Path, log_dir: Path | None = None):
    """``streamlit run`` on ``store_root``; its log goes to ``log_dir`` (default: beside the store)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install chromium).")
    port = _free_port()
    env = {**os.environ, "LAYERLENS_RUNS": str(store_root), "LAYERLENS_NO_DEMO": "1"}
    log_path = (log_dir or store_root.parent) / f"streamlit-{store_root.name}.log"
    with open(log_path, "w") as log:  # the server keeps its own handle
        proc = subprocess.Popen([sys.executable, "-m", "dashboard.server", "run", str(REPO / "dashboard" / "streamlit_app.py"),
                                 "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
                                 "--browser.gatherUsageStats", "false"], cwd=REPO, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url + "/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"streamlit did not become healthy within 60 s; its log: {log_path}")
    return proc, url


def _stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def app_url(seeded_store, artifacts):
    proc, url = _serve(seeded_store, artifacts)
    yield url
    _stop(proc)


@pytest.fixture(scope="session")
def empty_app_url(tmp_path_factory, artifacts):
    proc, url = _serve(tmp_path_factory.mktemp("empty-runs"), artifacts)
    yield url
    _stop(proc)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def browsing(browser):
    """One browser context for the session's tests, a new tab for each (:func:`page`). A fresh context per test
    started each page with an empty HTTP and compiled-script cache: Chromium fetched and compiled Streamlit's and
    Plotly's bundles again for every test, about a fifth of its CPU per page load on two cores. Tabs of one context
    share cookies, and the dashboards here set none of their own; a test that needs a clean context (offline, its
    own downloads) makes one from ``browser``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context
    context.close()


@pytest.fixture
def page(browsing):
    pg = browsing.new_page()
    yield pg
    pg.close()


def wait_for_app(page, timeout_ms: int = 45000) -> None:
    """Wait until the script finished running (no running indicator) and the page has content.

    After a click or a key press the rerun may not have started yet when this is called, so it ends with a short
    settle; a freshly loaded page needs none (:func:`open_app`).
    """
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout_ms)
    page.wait_for_function(
        "() => { const s = document.querySelector(\"[data-testid='stStatusWidget']\"); return !s || !s.innerText.includes('Running'); }",
        timeout=timeout_ms)
    page.wait_for_selector("h1", timeout=timeout_ms)
    page.wait_for_timeout(800)


def open_app(page, url: str, timeout_ms: int = 45000):
    """Load ``url`` and wait for the app's first run to finish; returns the main area (``stMain``).

    A fresh page starts in script state ``initial`` and reaches ``notRunning`` only when a run has finished
    (Streamlit's own e2e tests wait on the same attribute), so no fixed sleep is needed: assertions that follow
    use Playwright's auto-waiting ``expect``.
    """
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", state="attached",
                           timeout=timeout_ms)
    page.wait_for_selector("h1", timeout=timeout_ms)
    return page.locator("[data-testid='stMain']")
