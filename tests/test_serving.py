"""`layerlens dashboard`: this machine only by default, a token when exposed, the packaged settings, one version.

The socket tests start the real command and read the sockets its processes
listen on from /proc, as ``ss -ltnp`` would show them.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import urllib.request
from importlib.metadata import version

import pytest

from conftest import REPO
from dashboard_process import dashboard_listens_on, free_port, listening_addresses, session_pids, start_dashboard
from engine_core.errors import LayerLensError
from layerlens.cli import build_parser, main
from layerlens.cli.serve import find_app, plan_dashboard, read_settings, streamlit_flags


def _plan(*argv, environ=None):
    return plan_dashboard(build_parser().parse_args(["dashboard", *argv]), environ={} if environ is None else environ)


def _flags(plan) -> dict[str, str]:
    """The Streamlit command's ``--section.option value`` pairs."""
    args = plan.argv[plan.argv.index(str(plan.app)) + 1:]
    return dict(zip(args[::2], args[1::2]))


def test_default_is_this_machine_only_without_a_token():
    plan = _plan("--port", "8600")
    assert plan.host == "127.0.0.1" and not plan.exposed and plan.token is None
    assert _flags(plan)["--server.address"] == "127.0.0.1" and _flags(plan)["--server.port"] == "8600"
    assert "LAYERLENS_TOKEN" not in plan.env
    assert plan.link() == "http://127.0.0.1:8600/" and plan.link("/compare?run=a") == "http://127.0.0.1:8600/compare?run=a"


def test_an_exposed_host_gets_a_random_token_in_the_environment_not_the_command_line():
    plan, again = _plan("--host", "0.0.0.0"), _plan("--host", "0.0.0.0")
    assert plan.exposed and len(plan.token) == 32 and plan.token != again.token  # 24 random bytes, url-safe
    assert plan.env["LAYERLENS_TOKEN"] == plan.token
    assert plan.token not in " ".join(plan.argv)  # `ps` shows argv, never the token
    assert _flags(plan)["--server.address"] == "0.0.0.0"
    assert plan.link("/compare?run=a") == f"http://{socket.gethostname()}:8501/compare?run=a&token={plan.token}"
    assert plan.local_link() == f"http://127.0.0.1:8501/?token={plan.token}"
    v6 = _plan("--host", "::", environ={"LAYERLENS_TOKEN": "t"})
    assert v6.local_link() == "http://[::1]:8501/?token=t"


def test_a_given_token_is_required_even_on_this_machine():
    from_env = _plan(environ={"LAYERLENS_TOKEN": "team secret/1"})
    assert from_env.token == "team secret/1" and from_env.env["LAYERLENS_TOKEN"] == "team secret/1"
    assert from_env.link() == "http://127.0.0.1:8501/?token=team+secret%2F1"  # quoted in the link
    assert _plan("--token", "flag", environ={"LAYERLENS_TOKEN": "env"}).token == "flag"
    with pytest.raises(LayerLensError, match="The access token is empty"):
        _plan("--token", "")


def test_read_only_and_allowed_folders_reach_the_dashboard_and_nothing_stale_does(tmp_path):
    (tmp_path / "models").mkdir()
    stale = {"LAYERLENS_READ_ONLY": "1", "LAYERLENS_ALLOW_DIRS": "/", "LAYERLENS_RUNS": "/elsewhere"}
    plan = _plan("--read-only", "--allow-dir", str(tmp_path / "models" / ".." / "models"), "--allow-dir", str(tmp_path),
                 "--store", str(tmp_path / "runs"), environ=stale)
    assert plan.read_only and plan.env["LAYERLENS_READ_ONLY"] == "1"
    assert plan.env["LAYERLENS_ALLOW_DIRS"] == os.pathsep.join([str(tmp_path / "models"), str(tmp_path)])
    assert plan.env["LAYERLENS_RUNS"] == str(tmp_path / "runs")
    plain = _plan(environ=stale)  # the command's flags decide, not what the shell had exported
    assert "LAYERLENS_READ_ONLY" not in plain.env and "LAYERLENS_ALLOW_DIRS" not in plain.env


def test_a_missing_allow_dir_is_one_line_before_anything_starts(tmp_path, capsys):
    assert main(["dashboard", "--allow-dir", str(tmp_path / "nope"), "--no-demo"]) == 1
    assert capsys.readouterr().err == (f"layerlens: error: --allow-dir {tmp_path / 'nope'}: no such folder. "
                                       "Give a folder that exists on this machine.\n")


