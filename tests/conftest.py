"""Shared test paths: the real TensorRT outputs in ../shared/fixtures and our own tests/data."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
FIXTURES = REPO.parent / "shared" / "fixtures"

if not FIXTURES.is_dir():  # CI lays ../shared beside the checkout; a missing one is a setup error
    raise RuntimeError(f"Real TensorRT fixtures not found at {FIXTURES}: clone LayerLens beside shared/.")

# Hypothesis keeps its example database and constants cache in ./.hypothesis, the source tree. Keep them in the
# temporary folder instead, across runs (a failing example still replays first), unless the user chose a folder.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "layerlens-hypothesis"))


#: Every folder of real engines (../shared) and of our own engine fixtures (tests/data, minus the bad inputs
#: and the golden outputs of tests/test_golden_outputs.py).
ENGINE_FOLDERS = [FIXTURES / d for d in ("trex-rtx3090", "trex-mobilenet", "rtx3060-trt10", "h100-trt10-logs")]
DATA_FOLDERS = [p for p in sorted(DATA.iterdir()) if p.is_dir() and p.name not in ("bad", "golden")]


def engine_names() -> list[str]:
    """Every engine found under ENGINE_FOLDERS and DATA_FOLDERS: a new fixture joins parametrized tests by itself."""
    from engine_core.discover import discover

    return sorted(discover(ENGINE_FOLDERS + DATA_FOLDERS).engine_names)


def engine_shape(engine) -> tuple:
    """What decides the paths compare, diagnose and the pages take through an engine: where its layers came
    from, what was timed (per layer, end to end, or nothing: an estimate), who built it with which recipe,
    names-only layers, a calibration cache, the build flags. Two engines of one shape exercise the same code,
    so pair tests pair shapes, not every engine with every engine."""
    layers = engine.layers
    names_only = bool(len(layers)) and bool(layers["layer_type"].isna().all())
    return (engine.layer_source, engine.per_layer_sum_ms is not None, engine.gpu_compute is not None, engine.is_rtx,
            engine.recipe, names_only, engine.calibration is not None, engine.build_precision)


@pytest.fixture(scope="session")
def all_engines():
    """``{name: Engine}`` for every engine of :func:`engine_names`."""
    from engine_core.discover import load_engines

    engines, _ = load_engines(ENGINE_FOLDERS + DATA_FOLDERS)
    return {e.name: e for e in engines}


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def data() -> Path:
    return DATA


def load_one(*paths):
    """Load the single engine found under ``paths``."""
    from engine_core.discover import load_engines

    engines, _ = load_engines([str(p) for p in paths])
    assert len(engines) == 1, [e.name for e in engines]
    return engines[0]


#: Every recipe of the sample models the real-builds tests build (FP8 needs an SM89+ target).
RTX_MODELS = ("tiny_cnn", "resnet18")
RTX_RECIPES = ("fp32", "fp16", "bf16", "int8-ort-uncalibrated", "int8-tensorrt-uncalibrated",
               "fp8-tensorrt-uncalibrated")


@pytest.fixture(scope="session")
def rtx_env(tmp_path_factory):
    """Models, recipe cache and store in temporary folders, for this process and the build workers."""
    import os

    root = tmp_path_factory.mktemp("rtx")
    env = {"LAYERLENS_MODELS": str(root / "models"), "LAYERLENS_RECIPES": str(root / "recipes")}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield root
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def rtx_builds(rtx_env):
    """Real TensorRT-RTX builds of every sample model in every recipe: ``{(model, recipe): Engine}``."""
    from engine_core.build.matrix import Variant, build_matrix
    from engine_core.models.zoo import sample_model_path
    from engine_core.store import RunStore

    store = RunStore(rtx_env / "runs")
    engines = {}
    for model in RTX_MODELS:
        path = sample_model_path(model)
        plain = [Variant("fp32"), Variant("fp16"), Variant("bf16"), Variant("int8", "ort"), Variant("int8", "tensorrt")]
        for variants, targets in ((plain, ()), ([Variant("fp8", "tensorrt")], ("sm89",))):
            result = build_matrix(path, variants, targets=targets, store=store)
            assert not result.failures, [f.error for f in result.failures]
            for item in result.results:
                engines[(model, item.engine.recipe)] = item.engine
    assert set(engines) == {(m, r) for m in RTX_MODELS for r in RTX_RECIPES}
    return engines


@pytest.fixture(scope="session")
def rtx_store(rtx_builds, rtx_env):
    from engine_core.store import RunStore

    return RunStore(rtx_env / "runs")


#: The recipes every sample model is built in for the byte-accounting tests (tests/test_bytes.py).
ZOO_RECIPES = ("fp32", "fp16", "int8-ort-uncalibrated", "int8-tensorrt-uncalibrated")


@pytest.fixture(scope="session")
def rtx_zoo_builds(rtx_builds, rtx_env):
    """Real TensorRT-RTX builds of every float sample model in fp32, fp16 and int8 with both Q/DQ placements:
    ``{(model, recipe): Engine}``; the models :func:`rtx_builds` already built are taken from it."""
    from engine_core.build.matrix import Variant, build_matrix
    from engine_core.models.zoo import FLOAT_ZOO, sample_model_path
    from engine_core.store import RunStore

    store = RunStore(rtx_env / "zoo-runs")
    engines = {key: engine for key, engine in rtx_builds.items() if key[1] in ZOO_RECIPES}
    variants = [Variant("fp32"), Variant("fp16"), Variant("int8", "ort"), Variant("int8", "tensorrt")]
    for model in [m for m in FLOAT_ZOO if m not in RTX_MODELS]:
        result = build_matrix(sample_model_path(model), variants, store=store)
        assert not result.failures, [f.error for f in result.failures]
        engines.update({(model, item.engine.recipe): item.engine for item in result.results})
    assert set(engines) == {(m, r) for m in FLOAT_ZOO for r in ZOO_RECIPES}
    return engines


# -- the suite's time budget (`make test` must finish in minutes on two cores) ---------------------------------
#: Seconds per kind of test, setup included, on a quiet 2-core machine. Printed at the end of every run,
#: never a failure: a timed unit test is a flaky test on a shared machine. `make bench` times the product.
TIME_BUDGET_S = {"browser": 200, "build": 200, "other": 150}
_spent = dict.fromkeys(TIME_BUDGET_S, 0.0)


def pytest_collection_modifyitems(items):
    """Mark tests that need real TensorRT-RTX builds (the session's rtx_* fixtures) as ``build``."""
    for item in items:
        if {"rtx_builds", "rtx_store", "rtx_env"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.build)


def pytest_runtest_logreport(report):
    kind = "browser" if "browser" in report.keywords else "build" if "build" in report.keywords else "other"
    _spent[kind] += report.duration


def pytest_terminal_summary(terminalreporter, config):
    if ARTIFACTS_KEY in config.stash:
        terminalreporter.write_line(f"browser screenshots and server logs: {config.stash[ARTIFACTS_KEY]}")
    if not any(_spent.values()):
        return
    parts = [f"{kind} {spent:.0f} s (budget {TIME_BUDGET_S[kind]} s{', OVER' if spent > TIME_BUDGET_S[kind] else ''})"
             for kind, spent in _spent.items() if spent]
    terminalreporter.write_line("time by kind of test: " + "; ".join(parts))


# -- what a person looks at after a run -------------------------------------------------------------------------
ARTIFACTS_KEY = pytest.StashKey[Path]()


@pytest.fixture(scope="session")
def artifacts(request, tmp_path_factory) -> Path:
    """The folder for screenshots and server logs: ``$LAYERLENS_TEST_ARTIFACTS``, else a temporary one."""
    chosen = os.environ.get("LAYERLENS_TEST_ARTIFACTS")
    folder = Path(chosen).resolve() if chosen else tmp_path_factory.mktemp("artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    request.config.stash[ARTIFACTS_KEY] = folder
    return folder


@pytest.fixture
def screenshot(artifacts):
    """``screenshot(page, name)``: a full-page PNG into the artifacts folder, for a person to look at."""
    def take(page, name: str) -> Path:
        path = artifacts / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
