"""Static chart images without a browser test: PNG and SVG through kaleido and Chromium, and what is said when
either is missing (before any work is done)."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import plotly.graph_objects as go
import pytest

from conftest import FIXTURES, REPO
from engine_core.errors import LayerLensError
from layerlens.views import images

TITLE = "Share of time<br><sup>tiny · NVIDIA GeForce RTX 3090 · TensorRT 10.16</sup>"


@pytest.fixture
def tiny():
    return go.Figure(go.Bar(x=["INT8", "FP32"], y=[80, 20]), layout={"title": {"text": TITLE}})


@pytest.fixture
def fresh_support():
    """``image_support`` is cached per process; each test here decides what is installed."""
    images.image_support.cache_clear()
    yield
    images.image_support.cache_clear()


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_pngs_are_written_one_per_figure_at_the_documented_width(tiny, tmp_path, fresh_support):
    assert images.image_support() is None, images.image_support()  # kaleido and Debian's chromium: `make test` has both
    paths = images.write_pngs([("Share of time per precision", tiny), ("Bytes / layer type", tiny)], tmp_path / "png")
    assert [p.name for p in paths] == ["01-share-of-time-per-precision.png", "02-bytes---layer-type.png"]
    for path in paths:
        width, height = _png_size(path.read_bytes())
        assert width == 2 * images.IMAGE_WIDTH and height > 0  # scale 2: sharp when pasted into a document


def test_svg_carries_the_provenance_subtitle(tiny, fresh_support):
    svg = images.figure_image(tiny, "svg").decode()
    assert svg.startswith("<svg") and "tiny · NVIDIA GeForce RTX 3090 · TensorRT 10.16" in svg


def test_without_kaleido_it_says_what_to_install(tiny, tmp_path, monkeypatch, fresh_support):
    monkeypatch.setitem(sys.modules, "kaleido", None)
    assert images.image_support() == ("Static images need kaleido: pip install 'layerlens[images]' "
                                      "(or pip install kaleido).")
    with pytest.raises(LayerLensError) as err:
        images.write_pngs([("chart", tiny)], tmp_path / "png")
    assert err.value.what == "Static images need kaleido." and "pip install 'layerlens[images]'" in err.value.fix
    assert not (tmp_path / "png").exists()


def test_without_a_browser_it_says_how_to_get_one(tiny, monkeypatch, fresh_support):
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    monkeypatch.setattr(images.shutil, "which", lambda name: None)
    assert "sudo apt-get install chromium" in images.image_support()
    with pytest.raises(LayerLensError, match="Static images need a Chromium browser for kaleido"):
        images.figure_image(tiny, "svg")
    monkeypatch.setenv("BROWSER_PATH", "/usr/bin/chromium")  # a browser named by the user is enough
    images.image_support.cache_clear()
    assert images.image_support() is None


def test_report_png_without_kaleido_fails_before_writing_anything(tmp_path):
    blocker = tmp_path / "block"
    (blocker / "kaleido").mkdir(parents=True)
    (blocker / "kaleido" / "__init__.py").write_text("raise ImportError('blocked for the test')\n")
    out = tmp_path / "r.html"
    proc = subprocess.run([sys.executable, "-m", "layerlens", "report", str(FIXTURES / "trex-rtx3090" / "qat"), "-o",
                           str(out), "--png", str(tmp_path / "png")], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(blocker)}, timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "layerlens: error: --png cannot write images here. Static images need kaleido: pip install 'layerlens[images]' "
        "(or pip install kaleido). Or drop --png: the HTML report needs neither.")
    assert not out.exists() and not (tmp_path / "png").exists()


def test_a_render_kaleido_drops_is_tried_again_then_named(tiny, tmp_path, monkeypatch, fresh_support):
    """kaleido returns a render's error instead of raising it: a timed-out render leaves no file and no error."""
    import plotly.io as pio

    calls = []

    def drops_the_first(figures, paths, **kwargs):  # writes every image but the first, on the first call only
        calls.append([Path(p).name for p in paths])
        for path in paths[1:] if len(calls) == 1 else paths:
            Path(path).write_bytes(b"png")

    monkeypatch.setattr(pio, "write_images", drops_the_first)
    paths = images.write_pngs([("a", tiny), ("b", tiny)], tmp_path / "retry")
    assert calls == [["01-a.png", "02-b.png"], ["01-a.png"]] and all(p.is_file() for p in paths)

    monkeypatch.setattr(pio, "write_images", lambda figures, paths, **kwargs: None)  # never writes
    with pytest.raises(LayerLensError, match="kaleido rendered no image for 01-a.png, 02-b.png"):
        images.write_pngs([("a", tiny), ("b", tiny)], tmp_path / "never")
