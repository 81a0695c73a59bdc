"""Build: toggle precisions and get real engines here (TensorRT-RTX on the CPU), or the trtexec command for a GPU box.

Builds always run out of process (:mod:`engine_core.build.runner`), so a builder
crash cannot take the dashboard down; a rerun or the Cancel button kills the
worker. Finished engines go into the store and open on the Compare page. Paths
typed here are fenced (:mod:`layerlens.access`): a browser may name only files in
the folders the dashboard may read; a read-only dashboard builds nothing.
"""

from __future__ import annotations

import shlex
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

import streamlit as st

from dashboard import data, state
from dashboard.components.gate import render_read_only_notice
from layerlens import access
from engine_core.analysis.latency_model import default_latency_model
from dashboard.components.advise_panel import render_advise_panel
from engine_core.build.engine_request import RTX_TARGETS
from engine_core.build.request import BuildRequest, check_request, default_stem
from engine_core.build.rtx import INSTALL as RTX_INSTALL
from engine_core.build.rtx import rtx_available
from engine_core.build.trtexec import build_with_trtexec, find_trtexec, trtexec_argv
from engine_core.discover import load_engines
from engine_core.errors import BuildError, LayerLensError
from engine_core.models.zoo import ZOO, resolve_model
from engine_core.recipes.spec import CALIBRATORS, PLACEMENTS, PRECISIONS

VERSIONS = ["8.6", "10.16", "11.0"]
WEAK = [("fp16", "FP16"), ("bf16", "BF16"), ("int8", "INT8"), ("fp8", "FP8"), ("int4", "INT4")]
STAGES = {"recipe": "applying the precision recipe", "parse": "parsing the ONNX model", "build": "building the engine",
          "import": "reading the build log", "done": "done", "failed": "failed"}

st.title("Build")
if access.read_only():
    render_read_only_notice("Building engines")
    st.stop()
models = {f"{name} (sample)": name for name in ZOO}
models.update({p.name: str(p) for p in data.user_models()})
left, right = st.columns([2, 1])
choice = left.selectbox("ONNX model", list(models) + ["other path…"], key="build.model",
                        help="Sample models are generated on first use with PyTorch-style node names. Your own: the "
                             "models cache and `--allow-dir` folders, or another path inside them.")
model = left.text_input("Model path", key="build.model_path") if choice == "other path…" else models[choice]


def model_file(name_or_path: str) -> tuple[Path, str | None]:
    """A sample model (generated on first use), or a path inside the folders this dashboard may read."""
    if name_or_path in ZOO:
        return resolve_model(name_or_path)
    return data.fence(name_or_path, "Model path"), None

st.subheader("Real engines on this machine")
if not rtx_available():
    st.info(f"TensorRT-RTX is not installed, so nothing can be built here. Install it with `{RTX_INSTALL}`, "
            "or use the trtexec command below on a GPU machine.", icon=":material/memory:")
else:
    st.caption("TensorRT-RTX builds the engine ahead of time on the CPU. Its types come from the model, so each "
               "precision is a recipe applied to the ONNX first. No GPU here: latency is an **estimate** "
               f"({default_latency_model().basis}).")
    cols = st.columns(len(PRECISIONS))
    chosen = [p for p, col in zip(PRECISIONS, cols) if col.checkbox(p.upper(), value=p in ("fp32", "int8"),
                                                                    key=f"build.rtx.{p}")]
    c1, c2, c3 = st.columns(3)
    placements = c1.multiselect("Q/DQ placement (INT8/FP8)", PLACEMENTS, default=["ort", "tensorrt"], key="build.rtx.placement",
                                help="ort: onnxruntime's default (every op it can quantize). tensorrt: TensorRT's "
                                     "recommendation (inputs of weighted ops and residual Adds, never their outputs).")
    calibrator = c2.selectbox("Calibrator", CALIBRATORS, key="build.rtx.calibrator")
    targets = c3.multiselect("Targets", RTX_TARGETS, key="build.rtx.targets",
                             help="Empty: TensorRT-RTX's default set. FP8 needs SM89 or newer.")
    calib = st.text_input("Calibration data folder (.npz/.npy batches)", key="build.rtx.calib",
                          placeholder="empty: uncalibrated (synthetic inputs), and labelled so")
    if st.button(f"Build {len(chosen)} recipe(s)", type="primary", key="build.rtx.go", disabled=not chosen or not model):
        from engine_core.build.matrix import build_matrix, matrix_variants

        cancel = threading.Event()
        with st.status("Building…", expanded=True) as status:
            try:
                calib_dir = data.fence(calib, "Calibration data folder") if calib else None
                path, label = model_file(model)
                result = build_matrix(path, matrix_variants(chosen, placements or ["ort"]), builder="rtx",
                                      targets=tuple(targets), calibration_dir=calib_dir, calibrator=calibrator,
                                      store=data.store(), model_label=label, cancel=cancel,
                                      on_progress=lambda stem, stage, detail: status.write(
                                          f"**{stem}**: {STAGES.get(stage, stage)}" + (f" ({detail})" if stage == "failed" else "")))
            except LayerLensError as exc:
                status.update(label="Build failed", state="error")
                st.error(str(exc))
                st.stop()
            finally:
                cancel.set()  # a rerun or Stop interrupts the script: take the worker down with it
            built = [r.run_id for r in result.results if r.run_id]
            status.update(label=f"Built {len(built)} of {len(result.results)} engines", state="complete" if built else "error")
        for failure in result.failures:
            st.error(f"{failure.stem}: {failure.error}")
        if built:
            data.clear_run_list()
            state.request_selection(run=built[-1], baseline=built[0] if len(built) > 1 else None,
                                    compare=built[1:-1])
            st.switch_page("app_pages/compare.py" if len(built) > 1 else "app_pages/overview.py")

