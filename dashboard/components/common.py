"""Provenance captions, KPI cards, findings, the share/export button, and empty states."""

from __future__ import annotations

import time

import streamlit as st

from dashboard import data, state
from layerlens.views.export_html import ViewItem, build_html_report
from layerlens.views.images import figure_image, image_support
from layerlens.views.provenance import provenance_text  # noqa: F401 (pages import it from here)
from layerlens.views.figures import PRECISION_COLORS
from engine_core.engine import Engine
from engine_core.errors import LayerLensError

#: Rows a detail table sends to the browser. A longer table shows its first rows (callers order it by what matters
#: most) and says how many it leaves out: tens of thousands of rows make a page take seconds to ship and draw.
TABLE_ROWS = 500

SEVERITY_ICON = {"high": ":material/error:", "medium": ":material/warning:", "info": ":material/info:"}

TRTEXEC_RECIPE = """# INT8: add --calib=<cache>, unless the ONNX already carries Q/DQ (QAT, ModelOpt)
trtexec --onnx=model.onnx --saveEngine=model.engine --fp16 --int8 \\
        --profilingVerbosity=detailed \\
        --exportLayerInfo=model.graph.json --exportProfile=model.profile.json \\
        --exportTimes=model.timing.json --separateProfileRun --useCudaGraph 2>&1 | tee model.log"""


def render_estimate_notice(engine: Engine) -> None:
    """Say plainly that the times on this page are not measurements."""
    if engine.is_estimate:
        st.warning(f"**Not measured.** {engine.builder or 'This build'} produced a real engine, but nothing timed it "
                   f"(a TensorRT-RTX engine needs an RTX GPU to run). Every time on this page is a "
                   f"**{engine.time_basis}**: each layer's FLOPs and bytes through a model calibrated on real "
                   "TensorRT profiles (its error band is how far off it was on real engines whose GPU it was not "
                   "fitted on), for comparing layers and builds, not a latency to quote.", icon=":material/calculate:")


def head_rows(frame, what: str, order: str = "", total: int | None = None):
    """``frame`` cut to :data:`TABLE_ROWS` rows, with a caption saying so when it was longer.

    Args:
        frame: a table already in the order its rows matter.
        what: what a row is, plural ("groups", "layers").
        order: how the rows are ordered, said in the caption ("largest change first").
        total: the rows of the whole table when ``frame`` holds only its first ones (a kept aggregate).
    """
    total = len(frame) if total is None else total
    if total <= TABLE_ROWS:
        return frame
    st.caption(f"Showing {TABLE_ROWS:,} of {total:,} {what}" + (f", {order}" if order else "") + "; the downloads "
               "and the Layers page have every row.")
    return frame.head(TABLE_ROWS)


def precision_tags(frame, columns: list[str], labels: dict[str, str] | None = None) -> tuple:
    """``(frame, column_config)``: ``frame`` with each precision column drawn as a coloured tag (a one-element list
    in a ``MultiselectColumn``, which the browser colours), and the config that draws them, for ``st.dataframe``.

    pandas' Styler coloured these cells before. Streamlit renders a Styler by translating every cell of the table
    to HTML styles and display strings on each rerun: two thirds of a search or click on the Layers table
    (~0.2 s at 250 rows on two busy cores, py-spy; 60-80 ms alone), against ~3 ms for the tags.
    """
    labels = labels or {}
    tagged = frame.assign(**{c: [[p] if isinstance(p, str) else [] for p in frame[c]] for c in columns})
    config = {c: st.column_config.MultiselectColumn(labels.get(c), options=list(PRECISION_COLORS),
                                                    color=list(PRECISION_COLORS.values())) for c in columns}
    return tagged, config


def render_provenance(engine: Engine) -> None:
    st.caption(":material/badge: " + provenance_text(engine))


def record(title: str, figure=None, table=None, text: str = "") -> None:
    """Remember what the page drew, for the HTML export of the current view."""
    st.session_state.setdefault(state.VIEW_ITEMS, []).append(ViewItem(title, figure, table, text))


