"""Run a real `csms serve` in a subprocess for end-to-end tests.

The server prints its chosen ports at start (`OCPP gateway: ws://HOST:PORT/ocpp/...` and
`HTTP console: http://HOST:PORT/`); we parse them, create an admin API token with
`csms token create`, and stop the process at the end.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

OCPP_RE = re.compile(r"OCPP gateway: (ws://[\d.]+:\d+)/ocpp/")
HTTP_RE = re.compile(r"HTTP console: (http://[\d.]+:\d+)/")
TLS_RE = re.compile(r"OCPP gateway \(TLS\): (wss://[\d.]+:\d+)/ocpp/")


def test_database_url(tmp_path: Path) -> str:
    return os.environ.get("CSMS_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'csms.db'}"


@dataclass
class ServerHandle:
    process: subprocess.Popen
    ocpp_base: str  # ws://127.0.0.1:PORT
    http_url: str  # http://127.0.0.1:PORT
    database_url: str
    api_token: str = ""
    output: list[str] = field(default_factory=list)
    wss_base: str | None = None  # wss://127.0.0.1:PORT when started with --tls-cert

    @property
    def ocpp_url(self) -> str:
        """Endpoint prefix: charger URL is f"{ocpp_url}/{charge_point_id}"."""
        return f"{self.ocpp_base}/ocpp"

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_token}"}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """Simulate a crash: SIGKILL, no shutdown."""
        self.process.kill()
        self.process.wait()


def free_port_url() -> str:
    """A PostgreSQL URL where nothing listens: a database that is down."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/csms"


def csms_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "csms.cli", *args]


def start_server(tmp_path: Path, open_mode: bool = True, extra: tuple[str, ...] = (),
                 env: dict[str, str] | None = None, timeout_s: float = 30.0,
                 fresh: bool = True, preexec_fn=None, database_url: str | None = None
                 ) -> ServerHandle:
    """``fresh=False`` restarts on what an earlier server of the test stored;
    ``preexec_fn`` runs in the child before exec (e.g. to lower its descriptor limit);
    ``database_url`` overrides the test database (a private cluster, a small disk)."""
    db_url = database_url or test_database_url(tmp_path)
    if "postgresql" in db_url and fresh:
        _reset_postgres(db_url)
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    token = subprocess.run(
        csms_command("token", "create", "--name", "tests", "--role", "admin",
                     "--database-url", db_url),
        capture_output=True, text=True, env=full_env, check=True).stdout.strip().splitlines()[-1]
    cmd = csms_command("serve", "--database-url", db_url, "--http-port", "0", "--ocpp-port", "0",
                       "--no-migrate", *(["--open"] if open_mode else []), *extra)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=full_env, preexec_fn=preexec_fn)
    output: list[str] = []
    found: dict[str, str] = {}
    tls_found: list[str] = []  # printed before the HTTP line, so read when ready is set
    ready = threading.Event()

    def pump() -> None:
        for line in proc.stdout:  # keep draining so the server never blocks on a full pipe
            output.append(line)
            if (m := OCPP_RE.search(line)):
                found["ocpp"] = m.group(1)
            if (m := HTTP_RE.search(line)):
                found["http"] = m.group(1)
            if (m := TLS_RE.search(line)):
                tls_found.append(m.group(1))
            if len(found) == 2:
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while not ready.wait(0.1):
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("csms serve did not start:\n" + "".join(output))
    if len(found) != 2:
        raise RuntimeError("csms serve exited:\n" + "".join(output))
    return ServerHandle(proc, found["ocpp"], found["http"], db_url, token, output,
                        tls_found[0] if tls_found else None)


def _reset_postgres(db_url: str) -> None:
    """Each e2e server gets an empty schema on the shared PostgreSQL test database."""
    import sqlalchemy as sa

    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
