"""`pip install layerlens` works like the repo: the wheel, installed in a fresh virtualenv and run from elsewhere.

Builds the sdist from a copy of the checkout's files and the wheel from the
unpacked sdist (as ``python -m build`` does), offline and without build
isolation, so nothing is written into the repository. The wheel goes into a
fresh virtualenv with ``--no-deps``; its dependencies come from the test
environment through a ``.pth`` line that appends that environment's
site-packages *after* the virtualenv's own (``--system-site-packages`` would
expose the base interpreter instead, and a plain path line runs none of the test
environment's ``.pth`` files, so its editable install of this checkout stays out).
Then, from a temporary folder with an empty ``$HOME``: ``layerlens --version``,
``layerlens summary`` on a real fixture, and ``layerlens dashboard`` building the
demo engines and serving them in chromium with the packaged settings in force.

That dashboard start is also the first run `make run` gives a new user (the same
``layerlens dashboard`` on an empty store): four real ResNet-18 builds, progress for
each, then the comparison it opens on. One start serves those tests too: the demo
builds are the slow part.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from browser.conftest import CHROMIUM, CHROMIUM_ARGS, open_app
from conftest import FIXTURES, REPO
from dashboard_process import free_port, on_own_thread, session_pids, start_dashboard
from test_demo import STEMS

pytestmark = pytest.mark.install

#: Loaded at start-up by every Python of the test virtualenv: while the file $LAYERLENS_TEST_FAULT names exists,
#: reading the run store fails, before any page runs, so the error reaches Streamlit's own error display.
FAULT = '''import os
from engine_core.store import runs

_scan = runs.RunStore.scan


def scan(self):
    if os.path.exists(os.environ["LAYERLENS_TEST_FAULT"]):
        raise RuntimeError("forced by the install test: secret-detail-7f3a")
    return _scan(self)


runs.RunStore.scan = scan
'''


def _run(argv, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _pyproject_version() -> str:
    import tomllib

    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def _git_status() -> str:
    return _run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=REPO).stdout


def _checkout_copy(dest: Path) -> Path:
    """The files a clone has (tracked, plus new ones not ignored), as they are on disk now."""
    listed = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO).stdout
    for name in filter(None, listed.split("\0")):
        if (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    return dest


def _build(source: Path, kind: str, out: Path) -> Path:
    """PEP 517 ``build_sdist``/``build_wheel`` of setuptools, in ``source``, as ``python -m build --no-isolation``."""
    code = f"from setuptools import build_meta as b; print(b.build_{kind}({str(out)!r}))"
    name = _run([sys.executable, "-c", code], cwd=source).stdout.strip().splitlines()[-1]
    return out / name


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``(virtualenv bin folder, wheel, sdist)``, the wheel installed in the virtualenv."""
    root = tmp_path_factory.mktemp("install")
    status = _git_status()
    dist = root / "dist"
    dist.mkdir()
    sdist = _build(_checkout_copy(root / "checkout"), "sdist", dist)
    with tarfile.open(sdist) as tar:
        tar.extractall(root / "unpacked", filter="data")
    wheel = _build(next((root / "unpacked").iterdir()), "wheel", dist)
    assert _git_status() == status  # build/, *.egg-info and dist/ went to the temporary folder

    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    site = Path(_run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
                     ).stdout.strip())
    (site / "zz_test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (site / "layerlens_test_fault.py").write_text(FAULT)
    (site / "zz_layerlens_test_fault.pth").write_text(
        'import os; os.environ.get("LAYERLENS_TEST_FAULT") and __import__("layerlens_test_fault")\n')
    _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-deps",
          "--no-index", str(wheel)])
    return venv / "bin", wheel, sdist


def _elsewhere(folder: Path) -> tuple[Path, dict]:
    """``folder`` as a working folder outside the checkout, with a fresh $HOME in it and none of the test run's own
    settings: ``(folder, environment)``."""
    home = folder / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAYERLENS_", "PYTHON", "STREAMLIT_"))}
    return folder, {**env, "HOME": str(home)}


@pytest.fixture
def elsewhere(tmp_path):
    return _elsewhere(tmp_path)


@pytest.fixture(scope="module")
def first_run(installed, tmp_path_factory):
    """The installed ``layerlens dashboard`` started elsewhere on an empty $HOME, after it built the demo:
    ``(Dashboard, store, fault)``. While the file ``fault`` exists, reading the run store fails in its processes.
    Stopped, and checked to leave no process behind, after the module's last test."""
    from engine_core.build.rtx import rtx_available

    if not rtx_available():
        pytest.skip("TensorRT-RTX is not installed: no demo engines to build")
    bin_dir, _, _ = installed
    cwd, env = _elsewhere(tmp_path_factory.mktemp("first-run"))
    fault, store = cwd / "fault-on", cwd / "home" / ".layerlens" / "runs"
    port = free_port()
    dashboard = start_dashboard([str(bin_dir / "layerlens"), "dashboard", "--headless", "--port", str(port)], port,
                                env={**env, "LAYERLENS_TEST_FAULT": str(fault)}, cwd=cwd, timeout=600)
    try:
        yield dashboard, store, fault
    finally:
        dashboard.stop()
    assert not session_pids(dashboard.proc.pid)


def test_wheel_and_sdist_carry_what_the_app_reads_at_run_time(installed):
    _, wheel, sdist = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("dashboard/config.toml", "dashboard/streamlit_app.py", "dashboard/app_pages/overview.py",
                   "layerlens/views/report/assets/report.js", "layerlens/views/report/assets/report.css",
                   "layerlens/cli/serve.py", "engine_core/models/zoo.py"):
        assert needed in names, needed
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "sample_models/", ".streamlit/"))]
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    assert {"pyproject.toml", "README.md", "dashboard/config.toml"} <= members


