"""Who may see the dashboard and what it may touch: the access token, read-only mode and the path fences.

``layerlens dashboard`` sets three environment variables for the Streamlit
process (never argv, so the token is not in ``ps``): ``LAYERLENS_TOKEN`` (the
secret a browser must bring as ``?token=``), ``LAYERLENS_READ_ONLY`` (no import,
build, rename, tag or delete) and ``LAYERLENS_ALLOW_DIRS`` (extra folders the
pages may read, ``os.pathsep``-separated). ``streamlit run`` users may set them
by hand. Server-side paths typed into a page are fenced to the run store, the
models and recipes caches and those folders, after following links.

One definition for the CLI, which sets the policy up, and the dashboard, which
enforces it (``dashboard/components/gate.py`` draws the refusal page). Must not
import Streamlit, the dashboard or the CLI.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
from pathlib import Path

from engine_core.errors import LayerLensError

TOKEN_ENV = "LAYERLENS_TOKEN"
READ_ONLY_ENV = "LAYERLENS_READ_ONLY"
ALLOW_DIRS_ENV = "LAYERLENS_ALLOW_DIRS"
TOKEN_PARAM = "token"  # the query parameter of the link `layerlens dashboard` prints


class PathNotAllowedError(LayerLensError):
    """A server-side path resolves outside every folder the dashboard may read."""


def required_token() -> str | None:
    """The access token browsers must bring, or None when the dashboard is open to whoever reaches it."""
    return os.environ.get(TOKEN_ENV) or None


def token_digest(token: str) -> str:
    """What a session remembers once it brought the right token (never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so response times say nothing about how much of a guess was right."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def is_loopback(address: str | None) -> bool:
    """True for addresses only this machine can reach (``127.0.0.1``, ``::1``, ``localhost``).

    An empty address is Streamlit's "every interface", so it is not loopback.
    """
    if not address:
        return False
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything, so it counts as exposed
        return False


def read_only() -> bool:
    """True when the dashboard shares its store for viewing only (``--read-only``)."""
    return os.environ.get(READ_ONLY_ENV, "") not in ("", "0")


def allowed_dirs() -> list[Path]:
    """The folders given with ``--allow-dir``, in order."""
    return [Path(p) for p in os.environ.get(ALLOW_DIRS_ENV, "").split(os.pathsep) if p]


def readable_roots(store_root: Path) -> list[Path]:
    """Every folder a page may read a server-side path from: the store, the two caches, ``--allow-dir``."""
    from engine_core.models.zoo import models_cache_dir
    from engine_core.recipes.apply import recipes_cache_dir

    return [store_root, models_cache_dir(), recipes_cache_dir(), *allowed_dirs()]


def fence(path: str | Path, roots: list[Path], what: str) -> Path:
    """``path`` with every link and ``..`` resolved, if that lies inside one of ``roots``.

    A path that does not exist yet is resolved as far as it goes, so it is fenced
    the same way and fails later with the caller's own "not found" message.

    Args:
        path: what the user typed (absolute, relative to the server's working folder, or ``~/...``).
        roots: the folders allowed (see :func:`readable_roots`); each is resolved too.
        what: the field's name for the message ("Model path").

    Raises:
        PathNotAllowedError: the resolved path is outside every root.
    """
    resolved = Path(path).expanduser().resolve()
    for root in roots:
        if resolved.is_relative_to(Path(root).expanduser().resolve()):
            return resolved
    shown = ", ".join(f"`{r}`" for r in roots)
    raise PathNotAllowedError(
        f"{what} `{path}` is outside the folders this dashboard may read ({shown}).",
        "Upload the file instead, or restart with `layerlens dashboard --allow-dir FOLDER` for the folder that holds it.")
