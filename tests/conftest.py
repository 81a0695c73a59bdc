"""Shared test paths: the real TensorRT outputs in ../shared/fixtures and our own tests/data."""

from __future__ import annotations

import collections
import contextlib
import json
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


def store_of_every_fixture(root):
    """A run store at ``root`` holding every engine of ENGINE_FOLDERS and DATA_FOLDERS (importing writes each
    run's engine cache); a fresh one per test module that changes what is stored."""
    return store_of(root, ENGINE_FOLDERS + DATA_FOLDERS)


def store_of(root, folders: list[Path]):
    """A run store at ``root`` holding every engine of ``folders``, each imported as `layerlens import` does."""
    from engine_core.discover import load_engines
    from engine_core.store import RunStore

    store = RunStore(root)
    for engine in load_engines(folders)[0]:
        store.add(engine)
    return store


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


def run_temp(tmp_path_factory) -> Path:
    """This run's temporary folder. Under pytest-xdist (``make test`` runs two workers) each worker's base folder
    is a subfolder of it, so what is put here is shared by the workers."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextlib.contextmanager
def exclusive(lock: Path, wait: bool = True):
    """Hold an exclusive lock on the file ``lock`` across pytest-xdist workers; yields False, holding nothing, when
    ``wait`` is off and another worker holds it."""
    import fcntl

    with open(lock, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def collector_back_on():
    """The CLI turns Python's cyclic collector off for the rest of its process (layerlens.cli.main.settle): a test
    that runs it in-process must not leave it off for the tests after it in the same worker."""
    import gc

    was_on = gc.isenabled()
    yield
    if was_on:
        gc.enable()


@pytest.fixture(scope="session", autouse=True)
def layerlens_caches(tmp_path_factory):
    """Sample models and the recipe cache in the run's temporary folder, shared by the workers, for this process,
    the build workers and the dashboards the tests start: nothing a test does writes into ``~/.layerlens`` (the
    Models page and every build generate sample models and recipes on first use; both are written atomically).
    A test that needs an empty cache sets its own."""
    root = run_temp(tmp_path_factory) / "rtx"
    root.mkdir(exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LAYERLENS_MODELS", str(root / "models"))
        patch.setenv("LAYERLENS_RECIPES", str(root / "recipes"))
        yield root


@pytest.fixture(scope="session")
def rtx_env(layerlens_caches):
    """The folder the real builds' stores live in, beside the session's models and recipe cache (asking for it
    marks a test ``build``)."""
    return layerlens_caches


def build_once(store_root: Path, builds: list[tuple], accuracy: bool = True) -> dict:
    """Real TensorRT-RTX builds, each made once per test run: ``builds`` are ``(model, Variant, targets)``;
    returns ``{(model, recipe): Engine}`` loaded from the store at ``store_root``. ``accuracy`` measures each
    recipe's output error with onnxruntime (build_matrix's own default; several times the build's cost).

    The variants of one model and targets are one build matrix (one worker process loads the builder, onnx and
    onnxruntime once for all of them). Workers share the store: each matrix is made by the first worker that takes
    its lock. A worker first makes every matrix no other worker is making, then waits for the others' (so two
    workers that need the same builds make about half each, in parallel).
    """
    from engine_core.build.matrix import build_matrix
    from engine_core.models.zoo import sample_model_path
    from engine_core.store import RunStore

    store, made = RunStore(store_root), store_root.parent / f"{store_root.name}-made"
    made.mkdir(exist_ok=True)
    matrices = collections.defaultdict(list)  # (model, targets) -> variants, in the order asked
    for model, variant, targets in builds:
        matrices[(model, tuple(targets))].append(variant)

    def record(model, variant, targets) -> Path:
        return made / ("-".join((model, variant.precision, variant.placement, *targets)) + ".json")

    def make(model, targets, variants) -> list[dict]:
        missing = [v for v in variants if not record(model, v, targets).exists()]
        if missing:
            result = build_matrix(sample_model_path(model), missing, targets=targets, store=store, accuracy=accuracy)
            assert not result.failures, [f.error for f in result.failures]
            for variant, built in zip(missing, result.results):
                record(model, variant, targets).write_text(json.dumps({"recipe": built.engine.recipe,
                                                                       "run_id": built.run_id}))
        return [json.loads(record(model, v, targets).read_text()) for v in variants]

    def lock(model, targets) -> Path:
        return made / ("-".join((model, *targets)) + ".lock")

    found, theirs = [], []
    for (model, targets), variants in matrices.items():
        with exclusive(lock(model, targets), wait=False) as mine:
            if mine:
                found += [(model, m) for m in make(model, targets, variants)]
            else:
                theirs.append((model, targets, variants))
    for model, targets, variants in theirs:
        with exclusive(lock(model, targets)):
            found += [(model, m) for m in make(model, targets, variants)]
    return {(model, made["recipe"]): store.load(made["run_id"]) for model, made in found}


def rtx_build_plan() -> list[tuple]:
    """``(model, Variant, targets)`` of :func:`rtx_builds`: each of RTX_MODELS in every recipe."""
    from engine_core.build.matrix import Variant

    plain = [Variant("fp32"), Variant("fp16"), Variant("bf16"), Variant("int8", "ort"), Variant("int8", "tensorrt")]
    builds = [(model, variant, ()) for model in RTX_MODELS for variant in plain]
    return builds + [(model, Variant("fp8", "tensorrt"), ("sm89",)) for model in RTX_MODELS]  # FP8 needs SM89+


@pytest.fixture(scope="session")
def rtx_builds(rtx_env):
    """Real TensorRT-RTX builds of every sample model in every recipe: ``{(model, recipe): Engine}``."""
    engines = build_once(rtx_env / "runs", rtx_build_plan())
    assert set(engines) == {(m, r) for m in RTX_MODELS for r in RTX_RECIPES}
    return engines


@pytest.fixture(scope="session")
def rtx_store(rtx_builds, rtx_env):
    from engine_core.store import RunStore

    return RunStore(rtx_env / "runs")


#: The recipes every sample model is built in for the byte-accounting tests (tests/test_bytes.py).
ZOO_RECIPES = ("fp32", "fp16", "int8-ort-uncalibrated", "int8-tensorrt-uncalibrated")


def zoo_build_plan() -> list[tuple]:
    """``(model, Variant, targets)`` of the builds :func:`rtx_zoo_builds` makes: the float sample models that
    :func:`rtx_builds` does not build, in :data:`ZOO_RECIPES`."""
    from engine_core.build.matrix import Variant
    from engine_core.models.zoo import FLOAT_ZOO

    variants = [Variant("fp32"), Variant("fp16"), Variant("int8", "ort"), Variant("int8", "tensorrt")]
    return [(model, variant, ()) for model in FLOAT_ZOO if model not in RTX_MODELS for variant in variants]


@pytest.fixture(scope="session")
def rtx_zoo_builds(rtx_builds, rtx_env):
    """Real TensorRT-RTX builds of every float sample model in fp32, fp16 and int8 with both Q/DQ placements:
    ``{(model, recipe): Engine}``; the models :func:`rtx_builds` already built are taken from it.

    Built without measuring accuracy: these builds answer where the bytes go (tests/test_bytes.py, the Size
    page), and the accuracy tests read :func:`rtx_builds`' measurements; measuring 20 more would cost more
    than the builds themselves."""
    from engine_core.models.zoo import FLOAT_ZOO

    engines = {key: engine for key, engine in rtx_builds.items() if key[1] in ZOO_RECIPES}
    engines.update(build_once(rtx_env / "zoo-runs", zoo_build_plan(), accuracy=False))
    assert set(engines) == {(m, r) for m in FLOAT_ZOO for r in ZOO_RECIPES}
    return engines


# -- the suite's time budget (`make test` must finish in minutes on two cores) ---------------------------------
#: Seconds per kind of test, setup included, summed over the workers, on a quiet 2-core machine. Printed at the end
#: of every run, never a failure: a timed unit test is a flaky test on a shared machine. `make bench` times the
#: product. Together they are the issue's 10 minutes on two workers, less 50 s of collection and imbalance (a clean
#: clone measured browser 233 s, build 389 s, other 360 s: 514 s of pytest).
TIME_BUDGET_S = {"browser": 280, "build": 430, "other": 440}
_spent = dict.fromkeys(TIME_BUDGET_S, 0.0)


#: Files of a few tests that take a minute or more (the install test builds the demo from an empty HOME). xdist's
#: loadfile hands out files by their number of tests, most first, so these came last and left one worker running them
#: alone; `make test` starts them first (``--no-loadscope-reorder`` and the order below).
START_FIRST = ("test_install.py",)


def pytest_collection_modifyitems(items):
    """Mark tests that need real TensorRT-RTX builds (the session's rtx_* fixtures) as ``build``; order the files
    as xdist would (most tests first), after :data:`START_FIRST`."""
    for item in items:
        if {"rtx_builds", "rtx_store", "rtx_env"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.build)
    count = collections.Counter(item.path for item in items)
    items.sort(key=lambda item: (item.path.name not in START_FIRST, -count[item.path]))  # stable within a file


def pytest_runtest_logreport(report):
    kind = "browser" if "browser" in report.keywords else "build" if "build" in report.keywords else "other"
    _spent[kind] += report.duration


def pytest_terminal_summary(terminalreporter, config):
    if ARTIFACTS_KEY in config.stash:
        terminalreporter.write_line(f"browser screenshots and server logs: {config.stash[ARTIFACTS_KEY]}")
    elif config.pluginmanager.hasplugin("dsession"):  # pytest-xdist: the workers wrote into the run's folder
        folder = Path(os.environ.get("LAYERLENS_TEST_ARTIFACTS") or config._tmp_path_factory.getbasetemp() / "artifacts")
        if folder.is_dir():
            terminalreporter.write_line(f"browser screenshots and server logs: {folder.resolve()}")
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
    folder = Path(chosen).resolve() if chosen else run_temp(tmp_path_factory) / "artifacts"  # one for every worker
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
