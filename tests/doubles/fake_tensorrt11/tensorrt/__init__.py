"""A test double of the TensorRT 11 Python API: the TensorRT 10 double (``../fake_tensorrt``) with 11's changes.

TensorRT 11 is strongly typed only (https://docs.nvidia.com/deeplearning/tensorrt/latest/api/migration/
tensorrt-10x-to-11x-python-api-reference.html): ``BuilderFlag.FP16/INT8/BF16/FP8/INT4/FP4`` and the precision
constraints are gone, ``IBuilderConfig.int8_calibrator`` and the quantization flags are gone, and the
``STRONGLY_TYPED`` creation flag is deprecated and ignored. This double has none of the removed names (touching
one raises AttributeError, as the real module does), refuses network creation flags (LayerLens passes none to
TensorRT 11), and its inspector answers in TensorRT 11's JSON shape: ``I/O Tensors`` objects and split
``Format``/``DataType`` keys, made from the real engine export named by ``$FAKE_TRT_ENGINE`` with the same
reshaping as the TensorRT 11 fixtures (tests/tools/make_trt11_fixtures.py). Put ``../fake_tensorrt`` after this
folder on the path for the Polygraphy double.
"""

from __future__ import annotations

import enum
import importlib.util
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("_fake_tensorrt10", _HERE.parents[1] / "fake_tensorrt" / "tensorrt" / "__init__.py")
_trt10 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_trt10)
sys.path.insert(0, str(_HERE.parents[2] / "tools"))
from make_trt11_fixtures import reshape_layer_info_text  # noqa: E402

__version__ = "11.99.0-double"

ILogger, IProfiler, ProfilingVerbosity, LayerInformationFormat = (_trt10.ILogger, _trt10.IProfiler,
                                                                 _trt10.ProfilingVerbosity, _trt10.LayerInformationFormat)
TensorIOMode, OnnxParser, nptype = _trt10.TensorIOMode, _trt10.OnnxParser, _trt10.nptype
_Severity = _trt10._Severity


class NetworkDefinitionCreationFlag(enum.IntEnum):
    STRONGLY_TYPED = 0             # deprecated in 11.0: accepted and ignored
    PREFER_AOT_PYTHON_PLUGINS = 1
    PREFER_JIT_PYTHON_PLUGINS = 2


class BuilderFlag(enum.IntEnum):
    """TensorRT 11's builder flags: no FP16, INT8, BF16, FP8, INT4, FP4 or precision constraints any more."""

    DEBUG = 0
    REFIT = 1
    SPARSE_WEIGHTS = 2
    STRIP_PLAN = 3


class _Config:
    # No int8_calibrator, no set_quantization_flag: TensorRT 11 removed them.
    __slots__ = ("profiling_verbosity", "builder_optimization_level", "flags")

    def __init__(self) -> None:
        self.profiling_verbosity = ProfilingVerbosity.LAYER_NAMES_ONLY
        self.builder_optimization_level = 3
        self.flags = set()

    def set_flag(self, flag: BuilderFlag) -> None:
        self.flags.add(BuilderFlag(flag))


class Builder(_trt10.Builder):
    def create_network(self, flags: int = 0):
        assert flags == 0, "TensorRT 11 networks are always strongly typed: LayerLens passes no creation flags"
        return object()

    def create_builder_config(self) -> _Config:
        return _Config()


class _Inspector:
    def get_engine_information(self, fmt) -> str:
        assert fmt is LayerInformationFormat.JSON
        return reshape_layer_info_text(_trt10._engine_files()[0].read_text())


class _Engine(_trt10._Engine):
    def create_engine_inspector(self) -> _Inspector:
        return _Inspector()


class Runtime(_trt10.Runtime):
    def deserialize_cuda_engine(self, data: bytes):
        return _Engine() if data.startswith(b"fake plan") else None
