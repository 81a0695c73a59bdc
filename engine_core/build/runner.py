"""Run one engine build out of process, with progress and a way to cancel.

The worker (:mod:`engine_core.build.worker`) writes into a fresh staging folder;
only a finished build's files are returned, so a crash, a cancel or an error
never leaves half an engine where the store could pick it up.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine_core.build.engine_request import EngineBuildRequest
from engine_core.build.worker import ERROR, PROGRESS, RESULT
from engine_core.errors import BuildError, LayerLensError

ProgressFn = Callable[[str, str], None]


@dataclass
class BuiltEngine:
    folder: Path                 # staging folder holding the artifacts (caller moves or deletes it)
    files: list[Path]
    recipe: dict


def run_engine_build(request: EngineBuildRequest, on_progress: ProgressFn = lambda stage, detail: None,
                     cancel: threading.Event | None = None, timeout_s: float = 3600) -> BuiltEngine:
    """Build in a child process; returns the staging folder and its artifacts.

    Raises:
        BuildError: the build failed, crashed, timed out or was cancelled (with the log tail).
        LayerLensError: the backend is not installed, or the request or the calibration data is invalid.
    """
    staging = Path(tempfile.mkdtemp(prefix="layerlens-build-"))
    (staging / "request.json").write_text(request.to_json())
    out = staging / "out"
    proc = subprocess.Popen([sys.executable, "-m", "engine_core.build.worker", str(staging / "request.json"), str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    watchdog = threading.Timer(timeout_s, proc.kill)
    watchdog.start()
    finished = threading.Event()
    if cancel is not None:
        threading.Thread(target=_terminate_on_cancel, args=(proc, cancel, finished), daemon=True).start()
    result = error = None
    try:
        for line in proc.stdout:
            tag, _, payload = line.rstrip("\n").partition(" ")
            if tag == PROGRESS:
                step = json.loads(payload)
                on_progress(step["stage"], step.get("detail", ""))
            elif tag == RESULT:
                result = json.loads(payload)
            elif tag == ERROR:
                error = json.loads(payload)
        stderr = proc.stderr.read()
        code = proc.wait()
        cancelled = cancel is not None and cancel.is_set()
    except BaseException:  # the caller went away (Ctrl+C, a Streamlit rerun): no orphaned builder
        proc.kill()
        proc.wait()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        watchdog.cancel()
        finished.set()
    if code == 0 and result is not None:
        on_progress("done", request.stem)
        return BuiltEngine(staging, [Path(f) for f in result["files"]], result["recipe"])
    shutil.rmtree(staging, ignore_errors=True)
    if error is not None:
        raise _error_from(error)
    if cancelled:
        raise BuildError(f"Build of {request.stem} was cancelled.", "", "Start it again when you are ready.")
    tail = "\n".join(stderr.strip().splitlines()[-15:])
    raise BuildError(f"The builder process for {request.stem} crashed (exit status {code}).", tail,
                     "The dashboard and CLI are unaffected; the tail above is the builder's last output. "
                     "Report it with the model if it repeats.")


def _terminate_on_cancel(proc: subprocess.Popen, cancel: threading.Event, finished: threading.Event) -> None:
    while not finished.is_set():
        if cancel.wait(0.2):
            if proc.poll() is None:
                proc.terminate()
            return


def _error_from(error: dict) -> LayerLensError:
    """The worker's error as the same one-line LayerLens error (a BuildError keeps its log tail)."""
    if error["kind"] == "BuildError":
        return BuildError(error["what"], error.get("log_tail", ""), error.get("fix", ""))
    return LayerLensError(error["what"], error.get("fix", ""))
