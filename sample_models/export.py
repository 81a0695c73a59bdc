"""Write LayerLens's sample models into this folder as ONNX files, to open in Netron, trtexec or your own tools.

LayerLens itself never reads this folder: ``engine_core.models.zoo`` generates every
sample model on first use into the models cache (``~/.layerlens/models`` or
``$LAYERLENS_MODELS``), so an installed wheel has the same samples as a checkout.
The files written here are generated (deterministic, seeded weights) and not committed.

Usage: python sample_models/export.py [NAME ...]     (default: every sample model)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    from engine_core.models.zoo import ZOO, sample_model_path

    unknown = [n for n in names if n not in ZOO]
    if unknown:
        print(f"unknown sample model(s): {', '.join(unknown)}; choose from {', '.join(ZOO)}", file=sys.stderr)
        return 1
    for name in names or list(ZOO):
        target = HERE / f"{name}.onnx"
        shutil.copyfile(sample_model_path(name), target)
        print(f"wrote {target.relative_to(Path.cwd()) if target.is_relative_to(Path.cwd()) else target}"
              f"  ({target.stat().st_size / 2**20:.2f} MiB): {ZOO[name].description}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing
    sys.exit(main(sys.argv[1:]))
