"""Layers: every layer in a filterable, sortable table with its SQNR when the build measured it; click one for its
full record; select several to keep them in FP16/FP32 and rebuild; CSV export. Above 250 rows the table
is paged (the order is chosen over every row, not just the page), so a 100k-layer engine opens in seconds. The
filters, the table and the picked layer's record are one fragment: a search or a click reruns only them, against
the narrow table of shown columns made once per run (``data.load_layer_view``), never the whole page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, state
from dashboard.components.common import current_engine, precision_tags, record, render_provenance
from dashboard.components.guard import errors_shown
from dashboard.components.keep_panel import render_keep_panel
from dashboard.components.layer_record import render_layer_record
from engine_core.accuracy.join import with_layer_accuracy
from engine_core.analysis.estimate import layers_for_export
from engine_core.export import layer_table_csv

#: Rows the table holds at once; a longer (filtered) table is paged, ordered first by the user's choice. Every
#: rerun sends the page to the browser, so a page is kept to what a user scrolls through.
PAGE_ROWS = 250
#: Columns the rows of a paged table can be ordered by, with their labels.
SORTABLE = {"order": "execution order", "avg_ms": "time (avg ms)", "weights_bytes": "weight bytes",
            "name": "name", "layer_type": "layer type", "compute_precision": "compute precision"}
SHOWN = ["order", "name", "layer_type", "compute_precision", "output_precision", "avg_ms", "latency_share_pct",
         "weights_precision", "weights_bytes", "tactic_name", "stream_id"]


def _page(shown: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The rows the table shows, and which they are (empty when all of them).

    A table of more than :data:`PAGE_ROWS` rows is shown a page at a time: shipping 100,000 rows to the
    browser on every rerun is what made the page take minutes. Above one page the user picks how the
    rows are ordered (all of them, not just the page) and which page to see.
    """
    if len(shown) <= PAGE_ROWS:
        return shown, ""
    c1, c2, c3 = st.columns([2, 1, 1])
    by = c1.selectbox("Order rows by", SORTABLE, format_func=lambda c: SORTABLE[c], key=state.LAYER_SORT)
    descending = c2.toggle("Descending", key=state.LAYER_DESCENDING)
    pages = -(-len(shown) // PAGE_ROWS)
    if st.session_state.get(state.LAYER_PAGE, 1) > pages:  # a narrower filter has fewer pages
        st.session_state[state.LAYER_PAGE] = 1
    number = c3.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, step=1, key=state.LAYER_PAGE)
    if by != "order" or descending:
        shown = shown.sort_values(by, ascending=not descending, na_position="last", kind="stable")
    first = (number - 1) * PAGE_ROWS
    page = shown.iloc[first:first + PAGE_ROWS]
    return page, f" · rows {first + 1:,}–{first + len(page):,} shown ({PAGE_ROWS:,} a page)"


def _csv(run_id: str, rows: pd.Index) -> str:
    """The rows as the CSV download holds them: every column, from the whole engine (made only when clicked)."""
    engine = data.load_engine(run_id)
    return layer_table_csv(with_layer_accuracy(layers_for_export(engine).loc[rows], engine.layers, engine.accuracy))


@st.fragment
def _render_table(engine, run_id: str) -> None:
    """Filters, the (paged) table, and what a selection opens; reruns alone when any of them changes."""
    with errors_shown("the Layers table"):  # a fragment's rerun is not inside the router's guard
        _table(engine, run_id)


def _table(engine, run_id: str) -> None:
    layers = engine.layers
    view = data.load_layer_view(run_id, tuple(SHOWN))
    data.load_layer_search_text(run_id)  # read (or made and kept) with the page, so the first search only searches
    c1, c2, c3 = st.columns([2, 2, 2])
    search = c1.text_input("Search names, ONNX nodes, tactics", key=state.LAYER_SEARCH, placeholder="e.g. conv2_block1 or i8f16")
    types = c2.multiselect("Layer types", data.load_layer_choices(run_id, "layer_type"), key=state.LAYER_TYPES)
    precisions = c3.multiselect("Compute precision", data.load_layer_choices(run_id, "compute_precision"),
                                key=state.LAYER_PRECISIONS)
    shown = view.loc[data.load_matching_layers(run_id, search, tuple(types), tuple(precisions))]
    table, where = _page(shown)
    keep_hint = " · select rows to keep them in FP16/FP32" if engine.build_facts.get("request") else ""
    st.caption(f"{len(shown):,} of {len(layers):,} layers{where} · click a row for its full record{keep_hint} · sort by "
               "clicking a column" + (" (sorts this page)" if where else "")
               + (f" · SQNR on {engine.accuracy.inputs_label} (empty: identical or not measured)"
                  if engine.accuracy is not None else ""))
    tagged, tags = precision_tags(table, ["compute_precision", "output_precision", "weights_precision"])
    event = st.dataframe(tagged, hide_index=True, width="stretch", height=460, on_select="rerun",
                         selection_mode="multi-row", key="layers.table",
                         column_config={**tags, "avg_ms": st.column_config.NumberColumn("avg ms", format="%.4f"),
                                        "sqnr_db": st.column_config.NumberColumn(
                                            "SQNR dB", format="%.1f", help="Output SQNR of the layer's ONNX nodes vs "
                                            f"the float model ({engine.accuracy.inputs_label if engine.accuracy else ''})"),
                                        "latency_share_pct": st.column_config.NumberColumn("% time", format="%.1f"),
                                        "weights_bytes": st.column_config.NumberColumn("weights B", format="%d")})
    record("Layer table", table=table.head(500))
    st.download_button(":material/download: Download CSV (all columns)" + (f", all {len(shown):,} rows" if where else ""),
                       data=lambda: _csv(run_id, shown.index),
                       file_name=f"{engine.name}-layers.csv", mime="text/csv", key="layers.csv", on_click="ignore")
    rows = event.selection.rows if event is not None else []
    if rows:
        render_keep_panel(engine, run_id, data.load_layer_rows(run_id, table.index[rows]))
    if len(rows) == 1:
        row = table.index[rows[0]]
        render_layer_record(data.load_layer_rows(run_id, [row]).iloc[0], data.load_layer_fallback(run_id, row))


st.title("Layers")
engine = current_engine()
if engine is not None:
    render_provenance(engine)
    _render_table(engine, st.session_state[state.RUN])
