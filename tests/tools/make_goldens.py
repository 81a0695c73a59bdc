"""Regenerate tests/data/golden/ (see tests/golden.py) after an intentional change of CLI output.

Run: python tests/tools/make_goldens.py    (from the repo root; review `git diff tests/data/golden` before committing)
"""

import shutil
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS.parent), str(TESTS)]

from golden import (GOLDEN, calib_folder, calib_output, calib_sets, compare_folder, compare_outputs,  # noqa: E402
                    compare_sets, engine_folder, engine_outputs, golden_files, golden_keys)


def main() -> int:
    shutil.rmtree(GOLDEN, ignore_errors=True)
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


if __name__ == "__main__":
    sys.exit(main())
