"""V2G for grid support, end to end: a site with ``grid_support``, one OCPP 2.1 bidirectional DC
charger (a Nissan Leaf that offers V2G) and one 2.0.1 AC charger, in the last half hour of the
tariff's peak band and the hour after, on a clock sped up 150x.

In the peak band the 2.1 charger gets a discharge set-point (2.1 CentralSetpoint, negative
``setpoint``) and the Leaf exports energy; the 2.0.1 charger is only curtailed (never a negative
limit, no 2.1 field). Both cars still leave with the energy they asked for, and the Leaf never
goes below its minimum V2X state of charge.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import numpy as np
import ocpp.messages
import pytest
from sqlmodel import select

from csms import clock
from csms.domain.electrical import MIN_AC_CURRENT_A, VOLTAGE_V
from csms.services import Services
from csms.settings import Settings
from csms.sites import service as sites
from csms.store.tables import CommandRow, SmartChargingStateRow
from csms.tariff import load_tariff
from simulators.charger.model import ChargerType
from simulators.charger.v21 import V2X_MIN_SOC_PCT, Charger21
from simulators.charger.v201 import Charger201
from simulators.clock import SimClock
from simulators.ev import EV
from simulators.vehicles import vehicle
from tests.e2e.smart_harness import EV_3PH, SmartSite, running

pytestmark = pytest.mark.store

SPEED = 150.0
DAY = datetime(2026, 6, 9, tzinfo=UTC)  # a Tuesday, Morocco at UTC+1
DC150 = ChargerType("dc150", "DC", 150_000.0, 3, 2, v2g=True)
AC22 = ChargerType("ac22", "AC", 22_080.0, 3, 2)
LEAF_SOC_PCT, LEAF_WANT_WH, LEAF_DWELL_S = 70.0, 4_000.0, 80 * 60
AC_WANT_WH, AC_DWELL_S = 8_000.0, 85 * 60
PARAMS = {"default_dwell_s": AC_DWELL_S, "default_energy_kwh": AC_WANT_WH / 1000.0}


def peak_end(day: datetime) -> datetime:
    """End of the default tariff's (evening) peak band on ``day``, from the tariff itself."""
    mask = np.asarray(load_tariff("onee-default").peak_mask(day, 60, 24 * 60), bool)
    last = int(np.nonzero(mask)[0][-1])
    return day + timedelta(minutes=last + 1)


@contextlib.asynccontextmanager
async def v2g_site(database_url: str, start: datetime):
    ocpp.messages.ASYNC_VALIDATION = False
    clock.configure(speed=SPEED, start=start)
    sim_clock = SimClock(SPEED, clock.now())
    svc = Services.build(Settings(database_url=database_url, ocpp_port=0, http_port=0,
                                  open=True, call_timeout_s=10.0, ping_interval_s=None))
    await svc.start()
    url = f"ws://127.0.0.1:{svc.gateway.port}/ocpp"
    now = clock.now()
    site = await svc.worker.run(sites.create_site, {
        "name": "v2g", "capacity_kw": 100.0, "policy": "grid_support", "control_period_s": 60,
        "policy_params": PARAMS, "base_load_profile": "residential",
        "base_load_peak_kw": 30.0}, now)
    for cid, hw in (("V2G-21", DC150), ("AC-201", AC22)):
        await svc.worker.run(sites.assign_charger, site.id, cid, now,
                             "L1L2L3", hw.max_power_w, hw.kind)
    svc.start_control()
    chargers = [Charger21("V2G-21", url, DC150, sim_clock, seed=1, meter_interval_s=60.0,
                          tick_s=15.0, allowed_units=("W",)),
                Charger201("AC-201", url, AC22, sim_clock, seed=2, meter_interval_s=60.0,
                           tick_s=15.0)]
    async with running(SmartSite(svc, site.id, sim_clock, chargers)) as handle:
        yield handle


def _periods(row: CommandRow) -> list[dict]:
    profile = row.payload.get("chargingProfile") or {}
    return [p for s in profile.get("chargingSchedule", []) for p in s["chargingSchedulePeriod"]]