def test_packaged_settings_are_passed_whatever_the_current_folder():
    settings = read_settings(find_app())
    assert settings["client"]["showErrorDetails"] == "none" and settings["server"]["maxUploadSize"] == 200
    flags = _flags(_plan("--port", "8600"))
    for section, options in settings.items():
        for option, value in options.items():
            if (section, option) not in (("server", "address"), ("server", "port")):
                assert flags[f"--{section}.{option}"] == (str(value).lower() if isinstance(value, bool) else str(value))
    assert flags["--logger.hideWelcomeMessage"] == "true"  # its "Network URL" banner is replaced by our one link


def test_every_packaged_setting_is_a_streamlit_option():
    from streamlit import config

    options = config.get_config_options()
    assert [f for f in streamlit_flags(read_settings(find_app()))[::2] if f[2:] not in options] == []


def test_the_repository_streamlit_config_is_the_packaged_one():
    # `streamlit run dashboard/streamlit_app.py` in a checkout reads .streamlit/config.toml; both must say the same.
    assert (REPO / ".streamlit" / "config.toml").read_bytes() == (REPO / "dashboard" / "config.toml").read_bytes()


def test_version_comes_from_the_package_metadata():
    import engine_core

    assert engine_core.__version__ == version("layerlens")
    out = subprocess.run([sys.executable, "-m", "layerlens", "--version"], capture_output=True, text=True, cwd=REPO)
    assert out.stdout == f"layerlens {version('layerlens')}\n"
    # A checkout put on sys.path without being installed says so instead of guessing a number.
    code = ("import importlib.metadata as m\n"
            "def missing(name): raise m.PackageNotFoundError(name)\n"
            "m.version = missing\n"
            "import engine_core; print(engine_core.__version__)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO).stdout == "0+unknown\n"


def _dashboard(tmp_path, *extra):
    port = free_port()
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}  # this checkout's code, from elsewhere
    env.pop("LAYERLENS_TOKEN", None)
    argv = [sys.executable, "-m", "layerlens", "dashboard", "--headless", "--no-demo", "--port", str(port),
            "--store", str(tmp_path / "runs"), *extra]
    return start_dashboard(argv, port, env=env, cwd=tmp_path)  # started away from the checkout


def test_default_server_listens_on_127_0_0_1_only_and_prints_one_local_link(tmp_path):
    dashboard = _dashboard(tmp_path)
    try:
        assert dashboard_listens_on(dashboard) == {"127.0.0.1"}
        assert dashboard.link == f"http://127.0.0.1:{dashboard.port}/"
        assert dashboard.output.count("http://") == 1 and "token" not in dashboard.output
        assert "Network URL" not in dashboard.output and "warning" not in dashboard.output
    finally:
        dashboard.stop()
    assert not session_pids(dashboard.proc.pid) and not listening_addresses(dashboard.port)  # the server went with it


def test_exposed_server_listens_everywhere_with_a_tokenised_link_and_a_warning(tmp_path):
    dashboard = _dashboard(tmp_path, "--host", "0.0.0.0")
    try:
        assert dashboard_listens_on(dashboard) == {"0.0.0.0"}
        token = dashboard.link.rsplit("?token=", 1)[1]
        assert dashboard.link == f"http://{socket.gethostname()}:{dashboard.port}/?token={token}" and len(token) == 32
        assert ("layerlens: warning: the dashboard listens on 0.0.0.0:"
                f"{dashboard.port}, where other machines can reach it.") in dashboard.output
        assert "delete runs (--read-only stops that)" in dashboard.output
        assert dashboard.output.count(token) == 1  # printed once, in the link
        health = f"http://127.0.0.1:{dashboard.port}/_stcore/health"
        assert urllib.request.urlopen(health, timeout=10).read() == b"ok"
    finally:
        dashboard.stop()
    assert not session_pids(dashboard.proc.pid)


def test_the_server_imports_what_the_pages_import_before_it_listens_and_no_dashboard_module():
    # `layerlens dashboard` starts Streamlit through dashboard/server.py, which imports the libraries first so the
    # first page opened does not wait for them; the dashboard's own modules (Streamlit caches) are left to the app.
    assert _plan().argv[1:4] == ["-m", "dashboard.server", "run"]
    pages = sorted((REPO / "dashboard").rglob("*.py"))
    imported = {m for p in pages for m in re.findall(r"^\s*from ((?:engine_core|layerlens)\.[\w.]+) import", p.read_text(), re.M)}
    code = ("import json, sys, dashboard.server as s\ns.preload()\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'dashboard')))\n"
            "print(json.dumps(sorted(m for m in sys.argv[1:] if m not in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code, *sorted(imported)], capture_output=True, text=True, cwd=REPO, check=True)
    dashboard_modules, not_loaded = out.stdout.splitlines()
    assert json.loads(dashboard_modules) == ["dashboard", "dashboard.server"]
    # Left for the Build and Models pages: the builders and the ONNX model reader.
    assert [m for m in json.loads(not_loaded) if not m.startswith(("engine_core.build.", "engine_core.models.onnx_info"))] == []
