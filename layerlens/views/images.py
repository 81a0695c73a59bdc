"""Static images of figures (PNG, SVG) through kaleido, which drives a headless Chromium.

Optional: kaleido is a LayerLens extra (``pip install 'layerlens[images]'``) and
it needs a Chromium-family browser on the machine (Debian: ``apt-get install
chromium``; elsewhere ``$BROWSER_PATH`` names one). :func:`image_support` says
what is missing instead of failing inside kaleido. In the browser, Plotly's
camera button needs none of this.

Every LayerLens figure carries its provenance in its subtitle, so an image is
self-explaining wherever it is pasted.
"""

from __future__ import annotations

import functools
import os
import shutil
from pathlib import Path

import plotly.graph_objects as go

from engine_core.errors import LayerLensError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
IMAGE_WIDTH = 1400


@functools.lru_cache(maxsize=1)
def image_support() -> str | None:
    """None when images can be written here, else what to install."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return "Static images need kaleido: pip install 'layerlens[images]' (or pip install kaleido)."
    if os.environ.get("BROWSER_PATH") and Path(os.environ["BROWSER_PATH"]).is_file():
        return None
    if not any(shutil.which(b) for b in BROWSERS):
        return ("Static images need a Chromium browser for kaleido: on Debian/Ubuntu `sudo apt-get install chromium`, "
                "or point $BROWSER_PATH at Chrome/Chromium.")
    return None


def figure_image(fig: go.Figure, fmt: str = "png") -> bytes:
    """The figure as PNG or SVG bytes. Raises LayerLensError when kaleido or Chromium is missing."""
    _require()
    try:
        return fig.to_image(format=fmt, width=IMAGE_WIDTH, scale=2 if fmt == "png" else 1)
    except Exception as exc:  # kaleido's errors (browser crashed, timed out) are not LayerLens bugs
        raise LayerLensError(f"kaleido could not render the image ({type(exc).__name__}: {exc}).",
                             "Check that Chromium starts headless on this machine.") from None


def write_pngs(figures: list[tuple[str, go.Figure]], folder: str | Path) -> list[Path]:
    """One PNG per (name, figure) into ``folder``, in one browser session; returns the paths."""
    _require()
    import plotly.io as pio

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{i:02d}-{_slug(name)}.png" for i, (name, _) in enumerate(figures, 1)]
    pending = list(zip([f for _, f in figures], paths))
    for _ in range(2):  # a second try for what the first left out
        try:
            pio.write_images([f for f, _ in pending], [p for _, p in pending], format="png", width=IMAGE_WIDTH, scale=2)
        except Exception as exc:
            raise LayerLensError(f"kaleido could not render the images ({type(exc).__name__}: {exc}).",
                                 "Check that Chromium starts headless on this machine.") from None
        # kaleido returns a render's error instead of raising it (Kaleido.write_fig_from_object, cancel_on_error
        # False, as plotly calls it): a render that timed out on a busy machine left no file and said nothing.
        pending = [(f, p) for f, p in pending if not p.is_file()]
        if not pending:
            return paths
    raise LayerLensError(f"kaleido rendered no image for {', '.join(p.name for _, p in pending)}.",
                         "Check that Chromium starts headless on this machine; on a busy machine a render can time "
                         "out: try again.")


def _require() -> None:
    missing = image_support()
    if missing:
        raise LayerLensError(missing.split(":")[0] + ".", missing)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")[:60] or "chart"
