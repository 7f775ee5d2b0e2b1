"""``csms-sim --protocol 2.1`` / ``--v2g-share``: V2G chargers (OCPP 2.1, bidirectional dc150)
with V2G cars, against the CSMS gateway in-process."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from csms import clock
from csms.domain.charging_needs import ChargingNeeds
from csms.store.tables import ChargerEventRow
from simulators.__main__ import build_parser, build_site
from simulators.charger.v21 import Charger21
from simulators.clock import SimClock, parse_start
from simulators.site import charger_protocols
from tests.simulators.helpers import FAST_BACKOFF

pytestmark = pytest.mark.store
SPEED = 900.0
START = "2024-03-05T08:30:00+01:00"  # a Tuesday morning: commercial arrivals


@pytest.mark.parametrize("protocol, n, share, want", [
    ("mixed", 4, 0.0, ["1.6", "2.0.1", "1.6", "2.0.1"]),   # unchanged without --v2g-share
    ("mixed", 4, 0.5, ["1.6", "2.1", "2.0.1", "2.1"]),
    ("mixed", 8, 0.25, ["1.6", "2.0.1", "1.6", "2.1", "2.0.1", "1.6", "2.0.1", "2.1"]),
    ("mixed", 100, 0.29, None),                                 # 29 of them, not 28
    ("mixed", 3, 1.0, ["2.1", "2.1", "2.1"]),
    ("2.1", 3, 0.0, ["2.1", "2.1", "2.1"]),
    ("1.6", 2, 0.0, ["1.6", "1.6"]),
])
def test_charger_protocols(protocol, n, share, want):
    got = charger_protocols(protocol, n, share)
    if want is None:
        assert got.count("2.1") == 29 and len(got) == n
    else:
        assert got == want


def test_mixed_site_with_v2g_share_has_v2g_hardware():
    args = build_parser().parse_args(["--chargers", "4", "--protocol", "mixed",
                                      "--v2g-share", "0.5", "--profile", "office"])
    site = build_site(args)
    kinds = [(c.protocol, c.type.name, c.type.v2g) for c in site.chargers]
    assert [k for k in kinds if k[0] == "2.1"] == [("2.1", "dc150", True)] * 2
    assert all(not v2g for p, _, v2g in kinds if p != "2.1")
    default = build_site(build_parser().parse_args(["--chargers", "4", "--profile", "office"]))
    assert [c.protocol for c in default.chargers] == ["1.6", "2.0.1", "1.6", "2.0.1"]


def _v2g_needs(engine) -> list[ChargingNeeds]:
    """The charging needs stored (typed, as the 2.1 adapter parsed them) of cars asking DC_BPT."""
    with Session(engine) as s:
        rows = s.exec(select(ChargerEventRow).where(
            ChargerEventRow.kind == "NotifyEVChargingNeeds")).all()
    needs = [ChargingNeeds.from_json(r.payload) for r in rows]
    return [n for n in needs if n.requested_transfer == "DC_BPT"]


async def test_a_21_site_connects_over_ocpp21_and_its_cars_ask_for_v2g(services):
    start = parse_start(START)
    clock.configure(speed=SPEED, start=start)
    try:
        args = build_parser().parse_args([
            "--url", services.ocpp_url, "--chargers", "2", "--protocol", "2.1",
            "--profile", "commercial", "--sessions-scale", "30", "--seed", "4",
            "--speed", str(SPEED), "--start", START])
        site = build_site(args, clock=SimClock(SPEED, start), backoff=FAST_BACKOFF)
        assert all(isinstance(c, Charger21) and c.type.v2g for c in site.chargers)
        runner = asyncio.ensure_future(site.run(duration_s=6 * 3600))
        try:
            deadline = asyncio.get_running_loop().time() + 20.0
            while not _v2g_needs(services.engine):
                assert asyncio.get_running_loop().time() < deadline, "no V2G charging needs"
                assert not runner.done(), runner
                await asyncio.sleep(0.2)
            links = services.gateway.links
            assert {links[c.id].protocol for c in site.chargers if c.id in links} == {"2.1"}
            need = _v2g_needs(services.engine)[0]
            assert need.max_discharge_w > 0
            assert need.departure > start - timedelta(minutes=1)
        finally:
            runner.cancel()
            await asyncio.wait([runner], timeout=10)
            await site.stop()
    finally:
        clock.configure()
