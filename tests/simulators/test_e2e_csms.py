"""END-TO-END against the real gateway: `csms serve --open` (tests/server.py) and the simulators.

Sessions and energy the CSMS stores (GET /api/v1/sessions) must equal the simulator's own
ledger exactly, also after an offline period with queued transaction messages. Both sides run
the same sped-up clock (`--speed` / `--start`).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from simulators.clock import SimClock
from simulators.ev import EV
from simulators.vehicles import vehicle
from tests.server import start_server
from tests.simulators.helpers import START, make_charger, running

pytestmark = pytest.mark.store
PROTOCOLS = ["1.6", "2.0.1"]
SPEED = 120.0


@pytest.fixture
def csms_sped_up(tmp_path):
    handle = start_server(tmp_path, open_mode=True,
                          extra=("--speed", str(SPEED), "--start", START.isoformat()))
    try:
        yield handle
    finally:
        handle.stop()


async def csms_sessions(server) -> list[dict]:
    async with httpx.AsyncClient(base_url=server.http_url, headers=server.auth_headers) as c:
        resp = await c.get("/api/v1/sessions")
        resp.raise_for_status()
        return resp.json()


async def wait_sessions(server, predicate, timeout_s=20.0) -> list[dict]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        sessions = await csms_sessions(server)
        if predicate(sessions):
            return sessions
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"CSMS sessions never matched: {sessions}")
        await asyncio.sleep(0.2)


def same(ledger, sessions) -> bool:
    mine = sorted((e.id_tag, e.evse_id, e.meter_start_wh, e.meter_stop_wh, e.energy_wh)
                  for e in ledger)
    theirs = sorted((s["id_token"], s["evse_id"] or s["connector_id"], s["meter_start_wh"],
                     s["meter_stop_wh"], s["energy_wh"]) for s in sessions)
    return mine == theirs


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_sessions_in_the_csms_equal_the_ledger(csms_sped_up, protocol):
    clock = SimClock(SPEED, START)
    ch = make_charger(protocol, csms_sped_up.ocpp_url, cid=f"E2ESIM-{protocol}", clock=clock)
    async with running(ch):
        ev = EV(vehicle("Peugeot e-208"), soc_pct=20.0, requested_energy_wh=15_000)
        await asyncio.wait_for(ch.plug_in(1, ev, "RFID-E2E", dwell_s=600), 30)
        await wait_sessions(csms_sped_up, lambda s: len(s) == 1 and s[0]["stopped_at"])
    sessions = await csms_sessions(csms_sped_up)
    assert ch.ledger[0].energy_wh > 1000
    assert same(ch.ledger, sessions), (ch.ledger, sessions)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_offline_replay_loses_nothing_in_the_csms(csms_sped_up, protocol):
    clock = SimClock(SPEED, START)
    ch = make_charger(protocol, csms_sped_up.ocpp_url, cid=f"E2EOFF-{protocol}", clock=clock)
    async with running(ch):
        ch.plug_in(1, EV(vehicle("Renault Twingo E-Tech"), soc_pct=10.0), "RFID-A")
        await wait_sessions(csms_sped_up, lambda s: len(s) == 1)
        await asyncio.sleep(0.5)
        ch.drop_link(offline_s=1.0)
        await asyncio.sleep(0.1)
        second = ch.plug_in(2, EV(vehicle("Dacia Spring"), soc_pct=30.0), "RFID-B", dwell_s=60)
        await asyncio.sleep(0.4)
        ch.request_stop(ch.evses[0], "Local")
        await asyncio.wait_for(second, 10)
        await asyncio.wait_for(ch.connected.wait(), 15)
        await wait_sessions(csms_sped_up, lambda s: len(s) == 2 and all(x["stopped_at"] for x in s))
    sessions = await csms_sessions(csms_sped_up)
    assert same(ch.ledger, sessions), (ch.ledger, sessions)
