"""LayerLens accuracy artifacts (``<stem>.accuracy.json``): what a build measured of its recipe's output error.

Written by the build worker (:func:`engine_core.accuracy.report.write_accuracy`) beside the
build log: output SQNR, cosine and top-1 agreement of the recipe's ONNX against the model
it started from, and per-ONNX-node SQNR, on stated inputs (a data folder, or labelled
synthetic ones). It joins the engine of the same stem. Pure Python + pandas.
"""

from __future__ import annotations

from pathlib import Path

from engine_core.accuracy.report import FORMAT_KEY, FORMAT_VERSION, AccuracyReport
from engine_core.errors import ArtifactFormatError
from engine_core.importers.jsonio import read_json_documents


def read_accuracy_json(path: str | Path) -> AccuracyReport:
    """Read one accuracy artifact.

    Raises:
        ArtifactFormatError: not JSON, not this format, a newer format version, or fields of the wrong shape.
    """
    documents = read_json_documents(path)
    data = documents[0] if len(documents) == 1 else None
    if not isinstance(data, dict) or FORMAT_KEY not in data:
        raise ArtifactFormatError(str(path), "is not a LayerLens accuracy file.", "Rebuild the run to measure it again.")
    if data[FORMAT_KEY] != FORMAT_VERSION:
        raise ArtifactFormatError(str(path), f"has accuracy format {data[FORMAT_KEY]!r}; this LayerLens reads {FORMAT_VERSION}.",
                                  "Upgrade LayerLens, or measure again with `layerlens accuracy`.")
    try:
        return AccuracyReport.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ArtifactFormatError(str(path), f"has an accuracy field of the wrong shape ({type(exc).__name__}: {exc}).",
                                  "Measure again with `layerlens accuracy`; a hand-edited copy cannot be read.") from None