def plot(fig, title: str, key: str | None = None, select: bool = False):
    """Draw a figure, record it for export, and offer it as an image.

    PNG: Plotly's camera button (in the browser, nothing to install). SVG: a
    button under the chart, rendered by kaleido only when clicked. Both carry the
    provenance subtitle. With ``select``, returns the click selection.
    """
    slug = "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")
    config = {"displaylogo": False, "scrollZoom": select,
              "toImageButtonOptions": {"scale": 2, "filename": f"layerlens-{slug}"}}
    event = st.plotly_chart(fig, width="stretch", key=key, config=config,
                            **({"on_select": "rerun", "selection_mode": "points"} if select else {}))
    record(title, figure=fig)
    if image_support() is None:
        st.download_button(":material/image: SVG", data=lambda: figure_image(fig, "svg"), file_name=f"layerlens-{slug}.svg",
                           mime="image/svg+xml", key=f"svg-{key or slug}", on_click="ignore", type="tertiary",
                           help="This chart as SVG, with its provenance subtitle (PNG: the camera icon above the chart).")
    return event


def render_export_button(page_title: str, provenance: str) -> None:
    """One click: the current view as a self-contained HTML file (built only when clicked)."""
    items = list(st.session_state.get(state.VIEW_ITEMS, []))
    if not items:
        return
    slug = page_title.lower().replace(" ", "-")
    st.download_button(
        ":material/download: Export this view (HTML)",
        data=lambda: build_html_report(f"LayerLens · {page_title}", provenance, items,
                                       time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())),
        file_name=f"layerlens-{slug}.html", mime="text/html", key=f"export-{slug}", on_click="ignore",
        help="A single HTML file with every chart and table on this page; opens offline.")


def render_report_button(run_id: str, baseline_id: str | None) -> None:
    """One click: the full report of the selected engine (and baseline), as `layerlens report` writes it."""
    def _report() -> str:
        from layerlens.views.report import report_html

        return report_html(data.load_engine(run_id), data.load_engine(baseline_id) if baseline_id else None)

    name = data.run_name(run_id)  # from the manifest: pages that draw no engine (Runs, Import) never load it
    st.download_button(":material/summarize: Report (HTML)", data=_report, type="primary",
                       file_name=f"layerlens-report-{name.replace('/', '-')}.html", mime="text/html",
                       key="report.download", on_click="ignore",
                       help="Everything about this engine" + (" and its baseline" if baseline_id else "") + ": verdict, "
                            "findings, charts, comparison, engine graph, layer table, provenance. One file; opens offline.")


def render_findings(findings: list, limit: int = 6) -> None:
    if not findings:
        st.success("No findings: every layer runs in the requested precision and the setup looks fair.")
        return
    for f in findings[:limit]:
        impact = (f"**{f.impact_ms:.3f} ms**" + (f" ({f.impact_pct:.0f}%)" if f.impact_pct is not None else "")
                  if f.impact_ms is not None else f"*{f.severity}*")
        estimate = " · *includes an estimate*" if f.estimate else ""
        with st.container(border=True):
            st.markdown(f"{SEVERITY_ICON.get(f.severity, '')} {impact}{estimate} — {f.message}")
            st.caption(f"Fix: {f.fix}")
            if f.evidence:
                with st.expander("Evidence"):
                    st.write(f.evidence)
                    if f.layers:
                        st.write(", ".join(f.layers[:20]) + (" …" if len(f.layers) > 20 else ""))
    record("Findings", text=" | ".join(f"{f.message} Fix: {f.fix}" for f in findings[:limit]))


def render_empty_state(what: str = "engine") -> None:
    """What to do when there is nothing to show yet."""
    st.info(f"No {what} to show yet. Import TensorRT artifacts on the **Import** page, or from a shell: "
            "`layerlens import PATH`.", icon=":material/upload_file:")
    st.markdown("**Make artifacts with trtexec** (TensorRT ≤ 10; drop the `--fp16 --int8` flags on TensorRT 11, "
                "where precision comes from the ONNX model), or toggle precisions on the **Build** page:")
    st.code(TRTEXEC_RECIPE, language="bash")
    st.markdown("Any subset works: a trtexec log alone, the layer JSON alone, a TREx folder, a zip, or a "
                "`--dumpProfile` table pasted from a GitHub issue.")
    c1, c2, c3 = st.columns(3)
    c1.page_link("app_pages/import_page.py", label="Go to Import", icon=":material/upload:")
    c2.page_link("app_pages/build.py", label="Compose a build", icon=":material/construction:")
    c3.page_link("app_pages/models.py", label="Look at the sample ONNX models", icon=":material/account_tree:")


def current_engine() -> Engine | None:
    """The outline (:func:`dashboard.data.load_engine_outline`) of the engine picked in the sidebar, or None (after
    showing why)."""
    run_id = st.session_state.get(state.RUN)
    if not run_id:
        render_empty_state()
        return None
    try:
        return data.load_engine_outline(run_id)
    except LayerLensError as exc:
        st.error(f"This run cannot be read: {exc}", icon=":material/error:")
        return None
