"""``python -m csms.demo`` stopped by SIGTERM (``kill``, ``timeout``, a service manager) stops
its CSMS and simulators too, as Ctrl-C does: they once kept running and held the ports, so the
next ``make demo`` failed with "is port 8000 or 9000 in use?"."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and \
        Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_sigterm_stops_the_csms_and_the_simulators(tmp_path):
    http, ocpp = _free_port(), _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "csms.demo", "--db", str(tmp_path / "demo.db"), "--chargers", "2",
         "--fleet", "0", "--speed", "60", "--http-port", str(http), "--ocpp-port", str(ocpp)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    children: list[int] = []
    try:
        deadline = time.monotonic() + 90
        for line in proc.stdout:
            if "Ctrl-C stops everything" in line:
                break
            assert time.monotonic() < deadline, "the demo did not start"
        while len(children) < 2 and time.monotonic() < deadline:  # csms serve + simulators
            children = _children_of(proc.pid)
            time.sleep(0.2)
        assert len(children) == 2, children
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=40) == 0
        for pid in children:
            for _ in range(50):
                if not _alive(pid):
                    break
                time.sleep(0.2)
            assert not _alive(pid), f"child {pid} outlived the demo"
        for port in (http, ocpp):
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))  # free again
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in children:  # never leave them running, even when the test fails
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
