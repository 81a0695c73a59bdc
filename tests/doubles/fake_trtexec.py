#!/usr/bin/env python3
"""Test double for trtexec: writes the export files from a real fixture engine and a minimal log.

Never shipped: it lets the build runner be tested end to end without TensorRT.
FAKE_TRTEXEC_SOURCE names the fixture stem (e.g. .../trex-rtx3090/qat/resnet-qat.onnx.engine);
FAKE_TRTEXEC_FAIL=1 makes it fail like a real build error.
"""

import os
import shutil
import sys

args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
banner = "[TensorRT v101601] [b11] # trtexec " + " ".join(sys.argv[1:])
print(f"&&&& RUNNING TensorRT.trtexec {banner}")
print("[11/25/2026-10:00:00] [I] === Build Options ===")
print("[11/25/2026-10:00:00] [I] Precision: FP32" + "".join("+" + p.upper() for p in ("fp16", "int8") if f"--{p}" in sys.argv))
print("[11/25/2026-10:00:00] [I] TensorRT version: 10.16.1")
if os.environ.get("FAKE_TRTEXEC_FAIL"):
    print("[11/25/2026-10:00:01] [E] [TRT] ModelImporter.cpp:949: ERROR: No importer registered for op: FancyOp.")
    print(f"&&&& FAILED TensorRT.trtexec {banner}")
    sys.exit(1)
source = os.environ["FAKE_TRTEXEC_SOURCE"]
for flag, suffix in (("exportLayerInfo", ".graph.json"), ("exportProfile", ".profile.json"), ("exportTimes", ".timing.json")):
    shutil.copyfile(source + suffix, args[flag])
print("[11/25/2026-10:00:05] [I] Created engine with size: 24.7231 MiB")
print(f"&&&& PASSED TensorRT.trtexec {banner}")
