"""GPU catalog: peak dense throughput per precision and DRAM bandwidth, with sources.

Numbers are *dense* (no 2:4 sparsity) tensor-core peaks at boost clock from
NVIDIA's datasheets and architecture whitepapers; for GeForce parts the FP16
peak is the FP16-accumulate rate (the fastest any TensorRT FP16 tactic can
reach, so a measured layer can never legitimately exceed it). A precision the
GPU has no tensor-core path for (TF32 and BF16 before Ampere, FP8 before
Ada/Hopper) falls back to the best rate that would actually run it.

GPUs not in the catalog get peaks *derived* from trtexec's device information
(SM count x clock x per-SM rate of the compute capability; bus width x memory
clock x 2 for bandwidth) and are labelled as derived.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TFLOPS = 1e12
GBPS = 1e9


@dataclass(frozen=True)
class GpuSpec:
    name: str
    pattern: str                       # regex matched (case-insensitive) against the device string
    peak_tflops: dict[str, float]      # precision class -> dense peak, TFLOP/s (TOP/s for INT8)
    bandwidth_gbps: float              # DRAM bandwidth, GB/s
    source: str
    derived: bool = False
    aliases: tuple[str, ...] = field(default_factory=tuple)
    #: (major, minor): decides the GPU generation whose calibrated latency parameters apply.
    compute_capability: tuple[int, int] | None = None
    #: Streaming multiprocessors: how much work a GPU needs in flight before it runs at its peaks.
    sms: int | None = None

    def peak(self, precision: str) -> float | None:
        """Peak FLOP/s for a precision class, with the fallbacks described above."""
        for p in _FALLBACK.get(precision, (precision,)):
            if p in self.peak_tflops:
                return self.peak_tflops[p] * TFLOPS
        return None

    @property
    def bandwidth(self) -> float:
        return self.bandwidth_gbps * GBPS


# If a precision has no listed peak, the kernel would run at the next one listed here.
_FALLBACK = {
    "FP8": ("FP8", "INT8", "FP16"), "INT4": ("INT4", "INT8"), "FP4": ("FP4", "FP8", "INT8", "FP16"),
    "BF16": ("BF16", "FP16"), "TF32": ("TF32", "FP32"), "INT8": ("INT8",), "FP16": ("FP16",), "FP32": ("FP32",),
    # Integer/bool data layers are elementwise CUDA-core work.
    "INT32": ("FP32",), "INT64": ("FP32",), "BOOL": ("FP32",), "NONE": ("FP32",),
}

_AMPERE_WP = "https://www.nvidia.com/content/PDF/nvidia-ampere-ga-102-gpu-architecture-whitepaper-v2.pdf"
_A100_SHEET = "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf"
_A100_PEAKS = {"FP32": 19.5, "TF32": 156, "FP16": 312, "BF16": 312, "INT8": 624, "INT4": 1248}  # the variants differ in bandwidth only
CATALOG: tuple[GpuSpec, ...] = (
    GpuSpec("H100 SXM", r"H100.*(SXM|HBM3)|H100$", {"FP32": 67, "TF32": 494.7, "FP16": 989.4, "BF16": 989.4, "FP8": 1978.9, "INT8": 1978.9},
            3350, "https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet (H100 SXM5)", compute_capability=(9, 0), sms=132),
    GpuSpec("H100 PCIe", r"H100.*PCIe", {"FP32": 51, "TF32": 378, "FP16": 756, "BF16": 756, "FP8": 1513, "INT8": 1513},
            2000, "https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet (H100 PCIe)", compute_capability=(9, 0), sms=114),
    GpuSpec("A100 80GB SXM", r"A100.*SXM.*80", _A100_PEAKS, 2039, _A100_SHEET, compute_capability=(8, 0), sms=108),
    GpuSpec("A100 80GB PCIe", r"A100.*80.*PCIe|A100.*PCIe.*80", _A100_PEAKS, 1935, _A100_SHEET, compute_capability=(8, 0), sms=108),
    GpuSpec("A100 40GB", r"A100", _A100_PEAKS, 1555, _A100_SHEET, compute_capability=(8, 0), sms=108),
    GpuSpec("L4", r"\bL4\b", {"FP32": 30.3, "TF32": 60, "FP16": 121, "BF16": 121, "FP8": 242.5, "INT8": 242.5},
            300, "https://resources.nvidia.com/en-us-data-center-overview/l4-gpu-datasheet", compute_capability=(8, 9), sms=58),
    GpuSpec("A10", r"\bA10\b(?!0)", {"FP32": 31.2, "TF32": 62.5, "FP16": 125, "BF16": 125, "INT8": 250, "INT4": 500},
            600, "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a10/pdf/datasheet-new/nvidia-a10-datasheet.pdf", compute_capability=(8, 6), sms=72),
    GpuSpec("T4", r"\bT4\b", {"FP32": 8.1, "FP16": 65, "INT8": 130, "INT4": 260},
            320, "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/tesla-t4/t4-tensor-core-datasheet-951643.pdf", compute_capability=(7, 5), sms=40),
    GpuSpec("RTX 4090", r"RTX 4090", {"FP32": 82.6, "TF32": 82.6, "FP16": 330.3, "BF16": 165.2, "FP8": 660.6, "INT8": 660.6, "INT4": 1321.2},
            1008, "https://images.nvidia.com/aem-dam/Solutions/geforce/ada/nvidia-ada-gpu-architecture.pdf (Appendix A)", compute_capability=(8, 9), sms=128),
    GpuSpec("RTX 3090", r"RTX 3090", {"FP32": 35.6, "TF32": 35.6, "FP16": 142, "BF16": 71, "INT8": 284, "INT4": 568},
            936, _AMPERE_WP + " (Appendix A, RTX 3090)", compute_capability=(8, 6), sms=82),
    GpuSpec("RTX 3080", r"RTX 3080", {"FP32": 29.8, "TF32": 29.8, "FP16": 119, "BF16": 59.5, "INT8": 238, "INT4": 476},
            760, _AMPERE_WP + " (Appendix A, RTX 3080)", compute_capability=(8, 6), sms=68),
    GpuSpec("TITAN RTX", r"TITAN RTX", {"FP32": 16.3, "FP16": 130.5, "INT8": 261, "INT4": 522},
            672, "https://images.nvidia.com/aem-dam/en-zz/Solutions/design-visualization/technologies/turing-architecture/NVIDIA-Turing-Architecture-Whitepaper.pdf (Appendix A, Titan RTX)", compute_capability=(7, 5), sms=72),
    GpuSpec("Jetson AGX Orin 64GB", r"Orin", {"FP32": 5.3, "TF32": 10.6, "FP16": 42.5, "BF16": 42.5, "INT8": 85},
            204.8, "https://www.nvidia.com/content/dam/en-zz/Solutions/gtcf21/jetson-orin/nvidia-jetson-agx-orin-technical-brief.pdf (GPU only, dense; 170 sparse INT8 TOPS)", compute_capability=(8, 7), sms=16),
    GpuSpec("Jetson AGX Xavier", r"Xavier", {"FP32": 1.41, "FP16": 11.3, "INT8": 22.6},
            136.5, "https://developer.nvidia.com/embedded/jetson-agx-xavier-developer-kit (GPU: 512 Volta cores, 64 tensor cores at 1.377 GHz)", compute_capability=(7, 2), sms=8),
)

# Dense FLOP (or integer op) per clock per SM by compute capability, for derived specs.
# From the per-SM tensor-core rates in the Volta/Turing/Ampere/Ada/Hopper whitepapers.
_PER_SM_PER_CLOCK = {
    (7, 0): {"FP32": 128, "FP16": 1024},
    (7, 2): {"FP32": 128, "FP16": 1024, "INT8": 2048},
    (7, 5): {"FP32": 128, "FP16": 1024, "INT8": 2048, "INT4": 4096},
    (8, 0): {"FP32": 128, "TF32": 1024, "FP16": 2048, "BF16": 2048, "INT8": 4096},
    (8, 6): {"FP32": 256, "TF32": 256, "FP16": 1024, "BF16": 512, "INT8": 2048, "INT4": 4096},
    (8, 7): {"FP32": 256, "TF32": 512, "FP16": 1024, "BF16": 1024, "INT8": 2048},
    (8, 9): {"FP32": 256, "TF32": 512, "FP16": 2048, "BF16": 1024, "FP8": 4096, "INT8": 4096},
    (9, 0): {"FP32": 256, "TF32": 2048, "FP16": 4096, "BF16": 4096, "FP8": 8192, "INT8": 8192},
}


def find_gpu(device: str | None) -> GpuSpec | None:
    """The catalog entry whose pattern matches a device string (first match wins)."""
    if not device:
        return None
    for spec in CATALOG:
        if re.search(spec.pattern, device, re.IGNORECASE):
            return spec
    return None


def gpu_by_name(name: str) -> GpuSpec:
    for spec in CATALOG:
        if spec.name == name:
            return spec
    raise KeyError(name)


def derived_gpu(device: str, info: dict) -> GpuSpec | None:
    """Peaks derived from trtexec's ``=== Device Information ===`` values, or None."""
    try:
        major, minor = (int(x) for x in str(info["Compute Capability"]).split(".")[:2])
        sms = float(info["SMs"])
        clock_ghz = _first_float(info.get("Application Compute Clock Rate") or info.get("Compute Clock Rate"))
        mem_ghz = _first_float(info.get("Application Memory Clock Rate") or info.get("Memory Clock Rate"))
        bus_bits = _first_float(info.get("Memory Bus Width"))
    except (KeyError, ValueError, TypeError):
        return None
    rates = _PER_SM_PER_CLOCK.get((major, minor))
    if rates is None or not all((sms, clock_ghz, mem_ghz, bus_bits)):
        return None
    peaks = {p: sms * clock_ghz * 1e9 * r / TFLOPS for p, r in rates.items()}
    bandwidth = bus_bits / 8 * mem_ghz * 2  # GB/s: double data rate
    return GpuSpec(device, re.escape(device), peaks, bandwidth,
                   f"derived from device information (CC {major}.{minor}, {sms:.0f} SMs, {clock_ghz} GHz)", derived=True,
                   compute_capability=(major, minor), sms=int(sms))


def gpu_for_engine(device: str | None, info: dict) -> GpuSpec | None:
    """Catalog entry for the engine's GPU, else one derived from its device information."""
    return find_gpu(device) or (derived_gpu(device, info) if device else None)


def _first_float(value) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    m = re.search(r"[\d.]+", str(value))
    if not m:
        raise ValueError(value)
    return float(m.group(0))
