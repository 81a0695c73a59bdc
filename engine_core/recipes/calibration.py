"""Calibration batches for the Q/DQ recipes: a user's folder of .npy/.npz files, or synthetic inputs.

A folder holds one batch per file: ``.npz`` archives keyed by model input name,
or, for single-input models, plain ``.npy`` arrays. Every batch is checked
against the model's inputs (names, rank, static dims) before onnxruntime sees
it, so a wrong file is one clear line, not a shape error deep in a session.

Without data a recipe is *uncalibrated*: seeded standard-normal inputs, which
give every tensor some range (like trtexec's synthetic scales, #687) but say
nothing about accuracy. That label follows the run everywhere.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine_core.errors import LayerLensError

SYNTHETIC_BATCHES = 4
MAX_BATCHES = 256


@dataclass(frozen=True)
class ModelInput:
    name: str
    shape: tuple            # ints, or None for a symbolic dim
    dtype: np.dtype


def model_inputs(model) -> list[ModelInput]:
    """The graph inputs that are not initializers, with their static dims."""
    from onnx import helper

    inits = {i.name for i in model.graph.initializer}
    out = []
    for value in model.graph.input:
        if value.name in inits:
            continue
        t = value.type.tensor_type
        dims = tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in t.shape.dim)
        out.append(ModelInput(value.name, dims, np.dtype(helper.tensor_dtype_to_np_dtype(t.elem_type))))
    return out


def synthetic_batches(inputs: list[ModelInput], count: int = SYNTHETIC_BATCHES, seed: int = 0) -> list[dict]:
    """Seeded standard-normal batches (symbolic dims become 1)."""
    rng = np.random.default_rng(seed)
    return [{i.name: rng.standard_normal([d or 1 for d in i.shape]).astype(i.dtype) for i in inputs}
            for _ in range(count)]


def read_calibration_folder(folder: str | Path, inputs: list[ModelInput]) -> tuple[list[dict], str]:
    """Read and check the batches in ``folder``; returns ``(batches, sha256 of the data)``.

    Raises:
        LayerLensError: no batches, an unreadable file, or names/shapes that do not match the model.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise LayerLensError(f"The folder of input batches {folder} does not exist.",
                             "Pass a folder of .npz files keyed by input name (or .npy files for a single-input model).")
    files = sorted(p for p in folder.iterdir() if p.suffix in (".npy", ".npz"))
    if not files:
        raise LayerLensError(f"{folder} holds no .npy or .npz input batches.",
                             "Save one batch per file: np.savez(f'batch{i}.npz', **{input_name: array}).")
    files = files[:MAX_BATCHES]
    digest = hashlib.sha256()
    batches = []
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
        batches.append(_check_batch(path, _load(path, inputs), inputs))
    return batches, digest.hexdigest()


def _load(path: Path, inputs: list[ModelInput]) -> dict:
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                return {k: archive[k] for k in archive.files}
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise LayerLensError(f"{path}: not a readable NumPy file ({exc}).", "Write batches with np.save/np.savez.") from None
    if len(inputs) != 1:
        raise LayerLensError(f"{path}: a .npy batch cannot say which of the model's {len(inputs)} inputs it feeds.",
                             "Use .npz files keyed by input name: " + ", ".join(i.name for i in inputs) + ".")
    return {inputs[0].name: array}


def _check_batch(path: Path, batch: dict, inputs: list[ModelInput]) -> dict:
    expected = {i.name: i for i in inputs}
    unknown = sorted(set(batch) - set(expected))
    missing = sorted(set(expected) - set(batch))
    if unknown or missing:
        raise LayerLensError(
            f"{path}: calibration inputs {unknown or '[]'} do not match the model's inputs "
            f"({', '.join(expected)}); missing {missing or '[]'}.", "Key each .npz array by the model's input name.")
    out = {}
    for name, array in batch.items():
        want = expected[name]
        shape_ok = array.ndim == len(want.shape) and all(w is None or w == a for w, a in zip(want.shape, array.shape))
        if not shape_ok:
            dims = "x".join("?" if d is None else str(d) for d in want.shape)
            raise LayerLensError(f"{path}: input '{name}' has shape {'x'.join(map(str, array.shape))}, "
                                 f"but the model expects {dims}.", "Save batches in the model's input shape.")
        out[name] = np.ascontiguousarray(array, dtype=want.dtype)
    return out


class BatchReader:
    """onnxruntime's ``CalibrationDataReader`` protocol over a list of batches."""

    def __init__(self, batches: list[dict]) -> None:
        self._batches = list(batches)
        self._next = 0

    def get_next(self) -> dict | None:
        if self._next >= len(self._batches):
            return None
        self._next += 1
        return self._batches[self._next - 1]

    def rewind(self) -> None:
        self._next = 0
