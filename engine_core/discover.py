"""Find artifacts under the paths a user gives and group them into engines.

Grouping follows how the files were made:

* TREx's sibling naming: ``<engine>.graph.json``, ``.profile.json``,
  ``.timing.json``, ``.build.metadata.json``, ``.profile.metadata.json``;
* a trtexec log whose command line names ``--exportLayerInfo/--exportProfile/
  --exportTimes`` files that are present: those files join the log's engine;
* anything else is its own engine.

Runs appended to one file are split into one engine per run: a log holding several
trtexec runs (``cat >>``), and a profile or times JSON holding one document per run
(``--exportProfile`` appended to by several runs). Each document is matched to the
run of the log beside it in order: the runs of one multi-run log, or the logs that
all exported to that file, oldest first; a document no log claims is a run of its own.

Kinds are decided by content (:mod:`engine_core.importers.sniff`), so a layer
JSON named ``.log`` is still read as JSON.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from engine_core.archive import extract_zip
from engine_core.engine import Artifact, Engine, engine_from_artifacts
from engine_core.errors import ArtifactFormatError, UnsupportedArtifactError
from engine_core.importers.sniff import ArtifactKind, sniff_file
from engine_core.importers.jsonio import ENGINE_FILE_FIX, count_json_documents, counted_files_kept
from engine_core.importers.trtexec_log import BANNER, run_labels

MAX_FILES = 10_000
_SUFFIXES = (".build.metadata.json", ".profile.metadata.json", ".accuracy.json", ".graph.json", ".profile.json",
             ".timing.json", ".times.json", ".layers.json", ".layers.txt", ".layer_info.json", ".json", ".build.log", ".log", ".txt",
             ".calib.cache", ".calibration.cache", ".int8.cache", ".int8cache", ".cache", "-calibration.table",
             ".table", "__cal.bin", "_cal.bin", ".bin")
_ENGINE_SUFFIX = re.compile(r"(\.onnx)?(\.engine|\.plan|\.trt)?$")
SUPPORTED_HELP = ("Supported: trtexec --exportLayerInfo/--exportProfile/--exportTimes JSON, trtexec logs, "
                  "TREx *.metadata.json, and `polygraphy inspect model` output.")


@dataclass
class Discovery:
    groups: dict[str, list[Artifact]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)          # "path (why)"
    explicit: set[str] = field(default_factory=set)           # files the user named, not found in a folder

    @property
    def engine_names(self) -> list[str]:
        """The groups that are engines (a calibration cache on its own is not)."""
        return [name for name, members in self.groups.items() if not _is_cache_only(members)]


def discover(paths: list[str | Path], scratch: Path | None = None) -> Discovery:
    """Classify the files under ``paths`` and group them by engine.

    Args:
        paths: files, folders (searched recursively) or zip archives.
        scratch: where zips are extracted (a temporary folder if None).

    Raises:
        UnsupportedArtifactError: a file named explicitly is not a known artifact.
        ArtifactFormatError: a path does not exist or a zip is unsafe.
    """
    found = Discovery()
    artifacts: list[Artifact] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UnsupportedArtifactError(str(path), "does not exist.", "Check the path.")
        explicit = path.is_file() and path.suffix.lower() != ".zip"
        if explicit:
            found.explicit.add(str(path))
        for file in _expand(path, scratch):
            kind = sniff_file(file)
            if kind is ArtifactKind.UNKNOWN:
                if explicit:
                    raise _unknown_file_error(file)
                found.skipped.append(f"{file} (not a TensorRT artifact LayerLens reads)")
                continue
            artifacts.append(Artifact(file, kind))
    found.groups = group_artifacts(artifacts)
    return found


def _unknown_file_error(file: Path) -> UnsupportedArtifactError:
    """The error for a file the user named that is no artifact; a binary one is most likely a serialized engine."""
    with open(file, "rb") as handle:
        binary = b"\x00" in handle.read(4096)
    if binary:
        return UnsupportedArtifactError(str(file), "is a binary file (a serialized engine?), not a TensorRT artifact "
                                        "LayerLens can read.", ENGINE_FILE_FIX)
    return UnsupportedArtifactError(str(file), "is not a TensorRT artifact LayerLens can read.", SUPPORTED_HELP)


def _expand(path: Path, scratch: Path | None) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not any(s.startswith(".") for s in p.parts[-1:]))
    else:
        files = [path]
    if len(files) > MAX_FILES:
        raise UnsupportedArtifactError(str(path), f"holds {len(files)} files, over the {MAX_FILES} limit.",
                                       "Point LayerLens at the folder of one experiment.")
    out = []
    for f in files:
        if f.suffix.lower() == ".zip":
            target = Path(tempfile.mkdtemp(prefix="layerlens-zip-", dir=scratch))
            out.extend(sorted(extract_zip(f, target)))
        else:
            out.append(f)
    return out


def artifact_key(path: Path) -> str:
    """Engine key of a file: its name without the artifact suffix (``resnet.onnx.engine``)."""
    name = path.name
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def engine_display_name(key: str) -> str:
    """``resnet-qat.onnx.engine`` -> ``resnet-qat``."""
    return _ENGINE_SUFFIX.sub("", key) or key


def group_artifacts(artifacts: list[Artifact]) -> dict[str, list[Artifact]]:
    """Group artifacts into engines (see module doc); keys are display names, unique."""
    groups: dict[tuple[Path, str], list[Artifact]] = {}
    for a in artifacts:
        groups.setdefault((a.path.parent, artifact_key(a.path)), []).append(a)
    _attach_exports_to_logs(groups)
    _attach_caches_to_engines(groups)
    display = {k: engine_display_name(k[1]) for k in groups}
    _split_runs(groups, display)
    names: dict[str, list[Artifact]] = {}
    counts: dict[str, int] = {}
    for name in display.values():
        counts[name] = counts.get(name, 0) + 1
    for key, members in groups.items():
        name = display[key]
        if counts[name] > 1:
            name = f"{key[0].name}/{name}"
        names[name] = sorted(members, key=lambda a: a.path.name)
    return names


def _split_runs(groups: dict[tuple[Path, str], list[Artifact]], display: dict) -> None:
    """One engine per run of a group holding several (see the module doc); other files stay shared."""
    for key, members in list(groups.items()):
        runs = _runs_of_group(members, display[key])
        if runs is None:
            continue
        del groups[key]
        del display[key]
        for i, (name, run_members) in enumerate(runs):
            run_key = (key[0], f"{key[1]}#{i + 1}")
            groups[run_key] = run_members
            display[run_key] = name


def _runs_of_group(members: list[Artifact], base: str) -> list[tuple[str, list[Artifact]]] | None:
    """``[(display name, artifacts)]`` per run of a group, or None when the group is one engine."""
    logs = [a for a in members if a.kind is ArtifactKind.TRTEXEC_LOG]
    documents = {a.path: _documents(a.path) for a in members if a.kind in (ArtifactKind.PROFILE, ArtifactKind.TIMES)}
    if len(logs) == 1:
        labels = run_labels(logs[0].path)  # one label per run: the log is read once here
        if len(labels) >= 2:
            # One log of several runs: run i is its segment i and document i of every file holding one per run.
            per_run = {p for p, n in documents.items() if n == len(labels)}
            return [(f"{base} {label}", [Artifact(a.path, a.kind, i) if a is logs[0] or a.path in per_run else a
                                            for a in members]) for i, label in enumerate(labels)]
    count = max(documents.values(), default=0)
    per_run = {p for p, n in documents.items() if n == count}
    # Logs that exported to an appended file each wrote its newest document: pair them with the last
    # documents, oldest log first. A log that did not export there (the build's) is shared by every run.
    exporters = sorted((a for a in logs if {p.name for p in per_run} & set(_export_names(a.path))), key=_log_order)
    if count < 2 and len(exporters) < 2:
        return None
    paired, leftover = exporters[-count:], exporters[:-count]
    shared = [a for a in members if a not in exporters and a.path not in per_run]
    first_paired = count - len(paired)
    runs = []
    for i in range(count):
        log = paired[i - first_paired] if i >= first_paired else None
        runs.append((engine_display_name(artifact_key(log.path)) if log is not None and len(exporters) > 1
                     else f"{base} run {i + 1}",
                     shared + ([log] if log is not None else [])
                     + [Artifact(a.path, a.kind, i if count > 1 else None) for a in members if a.path in per_run]))
    # More logs than documents: the older runs' documents were overwritten; those logs are engines of their own.
    runs.extend((engine_display_name(artifact_key(log.path)), shared + [log]) for log in leftover)
    return runs


_TIMESTAMP = re.compile(r"\[(\d{1,2})/(\d{1,2})/(\d{4})-(\d{1,2}):(\d{2}):(\d{2})\]")


def _log_order(log: Artifact) -> tuple:
    """When the run started (its first ``[MM/DD/YYYY-HH:MM:SS]`` stamp), then its name, numbers as numbers."""
    with open(log.path, "rb") as handle:
        stamp = _TIMESTAMP.search(handle.read(8192).decode("utf-8", errors="replace"))
    when = (int(stamp[3]), int(stamp[1]), int(stamp[2]), int(stamp[4]), int(stamp[5]), int(stamp[6])) if stamp else ()
    natural = tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.findall(r"\d+|\D+", log.path.name))
    return (not stamp, when, natural)


def _documents(path: Path) -> int:
    try:
        return count_json_documents(path)
    except ArtifactFormatError:
        return 0


#: Files that describe an engine but are not one: they join the engine beside them.
_COMPANIONS = (ArtifactKind.CALIBRATION_CACHE, ArtifactKind.ACCURACY)
_ALONE = {ArtifactKind.CALIBRATION_CACHE: "a calibration cache with no engine beside it: `layerlens calib` reads it",
          ArtifactKind.ACCURACY: "an accuracy file with no build log beside it: it belongs to a LayerLens build"}


def _is_cache_only(members: list[Artifact]) -> bool:
    """A group of companion files only (a calibration cache, an accuracy file): not an engine of its own."""
    return all(a.kind in _COMPANIONS for a in members)


def _attach_caches_to_engines(groups: dict[tuple[Path, str], list[Artifact]]) -> None:
    """A calibration cache named differently from its engine joins it when it is the folder's only engine."""
    for key, members in list(groups.items()):
        if not _is_cache_only(members):
            continue
        engines = [k for k, m in groups.items() if k[0] == key[0] and not _is_cache_only(m)]
        if len(engines) == 1:
            groups[engines[0]].extend(groups.pop(key))


