"""The small exception hierarchy every LayerLens entry point speaks.

Each error carries the three things a user needs: what happened, the likely
cause, and what to do. The CLI prints ``str(error)`` as one line and exits 1;
the dashboard shows it in the page. Nothing here imports pandas or TensorRT.
"""

from __future__ import annotations


class LayerLensError(Exception):
    """Base class: a problem the user can act on (never a bug in LayerLens)."""

    def __init__(self, what: str, fix: str = "") -> None:
        self.what = what
        self.fix = fix
        super().__init__(f"{what} {fix}".strip())


class ArtifactFormatError(LayerLensError):
    """A file is malformed, truncated, or not the kind of artifact expected."""

    def __init__(self, path: str, what: str, fix: str = "") -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {what}", fix)


class UnsupportedArtifactError(ArtifactFormatError):
    """A file LayerLens does not recognise as any TensorRT artifact."""


class ArtifactTooLargeError(ArtifactFormatError):
    """A file or archive is over the configured size limit."""


class MissingDependencyError(LayerLensError):
    """An optional dependency (TensorRT, Polygraphy, a GPU) is not available."""

    def __init__(self, package: str, purpose: str, install: str) -> None:
        self.package = package
        super().__init__(f"{package} is needed to {purpose} but is not installed.", f"Install it with: {install}")


class StoreError(LayerLensError):
    """The run store could not read or write a run."""


class BuildError(LayerLensError):
    """An engine build failed; carries the tail of the builder's log."""

    def __init__(self, what: str, log_tail: str = "", fix: str = "") -> None:
        self.log_tail = log_tail
        super().__init__(what, fix)
