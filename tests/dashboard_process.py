"""`layerlens dashboard` as a user starts it: what it prints, and which sockets its processes listen on.

The sockets are read from ``/proc`` (what ``ss -ltnp`` shows): the listening
TCP entries on the port, kept only when a process of the dashboard's own tree
holds them.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

LINK = re.compile(r"LayerLens dashboard: (http://\S+)")


def on_own_thread(fn, *args):
    """``fn(*args)`` on a fresh thread, its exception re-raised here.

    Playwright's sync API refuses to start on a thread where an asyncio loop is running, and a test
    that runs late in the suite cannot know what earlier ones left on the main thread.
    """
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 (re-raised on the caller's thread)
            outcome["error"] = exc

    worker = threading.Thread(target=run, name=getattr(fn, "__name__", "worker"))
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Dashboard:
    proc: subprocess.Popen
    link: str
    port: int
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        """SIGTERM to the CLI, as `kill` sends; whatever of its session survives is killed after 20 s."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.time() + 20
        while session_pids(self.proc.pid) and time.time() < deadline:
            time.sleep(0.2)
        if session_pids(self.proc.pid):
            os.killpg(self.proc.pid, signal.SIGKILL)


def start_dashboard(argv: list[str], port: int, env: dict | None = None, cwd: str | Path | None = None,
                    timeout: float = 120) -> Dashboard:
    """Run ``argv`` (a ``layerlens dashboard`` command) in its own session until it prints its link.

    Everything it prints, before and after the link, is collected in ``Dashboard.lines``.
    """
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: list[str] = []
    printed_link = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)
            if LINK.search(line):
                printed_link.set()
        printed_link.set()  # it exited: stop waiting

    threading.Thread(target=read, daemon=True).start()
    printed_link.wait(timeout)
    links = [m[1] for m in map(LINK.search, lines) if m]
    dashboard = Dashboard(proc, links[0] if links else "", port, lines)
    if not links:
        dashboard.stop()
        raise AssertionError("layerlens dashboard printed no link:\n" + dashboard.output)
    return dashboard


def session_pids(sid: int) -> list[int]:
    """Processes still alive in session ``sid`` (the CLI and the Streamlit server it started)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # fields after the name: state, ppid, pgrp, session
            pids.append(int(stat.parent.name))
    return pids


def listening_addresses(port: int) -> dict[str, set[int]]:
    """``{address: {socket inodes}}`` of every TCP socket listening on ``port``, IPv4 and IPv6."""
    found: dict[str, set[int]] = {}
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] != "0A" or int(port_hex, 16) != port:  # 0A: TCP_LISTEN
                continue
            raw = bytes.fromhex(address)  # each 32-bit word in host (little-endian) order
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            found.setdefault(socket.inet_ntop(family, raw), set()).add(int(fields[9]))
    return found


def socket_inodes(pids: list[int]) -> set[int]:
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    return inodes


def dashboard_listens_on(dashboard: Dashboard) -> set[str]:
    """The addresses the dashboard's processes listen on at its port; fails if another process holds one."""
    mine = socket_inodes(session_pids(dashboard.proc.pid))
    listening = listening_addresses(dashboard.port)
    strangers = {a for a, inodes in listening.items() if not inodes & mine}
    assert not strangers, f"another process listens on port {dashboard.port}: {strangers}"
    return set(listening)