if rtx_available():
    render_advise_panel(model)

st.subheader("trtexec command for a GPU machine")
trtexec = find_trtexec()
st.caption("TensorRT 8.6-10 take precision flags (weak typing); TensorRT 11 takes precision from the model. "
           "The command exports everything LayerLens reads; bring the files back on the **Import** page.")
onnx = model if str(model).endswith(".onnx") else f"{model}.onnx"
version = st.selectbox("TensorRT version", VERSIONS, index=1, key="build.version",
                       help="TensorRT 11 removed weak typing: precision then comes from the ONNX model (Q/DQ, AutoCast).")
trt11 = version.startswith("11")
if trt11:
    st.caption("TensorRT 11 builds every network strongly typed: quantize the ONNX (a recipe above, or ModelOpt) "
               "to get INT8/FP8/FP16 layers. Only TF32 remains a build switch.")
cols = st.columns(len(WEAK) + 1)
flags = tuple(flag for (flag, label), col in zip(WEAK, cols) if col.checkbox(label, key=f"build.{flag}", disabled=trt11))
tf32 = cols[-1].checkbox("TF32", value=True, key="build.tf32", help="On by default on Ampere and newer; off gives a true FP32 baseline.")
c1, c2, c3 = st.columns(3)
cache = c1.text_input("INT8 calibration cache", key="build.calib", disabled=trt11 or "int8" not in flags,
                      placeholder="model.calib.cache")
strongly = c2.checkbox("Strongly typed", key="build.strong", disabled=trt11 or version == "8.6",
                       help="Types come from the ONNX model (TensorRT 9-10).")
constraints = c3.selectbox("Precision constraints", ["none", "prefer", "obey"], key="build.constraints", disabled=trt11)
overrides_text = st.text_area("Per-layer precision overrides (one `layer:precision` a line)", key="build.overrides",
                              disabled=trt11, placeholder="/head/Softmax:fp32", height=80)
overrides = {}
for line in overrides_text.splitlines():
    layer, sep, precision = line.strip().rpartition(":")
    if sep and layer:
        overrides[layer] = precision.strip()
with st.expander("Shapes and measurement"):
    shapes = st.text_input("Input shapes", key="build.shapes", placeholder="input:8x3x224x224")
    m1, m2, m3 = st.columns(3)
    graph = m1.checkbox("CUDA graph", value=True, key="build.graph")
    spin = m2.checkbox("Spin-wait", value=True, key="build.spin")
    no_transfers = m3.checkbox("No data transfers", value=True, key="build.notransfers")

if trt11:  # disabled toggles keep their ticks for when the user switches back, but do not apply
    flags, cache, strongly, constraints, overrides = (), "", False, "none", {}
request = BuildRequest(onnx=onnx, tensorrt_version=version, precisions=flags, tf32=tf32,
                       calibration_cache=cache or None, strongly_typed=strongly, precision_constraints=constraints,
                       layer_precisions=overrides, shapes=shapes or None, use_cuda_graph=graph, use_spin_wait=spin,
                       no_data_transfers=no_transfers)
errors, warnings = check_request(request)
for e in errors:
    st.error(e, icon=":material/block:")
for w in warnings:
    st.warning(w, icon=":material/balance:")
stem = default_stem(request)
if not errors:
    out_dir = Path("runs") / stem
    argv = [shlex.quote(a) for a in trtexec_argv(request, out_dir, stem)]
    st.code(f"mkdir -p {out_dir}\n" + " \\\n    ".join(argv) + f" \\\n    2>&1 | tee {out_dir / (stem + '.log')}",
            language="bash")
    if st.button("Run build", key="build.run", disabled=trtexec is None,
                 help=None if trtexec else "Needs trtexec (TensorRT) on this machine."):
        with st.status(f"Building {stem} with {trtexec}…", expanded=True) as status:
            try:
                fenced = replace(request, onnx=str(model_file(model)[0]),
                                 calibration_cache=str(data.fence(cache, "INT8 calibration cache")) if cache else None)
                files = build_with_trtexec(fenced, Path(tempfile.mkdtemp(prefix="layerlens-build-")), stem, trtexec)
                engines, _ = load_engines(files)
                manifest, _ = data.store().add(engines[0], source="build")
                data.clear_run_list()
                state.request_selection(run=manifest.run_id)
                status.update(label=f"Built {manifest.run_id}", state="complete")
                st.success(f"Built and stored **{engines[0].name}** ({manifest.layer_count} layers).")
            except BuildError as exc:
                status.update(label="Build failed", state="error")
                st.error(str(exc))
                st.code(exc.log_tail or "(empty log)")
            except LayerLensError as exc:
                status.update(label="Build failed", state="error")
                st.error(str(exc))