def test_installed_cli_runs_from_anywhere(installed, elsewhere):
    bin_dir, _, _ = installed
    cwd, env = elsewhere
    where = _run([str(bin_dir / "python"), "-c", "import layerlens, dashboard, engine_core; "
                  "print(layerlens.__file__, dashboard.__file__, engine_core.__file__)"], cwd=cwd, env=env).stdout
    assert all(path.startswith(str(bin_dir.parent)) for path in where.split()), where  # the wheel, not the checkout
    assert _run([str(bin_dir / "layerlens"), "--version"], cwd=cwd, env=env).stdout == f"layerlens {_pyproject_version()}\n"
    summary = json.loads(_run([str(bin_dir / "layerlens"), "summary", str(FIXTURES / "trex-rtx3090" / "qat"), "--json"],
                              cwd=cwd, env=env).stdout)
    (engine,) = summary["engines"]
    assert engine["name"] == "resnet-qat" and engine["layers"]["count"] == 63
    assert engine["layers"]["by_precision"] == {"INT8": 58, "FP32": 5}


def test_an_empty_store_gets_the_real_demo_and_the_link_to_its_comparison(first_run):
    """What `layerlens dashboard` does first on an empty store: four real builds, with progress for each, then the URL
    it opens; the dashboard process never loads the TensorRT-RTX binding (the builds run in worker processes)."""
    from engine_core.store import RunStore

    dashboard, store, _ = first_run
    runs = {r.name: r.run_id for r in RunStore(store).list_runs()}
    assert sorted(runs) == sorted(STEMS.values())
    link = urlsplit(dashboard.link)
    assert f"{link.scheme}://{link.netloc}" == f"http://127.0.0.1:{dashboard.port}"
    assert f"{link.path}?{link.query}" == "/compare?" + urlencode({
        "run": runs["resnet18-int8-tensorrt-uncalibrated"], "baseline": runs["resnet18-fp32"],
        "compare": f"{runs['resnet18-fp16']},{runs['resnet18-int8-ort-uncalibrated']}"})
    # The binding's native library would be mapped into the process that imported it.
    assert "tensorrt_rtx" not in Path(f"/proc/{dashboard.proc.pid}/maps").read_text()
    assert "building real ResNet-18 engines with TensorRT-RTX" in dashboard.output
    assert "Built 4 demo engines in" in dashboard.output
    for stem in STEMS.values():
        assert f"  [{stem}] build" in dashboard.output  # progress for each variant


def test_installed_dashboard_opens_on_the_demo_with_the_packaged_settings(first_run, screenshot):
    dashboard, store, fault = first_run
    assert "Built 4 demo engines" in dashboard.output and "/compare?" in dashboard.link
    assert dashboard.link.startswith(f"http://127.0.0.1:{dashboard.port}/")
    try:
        on_own_thread(_browse_the_installed_dashboard, dashboard.link, dashboard.port, fault, store, screenshot)
    finally:
        fault.unlink(missing_ok=True)
    deadline = time.time() + 30
    while "secret-detail-7f3a" not in dashboard.output and time.time() < deadline:
        time.sleep(0.5)
    assert "secret-detail-7f3a" in dashboard.output  # it went to the server log, not the browser


def _browse_the_installed_dashboard(link: str, port: int, fault: Path, store: Path, screenshot) -> None:
    """The demo's comparison, the packaged theme, the Models page and a forced error, as a user sees them in
    Chromium."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        main = open_app(page, link)
        expect(main).to_contain_text("Bytes: why resnet18-int8-tensorrt-uncalibrated is the size it is", timeout=60000)
        expect(main).to_contain_text("31% of resnet18-fp32's 44.88 MiB")
        expect(main).to_contain_text("What is not INT8 in resnet18-int8-tensorrt-uncalibrated, and why")
        expect(main).to_contain_text("split_epilogue")
        expect(main).to_contain_text("quantize steps")
        expect(main).to_contain_text("Not measured")
        expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30000)
        # The theme is the packaged one: the sidebar wears its secondary background, not Streamlit's default.
        sidebar = page.locator("[data-testid='stSidebar']")
        expect(sidebar).to_have_css("background-color", "rgb(243, 245, 247)")
        screenshot(page, "installed-demo")

        open_app(page, f"http://127.0.0.1:{port}/models")
        # The first sample, generated on first use into the fresh models cache, and every other one offered.
        expect(main).to_contain_text("home/.layerlens/models/tiny_cnn.onnx · producer pytorch layerlens-zoo",
                                     timeout=60000)
        main.locator("[data-testid='stSelectbox']").click()
        for name in ("tiny_cnn_qdq", "resnet18", "resnet50", "mobilenetv2", "transformer"):
            expect(page.get_by_role("option", name=f"{name} (sample:", exact=False)).to_be_visible()
        page.keyboard.press("Escape")

        fault.touch()
        os.utime(store, (time.time() + 5, time.time() + 5))  # the run list is cached by the store's mtime
        page.goto(f"http://127.0.0.1:{port}/")
        exception = page.locator("[data-testid='stException']")
        expect(exception).to_be_visible(timeout=60000)
        screenshot(page, "installed-forced-error")
        shown = page.locator("[data-testid='stApp']").inner_text()
        assert "This app has encountered an error" in shown
        for detail in ("secret-detail-7f3a", "Traceback", "RuntimeError", "scan", "site-packages"):
            assert detail not in shown, detail
        browser.close()
