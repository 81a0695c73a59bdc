"""Run bundles: several runs in one ``.lens.zip`` a teammate imports to see exactly the same runs.

Layout::

    layerlens-bundle.json                     {"format": "layerlens-bundle", "version": 1, "runs": [...], ...}
    runs/<run_id>/manifest.json               the run's manifest, name and tags included
    runs/<run_id>/artifacts/...               its artifact files, byte for byte

A run's engine cache (``engine.arrow``) and stored analyses (``analyses/``) are derived data: never written
into a bundle, and dropped from one that carries them, so every imported run is read from its own artifacts.

A bundle comes from someone else, so import trusts nothing:

* the zip is unpacked by :func:`engine_core.archive.extract_zip` (absolute paths,
  ``..``, symlinks, oversized members and zip bombs are refused before anything
  is written outside a staging folder);
* every run must re-import from its own files before it enters the store;
* a run id already in the store is never overwritten silently: identical runs
  are reported as present, different ones are refused unless the caller asks to
  import them as copies (``rename``) or to ``replace`` the stored ones.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from engine_core import __version__
from engine_core.archive import extract_zip
from engine_core.errors import ArtifactFormatError, LayerLensError, StoreError
from engine_core.store.runs import ARTIFACTS, MANIFEST, RunManifest, RunStore
from engine_core.strict_json import dumps_strict

BUNDLE_INDEX = "layerlens-bundle.json"
BUNDLE_FORMAT = "layerlens-bundle"
BUNDLE_VERSION = 1
CONFLICT_POLICIES = ("refuse", "rename", "replace")


@dataclass
class ImportedRun:
    run_id: str
    name: str
    status: str          # "imported" | "already present" | "imported as a copy" | "replaced"
    source_id: str = ""  # the id in the bundle, when the run was stored under another


def is_bundle(path: str | Path) -> bool:
    """A zip whose index names it a LayerLens bundle (cheap: reads the central directory only)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return BUNDLE_INDEX in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def write_bundle(store: RunStore, run_ids: list[str], out: str | Path) -> Path:
    """Write ``run_ids`` (ids or exact names) from ``store`` into one zip at ``out``.

    Raises:
        StoreError: a run is unknown, ambiguous, or its files are missing.
    """
    runs = store.resolve(list(dict.fromkeys(run_ids)))
    if not runs:
        raise StoreError("No runs to bundle.", "Name runs by id or name: `layerlens bundle RUN... -o runs.lens.zip`.")
    out = Path(out)
    partial = out.with_name(out.name + ".partial")
    index = {"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION, "created_utc": _now(),
             "layerlens_version": __version__, "runs": [r.run_id for r in runs]}
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(BUNDLE_INDEX, dumps_strict(index, indent=2))
            for run in runs:
                zf.writestr(f"runs/{run.run_id}/{MANIFEST}", dumps_strict(asdict(run), indent=2))
                for name, path in zip(run.files, store.artifact_paths(run.run_id)):
                    if not path.is_file():
                        raise StoreError(f"Run '{run.run_id}' is missing {name}.", "Delete the broken run or import it again.")
                    zf.write(path, f"runs/{run.run_id}/{ARTIFACTS}/{name}")
        partial.replace(out)
    except BaseException as exc:  # never leave a half-written bundle behind
        partial.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StoreError(f"Cannot write {out} ({exc.strerror}).", "Check the folder exists and is writable.") from None
        raise
    return out


