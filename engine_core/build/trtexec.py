"""The trtexec build: a pure command-line builder and an out-of-process runner.

The command exports exactly the files the importers read, named by one stem so
that discovery groups them: ``<stem>.graph.json`` (``--exportLayerInfo`` with
``--profilingVerbosity=detailed``), ``<stem>.profile.json`` (``--exportProfile``,
measured in a separate run so end-to-end times stay clean), ``<stem>.timing.json``
(``--exportTimes``) and the console log ``<stem>.log``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from engine_core.build.request import BuildRequest, check_request
from engine_core.errors import BuildError, LayerLensError, MissingDependencyError

ARTIFACT_SUFFIXES = (".graph.json", ".profile.json", ".timing.json", ".log")
# Where TensorRT containers and tarballs put trtexec when it is not on PATH.
INSTALL_LOCATIONS = ("/usr/src/tensorrt/bin/trtexec", "/opt/tensorrt/bin/trtexec")


def trtexec_argv(request: BuildRequest, out_dir: str | Path, stem: str, trtexec: str = "trtexec") -> list[str]:
    """The trtexec command for ``request`` (pure; no TensorRT or GPU needed).

    Raises:
        LayerLensError: the request is impossible on its TensorRT version.
    """
    errors, _ = check_request(request)
    if errors:
        raise LayerLensError(errors[0], "Change the build options.")
    out = Path(out_dir)
    argv = [trtexec, f"--onnx={request.onnx}", f"--saveEngine={out / (stem + '.engine')}"]
    if not request.is_trt11:
        argv += [f"--{p}" for p in request.precisions]
        if request.calibration_cache:
            argv.append(f"--calib={request.calibration_cache}")
        if request.strongly_typed:
            argv.append("--stronglyTyped")
        if request.precision_constraints != "none":
            argv.append(f"--precisionConstraints={request.precision_constraints}")
        if request.layer_precisions:
            argv.append("--layerPrecisions=" + ",".join(f"{k}:{v}" for k, v in request.layer_precisions.items()))
    if not request.tf32:
        argv.append("--noTF32")
    if request.shapes:
        argv.append(f"--shapes={request.shapes}")
    argv += ["--profilingVerbosity=detailed",
             f"--exportLayerInfo={out / (stem + '.graph.json')}",
             f"--exportProfile={out / (stem + '.profile.json')}",
             f"--exportTimes={out / (stem + '.timing.json')}",
             "--separateProfileRun"]
    argv += [flag for flag, on in (("--useCudaGraph", request.use_cuda_graph), ("--useSpinWait", request.use_spin_wait),
                                   ("--noDataTransfers", request.no_data_transfers)) if on]
    return argv + list(request.extra_args)


def find_trtexec() -> str | None:
    """trtexec on PATH, or in the usual TensorRT install folders."""
    found = shutil.which("trtexec")
    if found:
        return found
    for candidate in INSTALL_LOCATIONS:
        if Path(candidate).is_file():
            return candidate
    return None


def build_with_trtexec(request: BuildRequest, out_dir: str | Path, stem: str, trtexec: str | None = None,
                       timeout_s: float = 3600) -> list[Path]:
    """Run trtexec out of process; returns the artifact files it wrote (log included).

    Raises:
        MissingDependencyError: no trtexec (no TensorRT on this machine).
        BuildError: trtexec failed; the message carries the log's last lines.
    """
    exe = trtexec or find_trtexec()
    if exe is None:
        raise MissingDependencyError("trtexec", "build engines",
                                     "TensorRT from NVIDIA (it ships trtexec), or run the printed command on a GPU "
                                     "machine and import the artifacts with `layerlens import`")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    argv = trtexec_argv(request, out, stem, exe)
    log_path = out / f"{stem}.log"
    with open(log_path, "w") as log:
        try:
            code = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, timeout=timeout_s).returncode
        except subprocess.TimeoutExpired:
            code = -1
        except OSError as exc:
            raise BuildError(f"trtexec could not start ({exc.strerror}).", fix=f"Check {exe}.") from None
    tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
    if code != 0:
        raise BuildError(f"trtexec exited with status {code}; see {log_path}.", tail,
                         "Read the log tail; the most common causes are an unsupported ONNX op or out-of-memory.")
    return [p for p in (out / (stem + s) for s in ARTIFACT_SUFFIXES) if p.is_file()]
