"""``layerlens dashboard``: Streamlit with the packaged settings, on this machine only unless asked.

Like TensorBoard (localhost unless ``--bind_all``) and Jupyter (a token in the
link), nothing leaves the machine unless the user says so, and then not without
a secret: ``--host ADDR`` exposes the dashboard, prints a warning and requires a
token, which reaches the Streamlit process through its environment (never argv,
so it is not in ``ps``). The settings travel with the package
(``dashboard/config.toml``) and are passed as flags, so they hold whatever the
current directory. Must not import Streamlit or the dashboard: it only locates
the dashboard's files.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from engine_core.errors import LayerLensError
from layerlens.access import ALLOW_DIRS_ENV, READ_ONLY_ENV, TOKEN_ENV, TOKEN_PARAM, is_loopback

LOCAL_HOST = "127.0.0.1"
WILDCARD_HOSTS = {"0.0.0.0": LOCAL_HOST, "::": "::1", "": LOCAL_HOST}  # every interface -> where to reach it here


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sharing options of ``layerlens dashboard``."""
    parser.add_argument("--host", default=LOCAL_HOST, metavar="ADDR",
                        help="address to listen on (default 127.0.0.1: this machine only). Any other address, e.g. "
                             "0.0.0.0 for every interface, lets other machines in: the dashboard then requires a "
                             "token and prints the link that carries it")
    parser.add_argument("--token", help="the access token browsers must bring as ?token= (default: $LAYERLENS_TOKEN, "
                                        "else a new random one when --host exposes the dashboard). Prefer the "
                                        "variable: a value given here is visible to other users of this machine in ps")
    parser.add_argument("--read-only", action="store_true",
                        help="share the store for viewing: no import, build, rename, tag or delete (the pages say so)")
    parser.add_argument("--allow-dir", action="append", default=[], metavar="DIR",
                        help="a folder whose files the pages may read by path (ONNX models, calibration data); "
                             "repeatable. Other paths must lie in the run store or the model and recipe caches")


@dataclass
class ServePlan:
    """Everything decided before the server starts (and before any demo build), so bad options fail fast."""

    app: Path                 # dashboard/streamlit_app.py
    argv: list[str]           # the Streamlit command
    env: dict[str, str]       # its environment (token, read-only, allowed folders, store)
    host: str
    port: int
    token: str | None
    store: str                # for the banner
    read_only: bool
    headless: bool

    @property
    def exposed(self) -> bool:
        return not is_loopback(self.host)

    def link(self, path: str = "") -> str:
        """The URL to print: another machine's way in when exposed, with the token when there is one."""
        import socket  # here, as secrets, signal and subprocess below: `layerlens --help` builds this parser

        host = socket.gethostname() if self.host in WILDCARD_HOSTS else self.host
        return _url(host, self.port, path, self.token)

    @property
    def local_host(self) -> str:
        """Where this machine reaches the server (a wildcard address is not one to connect to)."""
        return WILDCARD_HOSTS.get(self.host, self.host)

    def local_link(self, path: str = "") -> str:
        """The same page reached from this machine, for the browser it opens."""
        return _url(self.local_host, self.port, path, self.token)


def _url(host: str, port: int, path: str, token: str | None) -> str:
    host = f"[{host}]" if ":" in host else host  # an IPv6 literal
    path = path or "/"
    if token:
        path += ("&" if "?" in path else "?") + urlencode({TOKEN_PARAM: token})
    return f"http://{host}:{port}{path}"


def find_app() -> Path:
    """The dashboard's router, located without importing the dashboard (or Streamlit).

    The distribution installs ``layerlens`` and ``dashboard`` side by side (a checkout has them side by
    side too), so this finds the dashboard that came with this CLI, not whatever else is importable under
    that generic name first on ``sys.path`` (a ``dashboard`` folder in the current directory, say).

    Raises:
        LayerLensError: the dashboard package or its settings are missing from this installation.
    """
    app = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"
    if not app.is_file() or not (app.parent / "config.toml").is_file():
        raise LayerLensError("The LayerLens dashboard package is not installed (or is missing its files).",
                             "Reinstall LayerLens: pip install --force-reinstall layerlens (or `make run` in a checkout).")
    return app


