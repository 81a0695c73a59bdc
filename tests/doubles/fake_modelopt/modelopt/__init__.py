"""Test double of ``nvidia-modelopt`` (only ``modelopt.onnx.quantization.quantize``); see quantization/__init__.py."""
