"""Test double: only ``polygraphy.cuda`` (see tensorrt/__init__.py)."""
