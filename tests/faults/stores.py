"""Private stores a fault test may break: a PostgreSQL cluster of its own on a free port, and a
size-limited tmpfs for SQLite. Never the shared services (the guide: tests that stop or break a
service start their own instance)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path("/usr/local/bin")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(*cmd: str) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *cmd], capture_output=True, text=True, check=True)


@dataclass
class PrivatePostgres:
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "-w", "-t", "60",
                     *args)

    def start(self) -> None:
        self._ctl("-l", str(self.root / "log"), "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off",
                  "start")

    def crash(self) -> None:
        """Stop at once, as a crash or an unplugged server would (no clean shutdown)."""
        self._ctl("-m", "immediate", "stop")


@contextlib.contextmanager
def private_postgres():
    root = Path(tempfile.mkdtemp(prefix="csms-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    cluster = PrivatePostgres(root, _free_port())
    try:
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(root / "data"), "-A", "trust",
                     "-U", "postgres", "--no-sync")
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.crash()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def small_tmpfs(size: str = "8m"):
    """A tmpfs of ``size`` (needs root): a disk that fills up."""
    mount = Path(tempfile.mkdtemp(prefix="csms-tmpfs-", dir="/tmp"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                   check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        shutil.rmtree(mount, ignore_errors=True)


def fill(directory: Path) -> Path:
    """Write a file until the filesystem is full; delete it to free the space."""
    filler = directory / "filler"
    # Unbuffered: a buffered file would raise ENOSPC again when closed,
    # flushing what the full disk refused.
    with contextlib.suppress(OSError), open(filler, "wb", buffering=0) as out:
        while True:
            out.write(b"\0" * 65536)
    return filler
