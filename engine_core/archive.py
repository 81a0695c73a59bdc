"""Safe extraction of uploaded zip archives of artifacts.

A zip from a teammate or the browser is untrusted: it may hold absolute paths or
``..`` (zip-slip), symlinks, thousands of entries, or a tiny file that inflates
to gigabytes. :func:`extract_zip` refuses all of these with an
:class:`~engine_core.errors.ArtifactFormatError` before writing anything outside
``dest``.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from engine_core.errors import ArtifactFormatError, ArtifactTooLargeError
from engine_core.importers.jsonio import MAX_ARTIFACT_BYTES

MAX_ZIP_ENTRIES = 2000
MAX_ZIP_TOTAL_BYTES = 2 * MAX_ARTIFACT_BYTES
MAX_COMPRESSION_RATIO = 200  # JSON compresses ~10-30x; bombs reach 1000x+


def extract_zip(archive: str | Path, dest: str | Path) -> list[Path]:
    """Extract the regular files of ``archive`` into ``dest``; return their paths.

    Raises:
        ArtifactFormatError: not a zip, unsafe member names, or links.
        ArtifactTooLargeError: too many entries, too many bytes, or a zip bomb.
    """
    archive, dest = Path(archive), Path(dest)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArtifactFormatError(str(archive), f"is not a readable zip archive ({exc}).",
                                  "Upload the artifact files themselves, or re-create the zip.") from None
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        _check_members(archive, members)
        out = []
        for member in members:
            target = dest.joinpath(*PurePosixPath(member.filename).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as src, open(target, "wb") as dst:
                remaining = member.file_size
                while chunk := src.read(1 << 20):
                    remaining -= len(chunk)
                    if remaining < 0:  # header lied about the size
                        raise ArtifactTooLargeError(str(archive), f"member {member.filename} inflates past its declared size.",
                                                    "The archive is corrupt or hostile; re-create it.")
                    dst.write(chunk)
            out.append(target)
    return out


def _check_members(archive: Path, members: list[zipfile.ZipInfo]) -> None:
    if len(members) > MAX_ZIP_ENTRIES:
        raise ArtifactTooLargeError(str(archive), f"holds {len(members)} files, over the {MAX_ZIP_ENTRIES} limit.",
                                    "Zip only the artifacts of the engines you want to import.")
    total = sum(m.file_size for m in members)
    if total > MAX_ZIP_TOTAL_BYTES:
        raise ArtifactTooLargeError(str(archive), f"inflates to {total / 2**20:.0f} MiB, over the "
                                    f"{MAX_ZIP_TOTAL_BYTES / 2**20:.0f} MiB limit.", "Import fewer files at once.")
    for m in members:
        parts = PurePosixPath(m.filename.replace("\\", "/")).parts
        if m.filename.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise ArtifactFormatError(str(archive), f"has an unsafe member path {m.filename!r}.",
                                      "Re-create the zip with relative paths only.")
        if stat.S_ISLNK(m.external_attr >> 16):
            raise ArtifactFormatError(str(archive), f"has a symbolic link {m.filename!r}.",
                                      "Re-create the zip without links.")
        if m.compress_size and m.file_size / m.compress_size > MAX_COMPRESSION_RATIO:
            raise ArtifactTooLargeError(str(archive), f"member {m.filename!r} has a {m.file_size // m.compress_size}x "
                                        "compression ratio (a zip bomb?).", "Re-create the zip from the real files.")
