"""Regenerate tests/data/golden/ (see tests/golden.py) after an intentional change of CLI output.

Run: python tests/tools/make_goldens.py    (from the repo root; review `git diff tests/data/golden` before committing)

With ``--builds`` it also makes real TensorRT-RTX builds of every sample model (a few minutes on two cores) and
rewrites their goldens (tests/data/golden/builds); without it, those are left as they are.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS.parent), str(TESTS)]

from golden import (BUILD_COMPARISON, BUILDER, BUILDS, GOLDEN, build_comparison_folder,  # noqa: E402
                    build_comparison_outputs, build_folder, build_outputs, calib_folder, calib_output, calib_sets,
                    compare_folder, compare_outputs, compare_sets, engine_folder, engine_outputs, golden_files,
                    golden_keys, sample_build_plan)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--builds", action="store_true", help="also build every sample model and rewrite its goldens")
    args = parser.parse_args()
    for path in GOLDEN.iterdir() if GOLDEN.is_dir() else ():
        if path != BUILDS:
            shutil.rmtree(path)
    if args.builds:
        shutil.rmtree(BUILDS, ignore_errors=True)
        write_build_goldens()
    written = 0
    jobs = [(engine_folder(k), lambda k=k: engine_outputs(k)) for k in golden_keys()]
    jobs += [(compare_folder(s), lambda s=s: compare_outputs(s)) for s in compare_sets()]
    jobs += [(calib_folder(s), lambda s=s: calib_output(s)) for s in calib_sets()]
    for folder, make in jobs:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in golden_files(make()).items():
            (folder / name).write_text(text)
            written += 1
    print(f"wrote {written} golden files for {len(golden_keys())} engines, {len(compare_sets())} comparisons and "
          f"{len(calib_sets())} calibration cache sets "
          f"under {GOLDEN.relative_to(TESTS.parent)}")
    return 0


def write_build_goldens() -> None:
    """Build every sample model as the suite does (no accuracy: the goldens leave it out) into a temporary store."""
    from engine_core.build.matrix import build_matrix
    from engine_core.models.zoo import sample_model_path
    from engine_core.store import RunStore

    builds = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "runs")
        for model, variant, targets in sample_build_plan():
            result = build_matrix(sample_model_path(model), [variant], targets=targets, store=store, accuracy=False)
            if result.failures:
                raise SystemExit(f"{model} {variant}: {result.failures[0].error}")
            engine = store.load(result.results[0].run_id)  # as the suite reads its builds
            builds[(model, engine.recipe)] = engine
            folder = build_folder(model, engine.recipe)
            folder.mkdir(parents=True, exist_ok=True)
            for name, text in golden_files(build_outputs(engine)).items():
                (folder / name).write_text(text)
            print(f"built and kept {model} {engine.recipe}", flush=True)
        for model in sorted({model for model, _ in builds}):
            folder = build_comparison_folder(model)
            folder.mkdir(parents=True, exist_ok=True)
            outputs = build_comparison_outputs([builds[(model, recipe)] for recipe in BUILD_COMPARISON])
            for name, text in golden_files(outputs).items():
                (folder / name).write_text(text)
        (builders,) = {engine.builder for engine in builds.values()}
        BUILDER.write_text(builders + "\n")


if __name__ == "__main__":
    sys.exit(main())