def read_settings(app: Path) -> dict[str, dict]:
    """The packaged Streamlit settings (``dashboard/config.toml``): ``{section: {option: value}}``."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    with open(app.parent / "config.toml", "rb") as f:
        return tomllib.load(f)


def streamlit_flags(settings: dict[str, dict]) -> list[str]:
    """``--section.option value`` for every setting, as ``streamlit run`` takes them."""
    flags = []
    for section, options in settings.items():
        for option, value in options.items():
            flags += [f"--{section}.{option}", str(value).lower() if isinstance(value, bool) else str(value)]
    return flags


def plan_dashboard(args, environ: dict[str, str] | None = None) -> ServePlan:
    """Check the options and compose the Streamlit command and environment.

    Raises:
        LayerLensError: an ``--allow-dir`` that is not a folder, or an empty token.
    """
    environ = dict(os.environ if environ is None else environ)
    app = find_app()
    token = args.token if args.token is not None else environ.get(TOKEN_ENV)
    if token == "":
        raise LayerLensError("The access token is empty.", "Leave --token and LAYERLENS_TOKEN unset for a random one.")
    if token is None and not is_loopback(args.host):
        import secrets

        token = secrets.token_urlsafe(24)  # 192 bits: the link is the only way in
    allowed = []
    for folder in args.allow_dir:
        path = Path(folder).expanduser().resolve()
        if not path.is_dir():
            raise LayerLensError(f"--allow-dir {folder}: no such folder.", "Give a folder that exists on this machine.")
        allowed.append(str(path))
    env = {k: v for k, v in environ.items() if k not in (TOKEN_ENV, READ_ONLY_ENV, ALLOW_DIRS_ENV)}
    if token:
        env[TOKEN_ENV] = token
    if args.read_only:
        env[READ_ONLY_ENV] = "1"
    if allowed:
        env[ALLOW_DIRS_ENV] = os.pathsep.join(allowed)
    if args.store:
        env["LAYERLENS_RUNS"] = str(Path(args.store).expanduser().resolve())
    settings = read_settings(app)
    # The address and port are this command's; our own banner replaces Streamlit's, which would print a
    # "Network URL" (and look up this machine's external IP) whatever the address.
    settings.setdefault("server", {}).update(address=args.host, port=args.port)
    settings.setdefault("logger", {})["hideWelcomeMessage"] = True
    argv = [sys.executable, "-m", "dashboard.server", "run", str(app), *streamlit_flags(settings)]  # libraries imported first
    return ServePlan(app=app, argv=argv, env=env, host=args.host, port=args.port, token=token,
                     store=env.get("LAYERLENS_RUNS") or "~/.layerlens/runs", read_only=args.read_only,
                     headless=args.headless)


def serve_dashboard(plan: ServePlan, path: str = "") -> int:
    """Start Streamlit, print the one link to it once it answers, and wait (Ctrl+C stops it)."""
    import webbrowser

    if plan.exposed:
        powers = f"see every run in {plan.store}" + (
            "" if plan.read_only else ", import, build on this machine and delete runs (--read-only stops that)")
        print(f"layerlens: warning: the dashboard listens on {plan.host}:{plan.port}, where other machines can reach "
              f"it. Only a browser that brings the token in the link below gets in, but anyone with the link can "
              f"{powers}. Share it like a password.", file=sys.stderr, flush=True)
    import signal
    import subprocess

    mode = "; read-only" if plan.read_only else ""
    # `kill` (SIGTERM) stops the server too, as Ctrl+C does, instead of leaving it listening without us.
    signal.signal(signal.SIGTERM, _interrupt)
    # The package root as working folder: Streamlit's `-m` puts it on sys.path, where the packages already are.
    proc = subprocess.Popen(plan.argv, env=plan.env, cwd=plan.app.parent.parent)
    health = _url(plan.local_host, plan.port, "/_stcore/health", None)
    try:
        for _ in range(120):
            if proc.poll() is not None:
                break
            try:
                import urllib.request  # here: the rest of the CLI never needs it

                if urllib.request.urlopen(health, timeout=1).read() == b"ok":
                    print(f"LayerLens dashboard: {plan.link(path)}  (store: {plan.store}{mode}; Ctrl+C stops)",
                          flush=True)
                    if not plan.headless:
                        webbrowser.open(plan.local_link(path))
                    break
            except OSError:
                time.sleep(0.5)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt
