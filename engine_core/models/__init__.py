"""ONNX models: loading and per-node statistics (no TensorRT; the model lens builds on this)."""