def _attach_exports_to_logs(groups: dict[tuple[Path, str], list[Artifact]]) -> None:
    """The files a log's command line exported join the log's group; several logs that exported to the same
    file (runs appending to one ``--exportProfile``) end up in one group, which :func:`_split_runs` splits."""
    by_file = {(a.path.parent, a.path.name): key for key, members in groups.items() for a in members}
    root: dict[tuple[Path, str], tuple[Path, str]] = {}

    def find(key):
        while root.get(key, key) != key:
            key = root[key]
        return key

    for key, members in list(groups.items()):
        for log in [a for a in members if a.kind is ArtifactKind.TRTEXEC_LOG]:
            for exported in _export_names(log.path):
                other = by_file.get((log.path.parent, exported))
                if other is not None and find(other) != find(key):
                    root[find(other)] = find(key)
    for key in list(groups):
        target = find(key)
        if target != key:
            groups[target].extend(groups.pop(key))


def _export_names(log_path: Path) -> list[str]:
    with open(log_path, "rb") as handle:
        head = handle.read(8192).decode("utf-8", errors="replace")
    match = BANNER.search(head)
    if not match:
        return []
    return [Path(m).name for m in re.findall(r"--export(?:LayerInfo|Profile|Times)=(\S+)", match[3])]


def load_engines(paths: list[str | Path], scratch: Path | None = None,
                 calibration_cache: str | Path | None = None) -> tuple[list[Engine], list[str]]:
    """Discover and read every engine under ``paths``; returns ``(engines, skipped files with why)``.

    A calibration cache with no engine beside it is skipped with a note (``layerlens calib`` reads it);
    ``calibration_cache`` attaches one named cache to every engine found.

    Raises:
        LayerLensError: a file is unreadable, malformed or not an artifact.
    """
    with counted_files_kept():
        return _load_engines(paths, scratch, calibration_cache)


