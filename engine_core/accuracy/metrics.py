"""Error between a reference tensor and a candidate, accumulated batch by batch (never holding all batches).

SQNR is ``10 log10(sum(ref^2) / sum((ref - cand)^2))`` over every element of every batch,
the same ratio as onnxruntime's ``qdq_loss_debug.compute_signal_to_quantization_noice_ratio``,
except that identical tensors are *identical* (``inf``, written as ``null`` plus
``"identical": true`` in JSON) instead of a ratio against machine epsilon, and a
candidate with NaN/Inf values (an FP16 overflow) has no SQNR and says how many.
Pure numpy; no onnxruntime here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def sqnr_db(signal_power: float, noise_power: float) -> float:
    """``10 log10(signal/noise)``; ``inf`` when the noise is zero, ``-inf`` when the signal is (and noise is not)."""
    if noise_power == 0:
        return math.inf
    if signal_power == 0:
        return -math.inf
    return 10.0 * math.log10(signal_power / noise_power)


def relative_noise(sqnr: float | None) -> float:
    """Noise power over signal power, from an SQNR in dB (0 for identical, inf when unknown)."""
    if sqnr is None or math.isnan(sqnr):
        return math.inf
    return 10.0 ** (-sqnr / 10.0)


def finite_or_none(value) -> float | None:
    """A JSON-safe number: ``None`` for NaN, infinities and missing values."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def is_classifier_shaped(shape: tuple) -> bool:
    """``(batch, classes)`` with at least two classes: the outputs a top-1 agreement means something for."""
    return len(shape) == 2 and shape[1] >= 2


@dataclass
class TensorError:
    """Running sums for one tensor pair; :meth:`add` one batch at a time."""

    signal: float = 0.0
    noise: float = 0.0
    max_abs: float = 0.0
    cosine_min: float = math.inf
    top1_agree: int = 0
    samples: int = 0
    elements: int = 0
    nonfinite: int = 0
    classifier: bool | None = None

    def add(self, reference: np.ndarray, candidate: np.ndarray, per_sample: bool = False) -> None:
        """Accumulate one batch (``per_sample`` adds cosine and top-1 over axis 0, for model outputs).

        Raises:
            ValueError: the two tensors differ in shape.
        """
        ref = np.asarray(reference, dtype=np.float64)
        cand = np.asarray(candidate, dtype=np.float64)
        if ref.shape != cand.shape:
            raise ValueError(f"shapes differ: {ref.shape} vs {cand.shape}")
        bad = ~np.isfinite(cand)
        self.nonfinite += int(bad.sum())
        diff = np.where(bad, 0.0, ref - cand)
        self.signal += float(np.sum(ref * ref))
        self.noise += float(np.sum(diff * diff))
        self.elements += ref.size
        if ref.size:
            self.max_abs = max(self.max_abs, float(np.max(np.abs(diff))))
        if not per_sample:
            return
        rows_ref = ref.reshape(ref.shape[0], -1) if ref.ndim else ref.reshape(1, 1)
        rows_cand = np.where(bad, 0.0, cand).reshape(rows_ref.shape)
        norms = np.linalg.norm(rows_ref, axis=1) * np.linalg.norm(rows_cand, axis=1)
        dots = np.sum(rows_ref * rows_cand, axis=1)
        cosine = np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0),
                          np.where(np.all(rows_ref == rows_cand, axis=1), 1.0, 0.0))
        self.cosine_min = min(self.cosine_min, float(cosine.min()))
        self.samples += rows_ref.shape[0]
        classifier = is_classifier_shaped(ref.shape)
        self.classifier = classifier if self.classifier is None else self.classifier and classifier
        if classifier:
            self.top1_agree += int(np.sum(np.argmax(ref, axis=1) == np.argmax(rows_cand, axis=1)))

    @property
    def sqnr(self) -> float:
        """SQNR in dB (``inf`` identical); NaN when the candidate had non-finite values."""
        return math.nan if self.nonfinite else sqnr_db(self.signal, self.noise)

    @property
    def identical(self) -> bool:
        return self.noise == 0 and not self.nonfinite

    @property
    def top1_agreement(self) -> float | None:
        return self.top1_agree / self.samples if self.classifier and self.samples else None
