"""Build: toggle precision options, get the exact trtexec command for a TensorRT version, and run it where trtexec exists.

TensorRT always runs out of process (trtexec), so a driver crash cannot take the
dashboard down. Without trtexec the page still composes the command to run on a
GPU machine; its artifacts then come back through the Import page.
"""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path

import streamlit as st

from dashboard import data, state
from engine_core.build.request import BuildRequest, check_request, default_stem
from engine_core.build.trtexec import build_with_trtexec, find_trtexec, trtexec_argv
from engine_core.discover import load_engines
from engine_core.errors import BuildError, LayerLensError

VERSIONS = ["8.6", "10.16", "11.0"]
PRECISIONS = [("fp16", "FP16"), ("bf16", "BF16"), ("int8", "INT8"), ("fp8", "FP8"), ("int4", "INT4")]

st.title("Build")
trtexec = find_trtexec()
if trtexec is None:
    st.info("No trtexec on this machine (no TensorRT or GPU here): compose the command below, run it on a GPU "
            "machine, then bring the files back on the **Import** page.", icon=":material/memory:")

models = sorted(data.SAMPLE_MODELS.glob("*.onnx"))
left, right = st.columns(2)
model_choice = left.selectbox("ONNX model", [str(m) for m in models] + ["other path…"], key="build.model",
                              format_func=lambda p: Path(p).name if p != "other path…" else p)
onnx = left.text_input("Model path", key="build.model_path") if model_choice == "other path…" else model_choice
version = right.selectbox("TensorRT version", VERSIONS, index=1, key="build.version",
                          help="TensorRT 11 removed weak typing: precision then comes from the ONNX model (Q/DQ, AutoCast).")
trt11 = version.startswith("11")

st.subheader("Precision")
if trt11:
    st.caption("TensorRT 11 builds every network strongly typed: quantize the ONNX with ModelOpt (Q/DQ) or AutoCast "
               "to get INT8/FP8/FP16 layers. Only TF32 remains a build switch.")
cols = st.columns(len(PRECISIONS) + 1)
chosen = tuple(flag for (flag, label), col in zip(PRECISIONS, cols) if col.checkbox(label, key=f"build.{flag}", disabled=trt11))
tf32 = cols[-1].checkbox("TF32", value=True, key="build.tf32", help="On by default on Ampere and newer; off gives a true FP32 baseline.")
c1, c2, c3 = st.columns(3)
calib = c1.text_input("INT8 calibration cache", key="build.calib", disabled=trt11 or "int8" not in chosen,
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
    chosen, calib, strongly, constraints, overrides = (), "", False, "none", {}
request = BuildRequest(onnx=onnx or "model.onnx", tensorrt_version=version, precisions=chosen, tf32=tf32,
                       calibration_cache=calib or None, strongly_typed=strongly, precision_constraints=constraints,
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
    st.markdown("**trtexec command** (exports layer info, profile, times and log under one name, ready to import):")
    argv = [shlex.quote(a) for a in trtexec_argv(request, out_dir, stem)]
    st.code(f"mkdir -p {out_dir}\n" + " \\\n    ".join(argv) + f" \\\n    2>&1 | tee {out_dir / (stem + '.log')}",
            language="bash")
    if st.button("Run build", type="primary", key="build.run", disabled=trtexec is None,
                 help=None if trtexec else "Needs trtexec (TensorRT) on this machine."):
        with st.status(f"Building {stem} with {trtexec}…", expanded=True) as status:
            try:
                files = build_with_trtexec(request, Path(tempfile.mkdtemp(prefix="layerlens-build-")), stem, trtexec)
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