async def test_v2g_discharges_in_peak_and_201_is_only_curtailed(database_url):
    end = peak_end(DAY)
    async with v2g_site(database_url, end - timedelta(minutes=32)) as site:
        v2g, ac = site.chargers
        leaf = EV(vehicle("Nissan Leaf"), soc_pct=LEAF_SOC_PCT, target_soc_pct=100.0,
                  requested_energy_wh=LEAF_WANT_WH)
        arrival_wh = leaf.battery_wh
        v2g.plug_in(1, leaf, "TAG-LEAF", dwell_s=LEAF_DWELL_S)
        car = EV(EV_3PH, soc_pct=10.0, target_soc_pct=100.0, requested_energy_wh=AC_WANT_WH)
        ac.plug_in(1, car, "TAG-AC", dwell_s=AC_DWELL_S)
        # In the peak band: the Leaf discharges, the AC car waits at its minimum (never at 0
        # while the site has room: it could leave before the band ends). Counted from its
        # first limit: until then it draws its fail-safe (at 150x a CI hiccup of a wall
        # second is 150 simulated s of it).
        for _ in range(3000):
            row = await site.services.worker.run(
                lambda s: s.get(SmartChargingStateRow, ("AC-201", 1)))
            if row is not None and row.accepted and row.limit_w is not None:
                break
            await asyncio.sleep(0.01)
        limited, limited_wh = site.sim_clock.now(), ac.evses[0].meter_wh
        await site.sleep((end - site.sim_clock.now()).total_seconds() - 60)
        floor_wh = MIN_AC_CURRENT_A * VOLTAGE_V * 3 * (site.sim_clock.now() - limited
                                                       ).total_seconds() / 3600.0
        in_peak_export_wh = v2g.evses[0].export_wh
        min_soc = leaf.soc_pct
        assert in_peak_export_wh > 1_000, "the V2G car did not discharge in the peak band"
        assert ac.evses[0].meter_wh - limited_wh < floor_wh + 300, \
            "the 2.0.1 car was not curtailed to its minimum in the peak band"
        # After the peak: both recharge and leave with what they asked for.
        await site.sleep(AC_DWELL_S - (site.sim_clock.now() - (end - timedelta(minutes=32)))
                         .total_seconds() + 90)
        commands = await site.services.worker.run(lambda s: s.exec(select(CommandRow).where(
            CommandRow.action == "SetChargingProfile")).all())
    print(f"V2G: exported {in_peak_export_wh:.0f} Wh in the peak band (min SoC "
          f"{min_soc:.1f} %), Leaf battery {arrival_wh:.0f} -> {leaf.battery_wh:.0f} Wh, "
          f"export total {v2g.evses[0].export_wh:.0f} Wh, car refusals {v2g.refusals}")
    (leaf_entry,) = [e for e in v2g.ledger if e.id_tag == "TAG-LEAF"]
    (ac_entry,) = [e for e in ac.ledger if e.id_tag == "TAG-AC"]
    assert leaf_entry.stopped_at is not None and ac_entry.stopped_at is not None
    # The 2.1 charger got discharge set-points the 2.1 way.
    setpoints = [p for r in commands if r.charger_id == "V2G-21" and r.state == "accepted"
                 for p in _periods(r) if p.get("operationMode") == "CentralSetpoint"]
    assert setpoints and all(p["setpoint"] < 0 and p["dischargeLimit"] <= p["setpoint"] + 1e-9
                             and p["limit"] == 0 for p in setpoints)
    # The 2.0.1 charger: never a negative limit, never a 2.1 field, curtailed to its 6 A
    # minimum at least once.
    ac_periods = [p for r in commands if r.charger_id == "AC-201" for p in _periods(r)]
    assert ac_periods and all(p["limit"] >= 0 and set(p) <= {"startPeriod", "limit",
                                                            "numberPhases"} for p in ac_periods)
    assert any(p["limit"] <= MIN_AC_CURRENT_A for p in ac_periods)
    # Departure energy: net grid energy (import - export) and the battery itself.
    leaf_net_wh = leaf_entry.energy_wh - v2g.evses[0].export_wh
    assert leaf_net_wh >= 0.95 * LEAF_WANT_WH, (leaf_net_wh, v2g.evses[0].export_wh)
    assert leaf.battery_wh >= arrival_wh + 0.98 * LEAF_WANT_WH, (leaf.battery_wh, arrival_wh)
    assert min(min_soc, leaf.soc_pct) >= V2X_MIN_SOC_PCT - 0.5
    assert ac_entry.energy_wh >= 0.95 * AC_WANT_WH, ac_entry.energy_wh
