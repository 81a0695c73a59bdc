"""``python -m dashboard.server run dashboard/streamlit_app.py [flags]``: Streamlit's own command line, started
after the libraries every page needs are imported, so that the first page a browser opens does not wait for them.

Streamlit imports an app's modules only when the first session runs the script: pandas, pyarrow, plotly, the
whole of ``engine_core`` and ``layerlens.views`` (2-5 s on two busy cores) then counted against the first page a
user opens. Imported here, before the server listens, they are paid while ``layerlens dashboard`` waits for the
server to answer. Only libraries are imported: the ``dashboard`` modules (which define Streamlit caches) are left
to the script, as Streamlit expects. Plotly builds its trace classes on first use, so one tiny figure of each
kind the pages draw is made (and serialised) here too. ``layerlens dashboard`` and the browser tests start the
server this way.
"""

from __future__ import annotations

import sys


#: What the pages and ``dashboard.data`` import (each engine page several of them), but for the builders and the ONNX
#: reader, which only the Build and Models pages use. One left out only costs the first page that imports it.
PRELOADED = ("pyarrow.ipc", "plotly.graph_objects", "plotly.io",
             "engine_core.accuracy.advise", "engine_core.accuracy.join", "engine_core.accuracy.tradeoff",
             "engine_core.analysis.attribution", "engine_core.analysis.calibration", "engine_core.analysis.compare",
             "engine_core.analysis.diagnose", "engine_core.analysis.estimate", "engine_core.analysis.kernels",
             "engine_core.analysis.lint", "engine_core.discover", "engine_core.export", "engine_core.graph",
             "engine_core.models.zoo", "engine_core.store.analysis_cache", "engine_core.store.baseline",
             "engine_core.store.bundle", "layerlens.views.accuracy_figures", "layerlens.views.export_html",
             "layerlens.views.figures", "layerlens.views.graph_figure", "layerlens.views.images",
             "layerlens.views.key_numbers", "layerlens.views.provenance", "layerlens.views.report")


def preload() -> None:
    """Import :data:`PRELOADED` and let Plotly build the trace classes the pages draw; nothing of the user's data."""
    import importlib

    for module in PRELOADED:
        importlib.import_module(module)
    import plotly.graph_objects as go
    import plotly.io as pio

    from layerlens.views.images import image_support

    figure = go.Figure([go.Bar(), go.Scatter(), go.Scattergl(), go.Sunburst(), go.Waterfall(), go.Pie()])
    figure.update_layout(template="plotly_white", title={"text": "", "x": 0.0}, legend={"orientation": "h"})
    pio.to_json(figure, validate=False)
    image_support()  # every chart asks (kept once known): imports kaleido, looks for a browser


def main() -> int:
    preload()
    from streamlit.web.cli import main as streamlit_main

    return streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    sys.exit(main())
