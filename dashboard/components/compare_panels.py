"""Compare-page panels: where two builds' bytes go, what stays float in B and why, and B's quantize kernels."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.components.common import head_rows, plot, record
from layerlens.views.figures import make_engine_bytes_figure
from engine_core.analysis.size import size_ratio_statement
from engine_core.engine import Engine


def comparison_provenance(engines: list[Engine]) -> str:
    """What the engines share, said once, then each engine's own precision and GPU."""
    facts = {"builder": lambda e: e.builder or "", "where": lambda e: e.device or e.target or "GPU unknown",
             "times": lambda e: f"times: {e.time_basis}"}
    shared = [f(engines[0]) for k, f in facts.items() if len({f(e) for e in engines}) == 1 and f(engines[0])]
    own = [k for k, f in facts.items() if len({f(e) for e in engines}) > 1]
    each = " vs ".join(f"{e.name} ({', '.join([e.precision_label or '?'] + [facts[k](e) or '?' for k in own])})"
                       for e in engines)
    return " · ".join(shared + [each])


def bytes_rows(name: str, account) -> list[tuple[str, str, int]]:
    """(engine, component, bytes) rows: weights per precision, then the parts the weights do not explain."""
    return [(name, component, max(int(size), 0))
            for component, size in account.components(weights_by_precision=True).itertuples(index=False)]


def render_bytes_and_precision(a_id: str, b_id: str, a: Engine, b: Engine, provenance: str) -> None:
    st.subheader(f"Bytes: why {b.name} is the size it is")
    a_account, b_account = data.load_byte_account(a_id), data.load_byte_account(b_id)
    statement = size_ratio_statement(a_account, b_account, a.name, b.name, len(a.layers), len(b.layers))
    st.info(statement, icon=":material/calculate:")
    record("Bytes", text=statement)
    rows = pd.DataFrame(bytes_rows(a.name, a_account) + bytes_rows(b.name, b_account), columns=["engine", "component", "bytes"])
    if rows["bytes"].sum():
        plot(make_engine_bytes_figure(rows, provenance), "Engine bytes by component")

    examples = data.load_fallback_examples(b_id)  # not the fallbacks: nearly every layer of an LLM-size engine
    st.subheader(f"What is not {examples['requested_precision'].iloc[0] if not examples.empty else 'lower precision'} in {b.name}, and why")
    if examples.empty:
        st.success(f"Every layer of {b.name} computes and writes its requested precision.")
    else:
        summary = data.load_fallback_summary(b_id)
        table = summary.assign(example=summary["reason"].map(examples["evidence"]))[["reason", "layers", "weights_bytes", "time_ms", "reason_text", "example"]]
        st.dataframe(table, hide_index=True, width="stretch",
                     column_config={"time_ms": st.column_config.NumberColumn("measured ms", format="%.4f"),
                                    "weights_bytes": st.column_config.NumberColumn("weight bytes", format="%d")})
        record("Why layers are not in the requested precision", table=table)

    shown = data.load_generated_kernels(b_id)
    if not shown.empty:
        st.subheader(f"Generated kernels in {b.name}: quantize steps and epilogues")
        steps = int(shown["quantize steps"].sum())
        st.caption(f"{len(shown)} generated (kgen) kernels perform {steps} quantize steps. Each name spells the fused ops: "
                   "`MulMinMaxRounCast` is scale, clamp, round, cast to INT8.")
        st.dataframe(head_rows(shown, "kernels", "in execution order"), hide_index=True, width="stretch", height=300)
        record("Generated kernels", table=shown)
