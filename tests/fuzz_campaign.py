"""`make fuzz`: a campaign of mutated real artifacts against every importer, with a fixed seed and a time budget.

    python tests/fuzz_campaign.py [--inputs 10000] [--seconds 600] [--seed 20261125]

For each importer it feeds ``--inputs`` mutations of its real seed files (tests/fuzzing.py) through the
whole import path and counts the outcomes: read, refused with a LayerLens error, crashed (any other
exception) or hung (over 10 s on one input). Crashing inputs are saved outside the source tree (``--crashes``,
default ``$LAYERLENS_TEST_ARTIFACTS/fuzz-crashes``, else ``layerlens-fuzz-crashes`` in the temporary folder); one that reveals a bug becomes a
regression test by moving it to ``tests/data/bad/fuzz/`` with the fix (``tests/test_importers_properties.py``
reads every file there). Exit status 1 when anything crashed, or when the budget ran out before the target count.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from fuzzing import SEEDS, import_bytes, mutate  # noqa: E402

from engine_core.errors import LayerLensError  # noqa: E402

HANG_SECONDS = 10  # one input taking this long is a hang (catastrophic backtracking, a loop), saved like a crash


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


def default_crash_folder() -> Path:
    """``$LAYERLENS_TEST_ARTIFACTS/fuzz-crashes``, else one in the temporary folder: never the source tree."""
    chosen = os.environ.get("LAYERLENS_TEST_ARTIFACTS")
    return Path(chosen or tempfile.gettempdir()) / ("fuzz-crashes" if chosen else "layerlens-fuzz-crashes")


def fuzz_importer(name: str, inputs: int, deadline: float, rng: random.Random, scratch: Path,
                  crashes: Path) -> collections.Counter:
    kind, seeds = SEEDS[name]
    blobs = [s.read_bytes() for s in seeds]
    counts: collections.Counter = collections.Counter()
    for i in range(inputs):
        if time.monotonic() > deadline:
            counts["unfinished"] = inputs - i
            break
        data = mutate(blobs[rng.randrange(len(blobs))], rng)
        signal.alarm(HANG_SECONDS)
        try:
            import_bytes(kind, data, scratch / f"{name}.input")
            counts["read"] += 1
        except _Hang:
            counts["hung"] += 1
            crashes.mkdir(parents=True, exist_ok=True)
            (crashes / f"{name}-{i}.hang.bin").write_bytes(data)
            print(f"  HANG {name} #{i}: over {HANG_SECONDS} s on {len(data)} bytes")
        except LayerLensError as exc:
            counts["refused"] += 1
            assert str(exc), "a LayerLens error must say something"
        except Exception as exc:  # noqa: BLE001 - a crash is what the campaign looks for
            counts["crashed"] += 1
            where = traceback.extract_tb(exc.__traceback__)[-1]
            crashes.mkdir(parents=True, exist_ok=True)
            (crashes / f"{name}-{i}.bin").write_bytes(data)
            print(f"  CRASH {name} #{i}: {type(exc).__name__}: {str(exc)[:120]} ({where.filename}:{where.lineno})")
        finally:
            signal.alarm(0)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=10_000, help="mutated inputs per importer (default 10000)")
    parser.add_argument("--seconds", type=float, default=900, help="time budget per importer (default 900)")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--only", choices=sorted(SEEDS), help="fuzz one importer")
    parser.add_argument("--crashes", type=Path, help="folder for crashing inputs (default: $LAYERLENS_TEST_ARTIFACTS/"
                                                     "fuzz-crashes, else layerlens-fuzz-crashes in the temporary folder)")
    args = parser.parse_args(argv)
    crashes = args.crashes or default_crash_folder()
    failed = False
    signal.signal(signal.SIGALRM, _alarm)
    with tempfile.TemporaryDirectory(prefix="layerlens-fuzz-") as tmp:
        for name in [args.only] if args.only else list(SEEDS):
            rng = random.Random(f"{args.seed}-{name}")
            start = time.monotonic()
            counts = fuzz_importer(name, args.inputs, start + args.seconds, rng, Path(tmp), crashes)
            took = time.monotonic() - start
            done = counts["read"] + counts["refused"] + counts["crashed"] + counts["hung"]
            print(f"{name:<18} {done:>6} inputs in {took:6.1f} s: read {counts['read']:>6}, refused {counts['refused']:>6}, "
                  f"crashed {counts['crashed']}, hung {counts['hung']}"
                  + (f", UNFINISHED {counts['unfinished']}" if counts["unfinished"] else ""), flush=True)
            failed |= bool(counts["crashed"] or counts["hung"] or counts["unfinished"])
    print("no crashes" if not failed else f"crashes or unfinished importers; crashing inputs in {crashes}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