def import_bundle(store: RunStore, bundle: str | Path, on_conflict: str = "refuse") -> list[ImportedRun]:
    """Add every run of ``bundle`` to ``store``; all-or-nothing unless a run is already present.

    Raises:
        ArtifactFormatError / ArtifactTooLargeError: an unsafe or damaged zip, or not a bundle.
        StoreError: a run conflicts with a stored one and ``on_conflict`` is "refuse", or the store is read-only.
    """
    if on_conflict not in CONFLICT_POLICIES:
        raise ValueError(f"on_conflict must be one of {CONFLICT_POLICIES}")
    store.require_writable("Importing bundles")
    bundle = Path(bundle)
    store.root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=store.root))  # same filesystem: runs move in by rename
    try:
        extract_zip(bundle, staging)
        incoming = _read_index(bundle, staging)
        staged = RunStore(staging / "runs")
        plan = [_plan(store, staged, bundle, run_id, on_conflict) for run_id in incoming]
        results = []
        for run_id, target, status, manifest in plan:
            if status == "already present":
                results.append(ImportedRun(run_id, manifest.name, status))
                continue
            if target != run_id:
                manifest.run_id = target
                (staged.root / run_id / MANIFEST).write_text(dumps_strict(asdict(manifest), indent=2))
            if status == "replaced":
                store.delete(target)
            try:
                os.rename(staged.root / run_id, store.root / target)
            except OSError as exc:  # another import stored the same id since the plan was made
                done = ", ".join(r.run_id for r in results) or "none"
                raise StoreError(f"Run '{target}' appeared in {store.root} during the import ({exc.strerror}); "
                                 f"runs imported so far: {done}.", "Import the bundle again: what is stored is kept.") from None
            results.append(ImportedRun(target, manifest.name, status, run_id if target != run_id else ""))
        return results  # the renames changed the store folder's mtime, which the dashboard's run list keys on
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _read_index(bundle: Path, staging: Path) -> list[str]:
    index_path = staging / BUNDLE_INDEX
    if not index_path.is_file():
        raise ArtifactFormatError(str(bundle), f"is a zip but not a LayerLens bundle (no {BUNDLE_INDEX}).",
                                  "Import artifact zips with `layerlens import`; make bundles with `layerlens bundle`.")
    try:
        index = json.loads(index_path.read_text())
        runs = index["runs"]
        if index.get("format") != BUNDLE_FORMAT or not isinstance(runs, list):
            raise ValueError("wrong format tag")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactFormatError(str(bundle), f"has an unreadable {BUNDLE_INDEX} ({exc}).",
                                  "Re-create the bundle with `layerlens bundle`.") from None
    if index.get("version", 0) > BUNDLE_VERSION:
        raise ArtifactFormatError(str(bundle), f"is bundle format {index['version']}; this LayerLens reads up to "
                                  f"{BUNDLE_VERSION}.", "Upgrade LayerLens to import it.")
    bad = [r for r in runs if not isinstance(r, str) or not re.fullmatch(r"[A-Za-z0-9._-]+", r) or r.startswith(".")]
    if bad:
        raise ArtifactFormatError(str(bundle), f"names invalid run ids ({bad[:3]}).", "Re-create the bundle with `layerlens bundle`.")
    return list(dict.fromkeys(runs))


def _plan(store: RunStore, staged: RunStore, bundle: Path, run_id: str,
          on_conflict: str) -> tuple[str, str, str, RunManifest]:
    """``(id in bundle, id to store it under, status, its manifest)`` after checking the run reads back."""
    try:
        manifest = staged.manifest(run_id)
        if manifest.run_id != run_id:
            raise StoreError(f"its manifest names another run ({manifest.run_id!r})", "")
        from engine_core.store.analysis_cache import drop_analyses
        from engine_core.store.engine_cache import drop_engine_cache

        drop_engine_cache(staged.root / run_id)  # derived data from elsewhere is never trusted: re-read the artifacts
        drop_analyses(staged.root / run_id)
        staged.load(run_id)  # every file present, every artifact readable by the importers (and the cache rebuilt)
    except LayerLensError as exc:
        raise ArtifactFormatError(str(bundle), f"holds a run '{run_id}' that cannot be read: {exc.what}",
                                  "Re-create the bundle from a working store.") from None
    try:
        existing = store.manifest(run_id)
    except StoreError:
        return run_id, run_id, "imported", manifest
    if _same_run(existing, store, manifest, staged):
        return run_id, run_id, "already present", manifest
    if on_conflict == "replace":
        return run_id, run_id, "replaced", manifest
    if on_conflict == "rename":
        return run_id, _free_id(store, run_id), "imported as a copy", manifest
    raise StoreError(f"Run '{run_id}' is already in {store.root} and differs from the bundle's "
                     f"(stored: {_describe(existing)}; bundle: {_describe(manifest)}).",
                     "Nothing was imported. Import it as a copy (--rename; 'Import as copies' on the Import page) "
                     "or overwrite the stored run (--replace; 'Replace the stored runs').")


def _describe(run: RunManifest) -> str:
    return f"'{run.name}'" + (f" tagged {', '.join(run.tags)}" if run.tags else "")


def _same_run(a: RunManifest, a_store: RunStore, b: RunManifest, b_store: RunStore) -> bool:
    if (a.name, sorted(a.tags), a.files) != (b.name, sorted(b.tags), b.files):
        return False
    return all(x.read_bytes() == y.read_bytes() for x, y in
               zip(a_store.artifact_paths(a.run_id), b_store.artifact_paths(b.run_id)))


def _free_id(store: RunStore, run_id: str) -> str:
    n = 2
    while (store.root / f"{run_id}-{n}").exists():
        n += 1
    return f"{run_id}-{n}"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
