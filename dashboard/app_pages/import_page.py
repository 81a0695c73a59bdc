"""Import: drop artifacts (or a zip, or pasted text) and they become runs in the store."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import streamlit as st

from dashboard import data, state
from dashboard.components.gate import render_read_only_notice
from layerlens import access
from engine_core.discover import SUPPORTED_HELP, load_engines
from engine_core.errors import LayerLensError
from engine_core.importers.jsonio import MAX_ARTIFACT_BYTES
from engine_core.store.bundle import import_bundle, is_bundle

st.title("Import")
st.markdown("Drop any mix of TensorRT artifacts for one or more engines. Files that share a stem "
            "(`model.graph.json`, `model.profile.json`, …) or that a log's own command exported become one engine.")
st.caption(SUPPORTED_HELP)
if access.read_only():
    render_read_only_notice("Importing runs")
    st.stop()


CONFLICT_CHOICES = {"Refuse (nothing is imported)": "refuse", "Import as copies": "rename", "Replace the stored runs": "replace"}


def import_bundles(bundles: list[Path], policy: str) -> list[tuple[str, str]]:
    """Add the runs of LayerLens bundles (names and tags kept); a conflicting run is handled per ``policy``."""
    messages, imported = [], []
    for bundle in bundles:
        try:
            results = import_bundle(data.store(), bundle, policy)
        except LayerLensError as exc:
            messages.append(("error", f"{bundle.name}: {exc}".replace(f"{bundle.parent}/", "")))
            continue
        for run in results:
            messages.append(("success" if run.status != "already present" else "info",
                             f"{run.status.capitalize()}: **{run.name}** as `{run.run_id}` (from {bundle.name})"))
            imported.append(run.run_id)
    data.clear_run_list()
    if imported:
        state.request_selection(run=imported[0])
    return messages


def import_paths(paths: list[Path], scratch: Path, policy: str = "refuse") -> list[tuple[str, str]]:
    """Read and store; returns (level, message) pairs for the page. Nothing stored is touched on failure.

    Raises:
        StoreError: the store is shared read-only.
    """
    data.store().require_writable("Importing runs")
    bundles = [p for p in paths if p.suffix == ".zip" and is_bundle(p)]
    messages = import_bundles(bundles, policy) if bundles else []
    paths = [p for p in paths if p not in bundles]
    if not paths:
        return messages
    return messages + _import_artifacts(paths, scratch)


def _import_artifacts(paths: list[Path], scratch: Path) -> list[tuple[str, str]]:
    try:
        engines, skipped = load_engines(paths, scratch=scratch)
    except LayerLensError as exc:  # name the user's file, not our temporary folder
        return [("error", str(exc).replace(f"{scratch}/upload/", "").replace(f"{scratch}/", ""))]
    if not engines:
        return [("error", "No TensorRT artifacts found in what you gave. " + SUPPORTED_HELP)]
    messages = [("warning", f"Skipped {s.replace(f'{scratch}/upload/', '').replace(f'{scratch}/', '')}") for s in skipped]
    store = data.store()
    stored = []
    for engine in engines:
        try:
            manifest, created = store.add(engine)
        except LayerLensError as exc:
            messages.append(("error", str(exc)))
            continue
        verb = "Imported" if created else "Already in the store:"
        detail = f"{manifest.layer_count} layers, {manifest.build_precision or 'precision ?'}, {manifest.device or 'GPU ?'}"
        messages.append(("success", f"{verb} **{engine.name}** ({detail}) as `{manifest.run_id}`"))
        for w in engine.warnings[:3]:
            messages.append(("info", f"{engine.name}: {w}"))
        stored.append((engine, manifest.run_id))
    data.clear_run_list()
    if stored:
        # Baseline first: the build that enabled the widest precision (FP32 before FP16 before INT8).
        ordered = sorted(stored, key=lambda pair: -_narrowest_rank(pair[0]))
        many = len(ordered) >= 2
        state.request_selection(run=ordered[-1][1], baseline=ordered[0][1] if many else None,
                                compare=[run for _, run in ordered[1:-1]] if many else None)
        if many:
            messages.append(("info", f"Comparing **{ordered[0][0].name}** (baseline) with "
                             + ", ".join(f"**{e.name}**" for e, _ in ordered[1:]) + ": open **Compare** or **Overview**."))
    return messages


def _narrowest_rank(engine) -> int:
    from engine_core.precision import PRECISION_RANK

    precision, _ = engine.analysis.requested_precision
    return PRECISION_RANK.get(precision, 5)


def _import_and_report(write_inputs, policy: str = "refuse") -> None:
    scratch = Path(tempfile.mkdtemp(prefix="layerlens-import-"))
    try:
        st.session_state[state.IMPORT_RESULTS] = import_paths(write_inputs(scratch), scratch, policy)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    st.rerun()


def _build_demo() -> None:
    """Real ResNet-18 engines, as `layerlens dashboard` builds them on an empty store; opens on their comparison."""
    from engine_core.build.demo import build_demo, demo_selection

    with st.status("Building the demo engines…", expanded=True) as status:
        result = build_demo(data.store(), lambda stem, stage, detail: status.write(f"**{stem}**: {stage}"))
        status.update(label=f"Built {sum(1 for r in result.results if r.run_id)} demo engines",
                      state="error" if result.failures else "complete")
    for failure in result.failures:
        st.error(f"{failure.stem}: {failure.error}")
    data.clear_run_list()
    run, baseline, more = demo_selection(result)
    if run and baseline:
        state.request_selection(run=run, baseline=baseline, compare=more)
        st.switch_page("app_pages/compare.py")


uploads = st.file_uploader("Artifacts", accept_multiple_files=True,
                           type=["json", "log", "txt", "zip"], key="import.files",
                           help=f"Up to {MAX_ARTIFACT_BYTES // 2**20} MiB per artifact; zips are checked for unsafe paths "
                                "and bombs. A run bundle (`.lens.zip` from `layerlens bundle` or the Runs page) adds "
                                "its runs with their names and tags.")
conflict = st.radio("When a bundle's run is already stored with other names or tags", list(CONFLICT_CHOICES),
                    horizontal=True, key="import.conflict")
if uploads and st.button("Import files", type="primary", key="import.go"):
    def _write_uploads(scratch: Path) -> list[Path]:
        folder = scratch / "upload"
        folder.mkdir()
        paths = []
        for up in uploads:
            target = folder / Path(up.name).name
            target.write_bytes(up.getbuffer())
            paths.append(target)
        return paths
    _import_and_report(_write_uploads, CONFLICT_CHOICES[conflict])

st.markdown("**Or paste text** — a `--dumpProfile` table, verbose `Layer(...)` lines or a whole trtexec log from an issue:")
name = st.text_input("Name for the pasted engine", value="pasted", key="import.paste_name")
pasted = st.text_area("trtexec output", height=180, key="import.paste",
                      placeholder="=== Profile (2310 iterations ) ===\n   Time(ms)     Avg.(ms)   Median(ms)   Time(%)   Layer\n…")
if st.button("Import pasted text", key="import.paste_go", disabled=not pasted.strip()):
    def _write_paste(scratch: Path) -> list[Path]:
        safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name.strip()) or "pasted"
        target = scratch / f"{safe}.log"
        target.write_text(pasted)
        return [target]
    _import_and_report(_write_paste)


if data.demo_buildable():
    with st.expander("No artifacts at hand? Build real ResNet-18 engines here (TensorRT-RTX on the CPU, about 10 s)"):
        st.caption("FP32, FP16 and INT8 with two Q/DQ placements, built on this machine from LayerLens's ResNet-18 "
                   "sample; they open on the Compare page. No GPU times them here, so latency is an estimate (LayerLens latency model).")
        if st.button("Build the demo engines", key="import.demo"):
            _build_demo()

results = st.session_state.get(state.IMPORT_RESULTS, [])
for level, message in results:
    getattr(st, level)(message)
if any(level == "success" for level, _ in results):
    c1, c2 = st.columns(2)
    c1.page_link("app_pages/overview.py", label="Open the Overview", icon=":material/dashboard:")
    c2.page_link("app_pages/compare.py", label="Open Compare", icon=":material/compare_arrows:")
