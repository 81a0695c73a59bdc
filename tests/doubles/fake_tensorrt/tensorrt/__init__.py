"""A test double of the ``tensorrt`` Python API, for the GPU-box builder on machines without a GPU.

It implements exactly the calls ``engine_core.build.tensorrt_api`` and
``engine_core.build.nvinfer`` make, and answers them with a real engine's
artifacts: the inspector returns the layer JSON of ``$FAKE_TRT_ENGINE.graph.json``
and the profiler reports that engine's per-layer ``averageMs`` from
``$FAKE_TRT_ENGINE.profile.json`` (both real trtexec exports from
``../shared/fixtures``). An ONNX file containing ``FancyOp`` fails to parse, as
TensorRT fails on ops it has no importer for; one containing ``CrashOp`` aborts the
process, as a native fault in a builder does. The builder logs its process id.
"""

from __future__ import annotations

import enum
import json
import os
import sys
from pathlib import Path

import numpy as np

__version__ = "10.99.0-double"


class _Severity(enum.Enum):
    INTERNAL_ERROR = 0
    ERROR = 1
    WARNING = 2
    INFO = 3
    VERBOSE = 4


class ILogger:
    Severity = _Severity

    def __init__(self) -> None:
        pass


class IProfiler:
    def __init__(self) -> None:
        pass


class NetworkDefinitionCreationFlag(enum.IntEnum):
    STRONGLY_TYPED = 5


class ProfilingVerbosity(enum.Enum):
    LAYER_NAMES_ONLY = 0
    DETAILED = 2


class LayerInformationFormat(enum.Enum):
    ONELINE = 0
    JSON = 1


class TensorIOMode(enum.Enum):
    INPUT = 1
    OUTPUT = 2


def nptype(dtype):
    return np.float32


def _engine_files() -> tuple[Path, Path]:
    stem = os.environ["FAKE_TRT_ENGINE"]
    return Path(stem + ".graph.json"), Path(stem + ".profile.json")


class _ParserError:
    def __init__(self, text: str) -> None:
        self._text = text

    def desc(self) -> str:
        return self._text


class OnnxParser:
    def __init__(self, network, logger) -> None:
        self.logger, self.errors = logger, []

    def parse_from_file(self, path: str) -> bool:
        self.logger.log(_Severity.INFO, f"Parsing {path}")
        if b"CrashOp" in Path(path).read_bytes():
            print("fake tensorrt: native fault in CrashOp", file=sys.stderr, flush=True)
            os.abort()
        if b"FancyOp" in Path(path).read_bytes():
            self.errors.append(_ParserError("No importer registered for op: FancyOp"))
            return False
        return True

    @property
    def num_errors(self) -> int:
        return len(self.errors)

    def get_error(self, index: int) -> _ParserError:
        return self.errors[index]


class _Config:
    def __init__(self) -> None:
        self.profiling_verbosity = ProfilingVerbosity.LAYER_NAMES_ONLY
        self.builder_optimization_level = 3


class Builder:
    def __init__(self, logger) -> None:
        self.logger = logger

    def create_network(self, flags: int):
        assert flags & (1 << NetworkDefinitionCreationFlag.STRONGLY_TYPED), "LayerLens builds strongly typed networks"
        return object()

    def create_builder_config(self) -> _Config:
        return _Config()

    def build_serialized_network(self, network, config) -> bytes:
        assert config.profiling_verbosity is ProfilingVerbosity.DETAILED
        self.logger.log(_Severity.INFO, f"Builder process {os.getpid()}")
        self.logger.log(_Severity.INFO, "Total Weights Memory: 1024 bytes")
        self.logger.log(_Severity.INFO, "Engine generation completed in 0.5 seconds.")
        return b"fake plan " + _engine_files()[0].name.encode()


class _Inspector:
    def get_engine_information(self, fmt) -> str:
        assert fmt is LayerInformationFormat.JSON
        return _engine_files()[0].read_text()


class _Context:
    def __init__(self) -> None:
        self.profiler = None
        records = json.loads(_engine_files()[1].read_text())
        self._times = [(r["name"], r["averageMs"]) for r in records if "name" in r]

    def set_input_shape(self, name, shape) -> bool:
        return True

    def set_tensor_address(self, name, ptr) -> bool:
        return True

    def execute_async_v3(self, stream) -> bool:
        if self.profiler is not None:
            for name, ms in self._times:
                self.profiler.report_layer_time(name, ms)
        return True


class _Engine:
    num_io_tensors = 2

    def get_tensor_name(self, index: int) -> str:
        return ("input", "output")[index]

    def get_tensor_shape(self, name: str):
        return (1, 3, 224, 224) if name == "input" else (1, 1000)

    def get_tensor_dtype(self, name: str):
        return "float32"

    def get_tensor_mode(self, name: str):
        return TensorIOMode.INPUT if name == "input" else TensorIOMode.OUTPUT

    def create_engine_inspector(self) -> _Inspector:
        return _Inspector()

    def create_execution_context(self) -> _Context:
        return _Context()


class Runtime:
    def __init__(self, logger) -> None:
        self.logger = logger

    def deserialize_cuda_engine(self, data: bytes):
        return _Engine() if data.startswith(b"fake plan") else None
