"""``csms-sim --fleet N``: a site's own vehicles with fixed tags (simulators/fleet.py), who
take them at arrival (simulators/site.py), the ``--fleet-file`` the CSMS imports, and a fleet
site against the in-process CSMS whose /api/v1/vehicles then shows the car charging."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from csms import clock
from csms.fleet import registry
from simulators.__main__ import build_parser, build_site, main
from simulators.arrivals import Arrival
from simulators.clock import SimClock, parse_start
from simulators.fleet import draw_fleet, write_fleet_file
from simulators.site import Site
from simulators.vehicles import FleetMix, load_vehicles
from tests.simulators.helpers import FAST_BACKOFF

AT = datetime(2024, 3, 5, 8, 0, tzinfo=UTC)


def _site(fleet: int, seed: int = 1, mix: str | None = None, chargers: int = 10,
          profile: str = "commercial", **kw) -> Site:
    args = ["--chargers", str(chargers), "--profile", profile, "--seed", str(seed),
            "--fleet", str(fleet), "--start", AT.isoformat(), *kw.get("extra", ())]
    if mix:
        args += ["--fleet-mix", mix]
    return build_site(build_parser().parse_args(args))


def test_the_fleet_is_deterministic_for_a_seed_with_stable_tags():
    a, b = _site(12, seed=3), _site(12, seed=3, chargers=4)  # the chargers do not matter
    assert [(v.id_token, v.spec.name, v.name) for v in a.fleet] == \
        [(v.id_token, v.spec.name, v.name) for v in b.fleet]
    assert [v.id_token for v in a.fleet] == [f"FLEET-{i:04d}" for i in range(1, 13)]
    assert all(v.name == f"{v.id_token} {v.spec.name}" for v in a.fleet)
    assert [v.spec.name for v in draw_fleet(12, FleetMix.default(), 4)] != \
        [v.spec.name for v in a.fleet]
    # A longer fleet starts with the same cars.
    assert _site(20, seed=3).fleet[:12] == a.fleet
    # Drawn from the mix: a premium-only fleet has only premium cars.
    assert {v.spec.segment for v in _site(8, mix="premium=100").fleet} == {"premium"}
    assert _site(0).fleet == ()


async def test_without_a_fleet_every_driver_is_a_visitor():
    assert build_parser().parse_args([]).fleet == 0
    site = _site(0)
    plugs = FakePlugs(site)
    for u in (0.1, 0.4, 0.7):
        site._arrive(_arrival(u))
    assert [p[3] for p in plugs.plugged] == [f"RFID-{int(u * 1e6):06d}" for u in (0.1, 0.4, 0.7)]
    assert site.summary()["fleet_sessions"] == 0


class FakePlugs:
    """Chargers that take a car without talking OCPP: who plugged in where, and leaving."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.plugged: list[tuple] = []  # (charger, evse, ev, tag, future)
        loop = asyncio.get_running_loop()
        for c in site.chargers:
            c.connected.set()

            def plug_in(evse_id, ev, tag, dwell_s=None, c=c):
                evse = c.evses[evse_id - 1]
                evse.ev = ev
                fut = loop.create_future()
                self.plugged.append((c, evse, ev, tag, fut))
                return fut

            c.plug_in = plug_in

    def present(self) -> list[tuple]:
        return [p for p in self.plugged if not p[4].done()]

    def leave(self, entry) -> None:
        entry[1].ev = None
        entry[4].set_result(None)


def _arrival(u: float) -> Arrival:
    return Arrival(at=AT, dwell_s=3600.0, energy_wh=10_000.0, u_vehicle=u, arrival_soc_pct=30.0)


async def test_a_plugged_in_car_is_never_taken_twice_and_dc_gets_dc_cars():
    # Urban only: the Twingo, which has no DC inlet, is a quarter of the fleet.
    site = _site(6, seed=2, mix="urban=100", chargers=10)
    assert any(not v.spec.has_dc for v in site.fleet) and any(v.spec.has_dc for v in site.fleet)
    plugs = FakePlugs(site)
    fleet = {v.id_token: v for v in site.fleet}
    u = 0.0
    for round_ in range(40):
        u = (u + 0.618034) % 1.0
        site._arrive(_arrival(u))
        present = plugs.present()
        tags = [p[3] for p in present if p[3].startswith("FLEET-")]
        assert len(tags) == len(set(tags)), tags  # one car, one EVSE
        for charger, _, ev, tag, _ in present:
            if charger.type.kind == "DC":
                assert ev.spec.has_dc, (charger.id, ev.spec.name)
            if tag in fleet:
                assert ev.spec == fleet[tag].spec  # the car of the tag
            else:
                assert tag.startswith("RFID-")  # a visitor
        if round_ % 3 == 2 and present:  # someone leaves now and then
            plugs.leave(present[0])
    used = {p[3] for p in plugs.plugged}
    assert used & set(fleet), "no fleet car ever arrived"
    assert any(t.startswith("RFID-") for t in used), "a full fleet leaves room for visitors"
    # A car that left comes back: more fleet sessions than fleet cars.
    assert site.summary()["fleet_sessions"] > len(fleet)


