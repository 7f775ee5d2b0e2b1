"""Store outages under a running site: nothing a charger sent is lost, doubled or wrong.

A real `csms serve` on a store of its own (a private PostgreSQL cluster crashed and restarted, or
SQLite on a tmpfs that fills up), simulated 1.6 and 2.0.1 chargers charging through the outage.
While the store cannot write, the CSMS acknowledges nothing: it closes the link (1013) and refuses
handshakes (503), so the chargers queue their transaction messages and re-send them when it is
back. Afterwards the sessions the CSMS stores equal the chargers' own ledgers exactly, and the
outage is a few log lines, not one per message.
"""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest

from simulators.clock import SimClock
from simulators.ev import EV
from simulators.vehicles import vehicle
from tests.faults.stores import fill, private_postgres, small_tmpfs
from tests.server import start_server
from tests.simulators.helpers import START, make_charger, running
from tests.simulators.test_e2e_csms import same

# Not marked ``store``: each test brings its own store (a private cluster, a small disk), so the
# PostgreSQL pass of `make test-store-pg` would only run them a second time.
pytestmark = pytest.mark.allow_error_logs
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounts a tmpfs / a read-only bind")
SPEED = 120.0
CHARGERS = [("1.6", "OUT-16-A"), ("1.6", "OUT-16-B"), ("2.0.1", "OUT-201-A"),
            ("2.0.1", "OUT-201-B")]
CARS = ["Peugeot e-208", "Renault Twingo E-Tech", "Dacia Spring", "Tesla Model 3"]


async def _stored_sessions(server) -> list[dict]:
    async with httpx.AsyncClient(base_url=server.http_url, headers=server.auth_headers,
                                 timeout=10) as client:
        response = await client.get("/api/v1/sessions")
        if response.status_code == 503:
            return []
        response.raise_for_status()
        return response.json()


async def _site_through(server, outage, *, before_s: float = 3.0, during_s: float = 12.0):
    """Four chargers charge one car each for 40 simulated minutes; ``outage`` (an async
    context manager) breaks the store ``before_s`` wall seconds in, for ``during_s``."""
    clock = SimClock(SPEED, START)
    chargers = [make_charger(protocol, server.ocpp_url, cid=cid, clock=clock)
                for protocol, cid in CHARGERS]
    async with running(chargers[0]), running(chargers[1]), running(chargers[2]), \
            running(chargers[3]):
        sessions = [ch.plug_in(1, EV(vehicle(car), soc_pct=20.0), f"TAG-{ch.id}",
                               dwell_s=2400) for ch, car in zip(chargers, CARS, strict=True)]
        await asyncio.sleep(before_s)
        async with outage():
            await asyncio.sleep(during_s)
        await asyncio.wait_for(asyncio.gather(*sessions), 60 + during_s)
        ledger = [entry for ch in chargers for entry in ch.ledger]
        stored: list[dict] = []
        for _ in range(300):  # the queued messages arrive after the chargers reconnect
            stored = await _stored_sessions(server)
            if len(stored) >= len(ledger) and all(s["stopped_at"] for s in stored):
                break
            await asyncio.sleep(0.2)
    return ledger, stored


def _error_lines(server) -> list[str]:
    return [line for line in server.output if " ERROR " in line or "Traceback" in line]


async def test_postgres_crash_and_restart_loses_nothing(tmp_path):
    with private_postgres() as cluster:
        server = start_server(tmp_path, database_url=cluster.url,
                              extra=("--speed", str(SPEED), "--start", START.isoformat()))
        try:
            from contextlib import asynccontextmanager

            @asynccontextmanager
            async def crashed():
                await asyncio.to_thread(cluster.crash)
                try:
                    yield
                finally:
                    await asyncio.to_thread(cluster.start)

            # A minute down: every car ends its session while the store is away.
            ledger, stored = await _site_through(server, crashed, during_s=60.0)
        finally:
            server.stop()
    assert len(ledger) == 4 and all(e.energy_wh > 1000 for e in ledger), ledger
    assert same(ledger, stored), (ledger, stored)
    assert not any(s["active"] for s in stored if "active" in s)
    assert "store unavailable" in "".join(server.output)
    assert len(_error_lines(server)) <= 3, _error_lines(server)[:10]


@needs_root
async def test_sqlite_disk_full_loses_nothing(tmp_path):
    with small_tmpfs("16m") as disk:
        server = start_server(tmp_path, database_url=f"sqlite:///{disk / 'csms.db'}",
                              extra=("--speed", str(SPEED), "--start", START.isoformat()))
        try:
            from contextlib import asynccontextmanager

            @asynccontextmanager
            async def disk_full():
                filler = await asyncio.to_thread(fill, disk)
                try:
                    yield
                finally:
                    filler.unlink(missing_ok=True)

            ledger, stored = await _site_through(server, disk_full)
        finally:
            server.stop()
    assert len(ledger) == 4 and all(e.energy_wh > 1000 for e in ledger), ledger
    assert same(ledger, stored), (ledger, stored)
    assert "store unavailable" in "".join(server.output)
    assert len(_error_lines(server)) <= 3, _error_lines(server)[:10]


@needs_root
def test_sqlite_on_a_read_only_filesystem_refuses_to_start_in_one_line(tmp_path):
    """A read-only database (its -wal and -shm too) used to end in SIGBUS at the first write,
    with no log line."""
    import subprocess

    from tests.server import csms_command

    writable, read_only = tmp_path / "rw", tmp_path / "ro"
    writable.mkdir()
    read_only.mkdir()
    url = f"sqlite:///{writable / 'csms.db'}"
    subprocess.run(csms_command("db", "upgrade", "--database-url", url), check=True,
                   capture_output=True)
    subprocess.run(["mount", "--bind", str(writable), str(read_only)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(read_only)], check=True)
        result = subprocess.run(
            csms_command("serve", "--database-url", f"sqlite:///{read_only / 'csms.db'}",
                         "--http-port", "0", "--ocpp-port", "0", "--no-migrate"),
            capture_output=True, text=True, timeout=60)
    finally:
        subprocess.run(["umount", str(read_only)], check=False)
    assert result.returncode not in (0, -7), result  # -7: SIGBUS
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [lines[0]] and "cannot use the database" in lines[0], result.stderr
    assert "not writable" in lines[0]


def test_a_database_that_cannot_be_used_at_start_is_one_line_and_a_nonzero_exit(tmp_path):
    import subprocess

    from tests.server import csms_command, free_port_url

    result = subprocess.run(
        csms_command("serve", "--database-url", free_port_url(), "--http-port", "0",
                     "--ocpp-port", "0"),
        capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("csms serve: cannot use the database: ")
    assert "Traceback" not in result.stdout + result.stderr