def _load_engines(paths, scratch, calibration_cache) -> tuple[list[Engine], list[str]]:
    found = discover(paths, scratch)
    engines = []
    for name, members in found.groups.items():
        if _is_cache_only(members):
            found.skipped.extend(f"{a.path} ({_ALONE[a.kind]})" for a in members)
            continue
        if calibration_cache is not None:
            members = [a for a in members if a.kind is not ArtifactKind.CALIBRATION_CACHE]
            members.append(Artifact(Path(calibration_cache), ArtifactKind.CALIBRATION_CACHE))
            found.explicit.add(str(calibration_cache))
        engine = _engine_skipping_odd_files(name, members, found)
        if engine is not None:
            engines.append(engine)
    return engines, found.skipped


def _engine_skipping_odd_files(name: str, members: list[Artifact], found: Discovery) -> Engine | None:
    """Read one engine; a file found in a folder that fails to read is skipped with its reason, not fatal.

    One odd file (an unrelated JSON that looks like a profile, a truncated copy) must not sink the
    engines beside it. A file the user named is different: its error is the answer they need.
    """
    members = list(members)
    while members:
        try:
            return engine_from_artifacts(name, members)
        except ArtifactFormatError as exc:
            culprit = next((a for a in members if str(a.path) == exc.path), None)
            if culprit is None or exc.path in found.explicit:
                raise
            found.skipped.append(f"{exc.path} ({exc.what.removeprefix(exc.path + ': ').rstrip('.')})")
            members.remove(culprit)
    return None
