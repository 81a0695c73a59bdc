"""Run folders and manifests (see the package docstring)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence, TypeVar

from engine_core.errors import StoreError
from engine_core.schema import SCHEMA_VERSION
from engine_core.strict_json import dumps_strict

if TYPE_CHECKING:  # listing, renaming and tagging runs never import pandas (`layerlens runs` answers at once)
    import pandas as pd

    from engine_core.engine import Engine

T = TypeVar("T")

MANIFEST = "manifest.json"
ARTIFACTS = "artifacts"


def default_store_root() -> Path:
    """``$LAYERLENS_RUNS`` or ``~/.layerlens/runs``."""
    return Path(os.environ.get("LAYERLENS_RUNS") or Path.home() / ".layerlens" / "runs")


@dataclass
class BrokenRun:
    """A folder in the store that is not a readable run, and why (listed, never silently skipped)."""

    folder: str
    reason: str


@dataclass
class RunManifest:
    run_id: str
    name: str
    source: str                      # "import", "build" (GPU), "estimate" (model lens)
    files: list[str]                 # paths relative to artifacts/
    created_utc: str
    schema_version: int = SCHEMA_VERSION
    tensorrt_version: str | None = None
    device: str | None = None
    build_precision: str | None = None
    layer_count: int = 0
    status: str = "ok"
    is_estimate: bool = False
    labels: dict = field(default_factory=dict)
    parts: dict = field(default_factory=dict)   # stored file name -> run (from 0) of a file holding several runs
    tags: list = field(default_factory=list)    # the user's words for it: "baseline", "shipped", ...

    @classmethod
    def from_dict(cls, data: dict) -> "RunManifest":
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class RunStore:
    """A folder of runs. Cheap to create; touches disk only when asked.

    ``read_only`` refuses every write (add, rename, tags, delete, bundle import): a
    store shared for viewing (``layerlens dashboard --read-only``) stays as it is
    whatever a viewer clicks.
    """

    def __init__(self, root: str | Path | None = None, read_only: bool = False) -> None:
        self.root = Path(root) if root is not None else default_store_root()
        self.read_only = read_only

    def require_writable(self, action: str) -> None:
        """Raises StoreError when the store is read-only; ``action`` says what was refused ("Deleting runs")."""
        if self.read_only:
            raise StoreError(f"{action} is turned off: the run store {self.root} is shared read-only.",
                             "Bundle the runs you need and import them into your own store to change them.")

    def list_runs(self) -> list[RunManifest]:
        """Every readable run, newest first (see :meth:`list_broken` for the rest)."""
        return self.scan()[0]

    def list_broken(self) -> list[BrokenRun]:
        """Folders in the store that are not readable runs, each with the reason."""
        return self.scan()[1]

    def scan(self) -> tuple[list[RunManifest], list[BrokenRun]]:
        """``(runs newest first, broken folders)``; staging and trash folders (dot-names) are ignored."""
        if not self.root.is_dir():
            return [], []
        runs, broken = [], []
        for folder in self.root.iterdir():
            if folder.name.startswith(".") or not folder.is_dir():
                continue
            manifest = folder / MANIFEST
            if not manifest.is_file():
                broken.append(BrokenRun(folder.name, f"no {MANIFEST}: not a LayerLens run folder, or an interrupted copy"))
                continue
            try:
                run = RunManifest.from_dict(json.loads(manifest.read_text()))
            except (OSError, ValueError, TypeError) as exc:
                broken.append(BrokenRun(folder.name, f"{MANIFEST} is unreadable ({type(exc).__name__}: {exc})"))
                continue
            missing = [f for f in run.files if not (folder / ARTIFACTS / f).is_file()]
            if run.run_id != folder.name:
                broken.append(BrokenRun(folder.name, f"its manifest names another run ({run.run_id!r})"))
            elif missing:
                broken.append(BrokenRun(folder.name, f"artifact files are missing: {', '.join(missing[:3])}"))
            else:
                runs.append(run)
        return sorted(runs, key=lambda r: (r.created_utc, r.run_id), reverse=True), sorted(broken, key=lambda b: b.folder)

    def manifest(self, run_id: str) -> RunManifest:
        path = self._run_dir(run_id) / MANIFEST
        try:
            return RunManifest.from_dict(json.loads(path.read_text()))
        except (OSError, ValueError, TypeError) as exc:
            raise StoreError(f"Run '{run_id}' cannot be read from {self.root} ({exc}).",
                             "Pick another run, or delete the folder and import it again.") from None

    def load(self, run_id: str, without: Sequence[str] = ()) -> Engine:
        """A stored run as an :class:`Engine`: read from its engine cache, else re-imported from its artifacts
        (and the cache written for next time; see :mod:`~engine_core.store.engine_cache`).

        ``without`` names layer columns a caller never looks at, left unread when the cache serves the run
        (:func:`~engine_core.store.engine_cache.read_engine_cache`); a parsed run has them all.

        Raises:
            StoreError: the run is unknown or its artifact files are missing.
            ArtifactFormatError: an artifact no longer reads.
        """
        from engine_core.store.engine_cache import CacheMiss, read_engine_cache, write_engine_cache

        manifest = self.manifest(run_id)
        run_dir = self._run_dir(run_id)
        folder = run_dir / ARTIFACTS
        missing = [f for f in manifest.files if not (folder / f).is_file()]
        if missing:
            raise StoreError(f"Run '{run_id}' is missing its artifact files ({', '.join(missing[:3])}).",
                             f"Delete {self._run_dir(run_id)} and import the artifacts again.")
        try:
            return read_engine_cache(run_dir, manifest.name, without)
        except CacheMiss:
            pass
        engine = self.parse(run_id)
        write_engine_cache(run_dir, engine, {str(folder / f): f for f in manifest.files})
        return engine

    def load_layers(self, run_id: str, rows: Sequence[int]) -> pd.DataFrame:
        """Every column of some layers of a stored run (``rows``: their index in its layer table), read from
        its engine cache without the other layers when it can serve them, else from the loaded run.

        Raises:
            StoreError, ArtifactFormatError: as :meth:`load`.
        """
        from engine_core.store.engine_cache import CacheMiss, read_cached_layers

        try:
            return read_cached_layers(self._run_dir(self.manifest(run_id).run_id), rows)
        except CacheMiss:
            return self.load(run_id).layers.loc[list(rows)]

    def parse(self, run_id: str) -> Engine:
        """Re-import a stored run from its artifact files, ignoring (and not writing) its engine cache."""
        from engine_core.engine import Artifact, engine_from_artifacts
        from engine_core.importers.sniff import ArtifactKind, sniff_file

        manifest = self.manifest(run_id)
        folder = self._run_dir(run_id) / ARTIFACTS
        artifacts = [Artifact(folder / f, sniff_file(folder / f), manifest.parts.get(f)) for f in manifest.files]
        artifacts = [a for a in artifacts if a.kind is not ArtifactKind.UNKNOWN]
        return engine_from_artifacts(manifest.name, artifacts)

    def analysis(self, run_id: str, key: str, compute: Callable[[], T], depends_on: Sequence[str] = ()) -> T:
        """A derived result of a run: read from its folder when this code computed it from these very runs,
        else ``compute()``-d and stored there for the next process (see :mod:`~engine_core.store.analysis_cache`).

        Args:
            run_id: the run the result belongs to (it is stored in this run's folder).
            key: the result's name, unique within the run; says what else it depends on (a GPU, a baseline).
            compute: makes the result when nothing usable is stored.
            depends_on: the other runs it was computed from (a baseline), so a change to them recomputes it too.

        Raises:
            StoreError: a run is unknown or its artifact files are missing.
        """
        from engine_core.store.analysis_cache import AnalysisMiss, read_analysis, run_stamp, write_analysis

        try:
            sources = [run_stamp(self._run_dir(r), m.name, m.files) for r in (run_id, *depends_on)
                       for m in [self.manifest(r)]]
        except OSError:
            raise StoreError(f"Run '{run_id}' is missing its artifact files.",
                             f"Delete {self._run_dir(run_id)} and import the artifacts again.") from None
        try:
            return read_analysis(self._run_dir(run_id), key, sources)
        except AnalysisMiss:
            pass
        value = compute()
        write_analysis(self._run_dir(run_id), key, sources, value)
        return value

    def add(self, engine: Engine, source: str = "import", labels: dict | None = None) -> tuple[RunManifest, bool]:
        """Store an engine's artifact files as a run.

        Returns:
            ``(manifest, created)``; ``created`` is False when identical files were stored before.

        Raises:
            StoreError: the store folder cannot be written, or is read-only.
        """
        self.require_writable("Storing runs")
        paths = [Path(f) for f in engine.files]
        run_id = _run_id(engine.name, paths)
        if (self._run_dir(run_id) / MANIFEST).is_file():
            return self.manifest(run_id), False
        names = _unique_names(paths)
        manifest = RunManifest(
            run_id=run_id, name=engine.name, source=source, files=names,
            created_utc=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            tensorrt_version=engine.tensorrt_version, device=engine.device,
            build_precision=engine.build_precision, layer_count=int(len(engine.layers)),
            status=engine.status, is_estimate=source == "estimate", labels=dict(labels or {}),
            parts={n: engine.file_parts[str(p)] for p, n in zip(paths, names) if str(p) in engine.file_parts})
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))
            (staging / ARTIFACTS).mkdir()
            for src, name in zip(paths, names):
                shutil.copyfile(src, staging / ARTIFACTS / name)
            self._cache_on_add(staging, engine, names)
            (staging / MANIFEST).write_text(dumps_strict(asdict(manifest), indent=2))
            os.rename(staging, self._run_dir(run_id))
        except OSError as exc:
            shutil.rmtree(locals().get("staging", ""), ignore_errors=True)
            if (self._run_dir(run_id) / MANIFEST).is_file():  # a concurrent import won the race
                return self.manifest(run_id), False
            raise StoreError(f"Cannot write run '{engine.name}' to {self.root} ({exc.strerror}).",
                             "Check free disk space and permissions, or set LAYERLENS_RUNS to another folder.") from None
        return manifest, True

    @staticmethod
    def _cache_on_add(run_dir: Path, engine: Engine, names: list[str]) -> None:
        """Cache the engine just parsed, so the run's first opening is a read too.

        Only when nothing about it depends on where its files were: the same file names (no duplicate
        renamed) and measured times as read (not an estimated copy). Otherwise the first load parses.
        """
        from engine_core.store.engine_cache import write_engine_cache

        if engine.is_estimate or [Path(f).name for f in engine.files] != names:
            return
        write_engine_cache(run_dir, engine, dict(zip(engine.files, names)))

    def resolve(self, refs: list[str], runs: list[RunManifest] | None = None) -> list[RunManifest]:
        """Runs by id, or by exact (case-insensitive) name when that names one run; the store is read once.

        Raises:
            StoreError: a ref names no run, or a name several.
        """
        runs = self.list_runs() if runs is None else runs
        by_id = {r.run_id: r for r in runs}
        found = []
        for ref in refs:
            if ref in by_id:
                found.append(by_id[ref])
                continue
            named = [r for r in runs if r.name.lower() == ref.lower()]
            if len(named) > 1:
                raise StoreError(f"{len(named)} runs are named '{ref}'.", "Use a run id: " + ", ".join(r.run_id for r in named))
            if not named:
                raise StoreError(f"No run '{ref}' in {self.root}.", "See `layerlens runs` for ids and names.")
            found.append(named[0])
        return found

    def artifact_paths(self, run_id: str) -> list[Path]:
        """The stored artifact files of a run, as listed in its manifest."""
        folder = self._run_dir(run_id) / ARTIFACTS
        return [folder / name for name in self.manifest(run_id).files]

    def rename(self, run_id: str, name: str) -> RunManifest:
        """Change a run's display name (its id, and so every link to it, stays)."""
        self.require_writable("Renaming runs")
        name = name.strip()
        if not name:
            raise StoreError("A run's name cannot be empty.", "Give it a name, e.g. `resnet50 int8 (calibrated)`.")
        manifest = self.manifest(run_id)
        # The name the artifacts gave it still says which model it is (default baselines match on it).
        labels = {"imported_name": manifest.name, **manifest.labels}
        return self._update(manifest, name=name, labels=labels)

    def set_tags(self, run_id: str, add: list[str] = (), remove: list[str] = ()) -> RunManifest:
        """Add and remove tags (case kept, duplicates dropped)."""
        self.require_writable("Tagging runs")
        manifest = self.manifest(run_id)
        tags = [t for t in manifest.tags if t not in remove]
        for tag in add:
            tag = tag.strip()
            if not re.fullmatch(r"[\w.+-]{1,40}", tag):
                raise StoreError(f"'{tag}' is not a usable tag.", "Tags are 1-40 letters, digits, '.', '+', '-' or '_'.")
            if tag not in tags:
                tags.append(tag)
        return self._update(manifest, tags=tags)

    def delete(self, run_id: str) -> None:
        """Remove a run (or a broken run folder). Moved aside first, so a half-deleted run never looks whole."""
        self.require_writable("Deleting runs")
        folder = self._run_dir(run_id)
        if not folder.is_dir():
            raise StoreError(f"There is no run '{run_id}' in {self.root}.", "See `layerlens runs` for the ids.")
        trash = self.root / f".trash-{run_id}-{os.getpid()}-{time.monotonic_ns()}"
        os.rename(folder, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def _update(self, manifest: RunManifest, **changes) -> RunManifest:
        run_id = manifest.run_id
        for key, value in changes.items():
            setattr(manifest, key, value)
        path = self._run_dir(run_id) / MANIFEST
        partial = path.with_name(MANIFEST + ".partial")
        try:
            partial.write_text(dumps_strict(asdict(manifest), indent=2))
            partial.replace(path)  # atomic: a crash leaves the old manifest, never half of one
        except OSError as exc:
            raise StoreError(f"Cannot update run '{run_id}' ({exc.strerror}).", "Check the store's permissions.") from None
        os.utime(self.root)  # the dashboard caches the run list by the store folder's mtime
        return manifest

    def _run_dir(self, run_id: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9._-]+", run_id) or run_id.startswith("."):
            raise StoreError(f"'{run_id}' is not a valid run id.", "Use an id from `layerlens runs`.")
        return self.root / run_id


def _run_id(name: str, paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for p in sorted(paths, key=lambda p: p.name):
        digest.update(p.name.encode())
        with open(p, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:60] or "run"
    return f"{slug}-{digest.hexdigest()[:10]}"


def _unique_names(paths: list[Path]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for p in paths:
        name = p.name
        if name in seen:
            seen[name] += 1
            name = f"{p.stem}-{seen[p.name]}{p.suffix}"
        else:
            seen[name] = 0
        out.append(name)
    return out
