"""Building engines: the only part of LayerLens that runs TensorRT, always out of process.

``request`` holds what the user asked for (precision toggles, shapes, overrides);
``trtexec`` turns it into a TensorRT-version-aware trtexec command line (pure)
and runs it when trtexec exists, writing the same artifact files the importers
read (``<stem>.graph.json``, ``.profile.json``, ``.timing.json``, ``.log``). The
Python TensorRT API path will live beside it and import ``tensorrt`` only inside
its functions. Nothing here imports TensorRT at module level.
"""
