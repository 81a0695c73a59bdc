"""Run engine builds out of process, with progress and a way to cancel.

The builds of one call share a worker (:mod:`engine_core.build.worker`): the
builder binding, onnx and onnxruntime load once, not once per variant. Each build
writes into its own fresh staging folder; only a finished build's files are
handed back, so a crash, a cancel or an error never leaves half an engine where
the store could pick it up. A crash fails the build it interrupted, and the
builds after it go on in a new worker.
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
from typing import Callable, Iterator

from engine_core.build.engine_request import EngineBuildRequest
from engine_core.build.worker import ERROR, PROGRESS, RESULT
from engine_core.errors import BuildError, LayerLensError

ProgressFn = Callable[[str, str], None]
StemProgressFn = Callable[[str, str, str], None]   # (request stem, stage, detail)


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
    ((_, built),) = run_engine_builds([request], lambda stem, stage, detail: on_progress(stage, detail), cancel,
                                      timeout_s)
    if isinstance(built, LayerLensError):
        raise built
    return built


def run_engine_builds(requests: list[EngineBuildRequest],
                      on_progress: StemProgressFn = lambda stem, stage, detail: None,
                      cancel: threading.Event | None = None,
                      timeout_s: float = 3600) -> Iterator[tuple[EngineBuildRequest, BuiltEngine | LayerLensError]]:
    """Build ``requests`` one after another in one child process; yields ``(request, BuiltEngine)`` as each finishes,
    or ``(request, error)`` for one that failed, crashed, timed out (``timeout_s`` for the whole worker) or was
    cancelled (a BuildError with the log tail; a LayerLensError when the backend is not installed or the request or
    its calibration data is invalid). After a cancel, nothing more is built or yielded. Close the iterator (or run
    it to its end) to take the worker down when leaving early.
    """
    pending = list(requests)
    while pending:
        settled = yield from _one_worker(pending, on_progress, cancel, timeout_s)
        pending = pending[settled:]


def _one_worker(requests: list[EngineBuildRequest], on_progress: StemProgressFn, cancel: threading.Event | None,
                timeout_s: float):
    """One worker process over ``requests``; yields as :func:`run_engine_builds`, returns how many it settled (all,
    or up to and including the one a crash interrupted, or all after a cancel)."""
    stagings = [Path(tempfile.mkdtemp(prefix="layerlens-build-")) for _ in requests]
    argv = []
    for request, staging in zip(requests, stagings):
        (staging / "request.json").write_text(request.to_json())
        argv += [str(staging / "request.json"), str(staging / "out")]
    # stderr goes to a file: a pipe nobody reads while the builds run could fill and stall the worker.
    with tempfile.TemporaryFile("w+") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "engine_core.build.worker", *argv], stdout=subprocess.PIPE,
                                stderr=stderr, text=True, cwd=Path(__file__).resolve().parents[2])
        watchdog = threading.Timer(timeout_s, proc.kill)
        watchdog.start()
        stopped = threading.Event()
        if cancel is not None:
            threading.Thread(target=_terminate_on_cancel, args=(proc, cancel, stopped), daemon=True).start()
        done = 0
        try:
            for line in proc.stdout:
                tag, _, payload = line.rstrip("\n").partition(" ")
                request = requests[min(done, len(requests) - 1)]
                if tag == PROGRESS:
                    step = json.loads(payload)
                    on_progress(request.stem, step["stage"], step.get("detail", ""))
                elif tag in (RESULT, ERROR):
                    done += 1
                    if tag == RESULT:
                        result = json.loads(payload)
                        on_progress(request.stem, "done", request.stem)
                        yield request, BuiltEngine(stagings[done - 1], [Path(f) for f in result["files"]],
                                                   result["recipe"])
                    else:
                        shutil.rmtree(stagings[done - 1], ignore_errors=True)
                        yield request, _error_from(json.loads(payload))
                    if cancel is not None and cancel.is_set():
                        proc.kill()
                        proc.wait()
                        return len(requests)
            code = proc.wait()
            stderr.seek(0)
            tail = "\n".join(stderr.read().strip().splitlines()[-15:])
        except BaseException:  # the caller went away (Ctrl+C, a Streamlit rerun, a closed iterator): no orphan
            proc.kill()
            proc.wait()
            raise
        finally:
            watchdog.cancel()
            stopped.set()
            for staging in stagings[done:]:
                shutil.rmtree(staging, ignore_errors=True)
    if done == len(requests):
        return done
    request = requests[done]
    if cancel is not None and cancel.is_set():
        yield request, BuildError(f"Build of {request.stem} was cancelled.", "", "Start it again when you are ready.")
        return len(requests)
    yield request, BuildError(f"The builder process for {request.stem} crashed (exit status {code}).", tail,
                              "The dashboard and CLI are unaffected; the tail above is the builder's last output. "
                              "Report it with the model if it repeats.")
    return done + 1


def _terminate_on_cancel(proc: subprocess.Popen, cancel: threading.Event, stopped: threading.Event) -> None:
    while not stopped.is_set():
        if cancel.wait(0.2):
            if proc.poll() is None:
                proc.terminate()
            return


def _error_from(error: dict) -> LayerLensError:
    """The worker's error as the same one-line LayerLens error (a BuildError keeps its log tail)."""
    if error["kind"] == "BuildError":
        return BuildError(error["what"], error.get("log_tail", ""), error.get("fix", ""))
    return LayerLensError(error["what"], error.get("fix", ""))