async def test_when_every_fleet_car_is_plugged_in_arrivals_are_visitors():
    site = _site(2, seed=1, chargers=10, profile="office")
    plugs = FakePlugs(site)
    for u in (0.11, 0.37, 0.59, 0.83):
        site._arrive(_arrival(u))
    tags = [p[3] for p in plugs.present()]
    assert sorted(tags[:2]) == ["FLEET-0001", "FLEET-0002"]
    assert all(t.startswith("RFID-") for t in tags[2:]) and len(tags) == 4


async def test_v2g_chargers_get_v2g_cars_from_the_fleet_or_visitors():
    site = _site(10, seed=5, chargers=4, profile="commercial", extra=("--protocol", "2.1"))
    plugs = FakePlugs(site)
    for u in (0.1, 0.3, 0.5, 0.7, 0.9, 0.2):
        site._arrive(_arrival(u))
    assert plugs.present()
    assert all(ev.spec.v2g for _, _, ev, _, _ in plugs.present())
    leafs = {v.id_token for v in site.fleet if v.spec.v2g}
    fleet_tags = {p[3] for p in plugs.present() if p[3].startswith("FLEET-")}
    assert fleet_tags <= leafs


def test_fleet_file_and_fleet_only(tmp_path, capsys):
    path = tmp_path / "fleet.json"
    assert main(["--fleet", "5", "--seed", "7", "--fleet-file", str(path), "--fleet-only"]) == 0
    entries = json.loads(path.read_text())
    site = _site(5, seed=7)
    assert entries == [{"id_token": v.id_token, "model": v.spec.name, "name": v.name}
                       for v in site.fleet]
    models = {v.name for v in load_vehicles()}
    assert all(e["model"] in models for e in entries)
    for bad in (["--fleet-file", str(path)], ["--fleet", "-1"],
                ["--fleet", "2", "--fleet-only"]):
        with pytest.raises(SystemExit):
            main(bad)


SPEED = 900.0
START = "2024-03-05T08:30:00+01:00"  # a Tuesday morning: commercial arrivals


@pytest.mark.store
async def test_a_fleet_site_shows_its_cars_charging_in_the_csms(services, api, tmp_path):
    start = parse_start(START)
    clock.configure(speed=SPEED, start=start)
    try:
        fleet_file = tmp_path / "fleet.json"
        args = build_parser().parse_args([
            "--url", services.ocpp_url, "--chargers", "3", "--protocol", "mixed",
            "--profile", "commercial", "--sessions-scale", "20", "--seed", "4",
            "--fleet", "4", "--fleet-file", str(fleet_file), "--speed", str(SPEED),
            "--start", START])
        site = build_site(args, clock=SimClock(SPEED, start), backoff=FAST_BACKOFF)
        write_fleet_file(fleet_file, site.fleet)  # what csms-sim does at start
        r = await api.post("/api/v1/vehicles/import", headers=api.tokens["operator"],
                           json=json.loads(fleet_file.read_text()))
        assert r.status_code == 200, r.text
        assert r.json()["created"] == 4
        runner = asyncio.ensure_future(site.run(duration_s=6 * 3600))
        try:
            deadline = asyncio.get_running_loop().time() + 30.0
            while True:
                vehicles = (await api.get("/api/v1/vehicles",
                                          headers=api.tokens["viewer"])).json()
                charging = [v for v in vehicles if v["session_id"] is not None]
                if charging:
                    break
                assert asyncio.get_running_loop().time() < deadline, \
                    f"no fleet car charging: {site.summary()}"
                assert not runner.done(), runner
                await asyncio.sleep(0.2)
            car = charging[0]
            assert car["id_token"].startswith("FLEET-")
            s = (await api.get(f"/api/v1/sessions/{car['session_id']}",
                               headers=api.tokens["viewer"])).json()
            assert s["id_token"] == car["id_token"] and s["stopped_at"] is None
            with Session(services.engine) as db:
                assert len(registry.list_vehicles(db)) == 4
        finally:
            runner.cancel()
            await asyncio.wait([runner], timeout=10)
            await site.stop()
    finally:
        clock.configure()
