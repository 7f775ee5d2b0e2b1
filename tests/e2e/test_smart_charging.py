"""Smart charging in the loop, end to end: 20 simulated chargers (1.6 and 2.0.1 mixed) on a
60 kW site, the CSMS's control loop driving them over OCPP on a clock sped up 30x.

One site, one charger fleet; each policy gets its own 30-minute segment of sessions (the policy
is switched live between segments, as ``PATCH /api/v1/sites/{id}`` does). Per segment:
the site meter (the sum of every EVSE's physical draw) stays under 60 kW in every 60-s meter
interval after the first control period, and the energy delivered is within 3 % of
``csms evaluate`` online on the same sessions. Then a charger that ignores its limit is
flagged, and after the CSMS dies every charger falls back to its fail-safe default.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from csms.charging import POLICIES
from csms.evaluate.run import evaluate
from csms.evaluate.scenario import Scenario, Session
from csms.sites import service as sites
from csms.store.tables import ChargerEventRow, SessionRow, SmartChargingStateRow
from simulators.charger.model import ChargerType
from tests.e2e.smart_harness import EV_3PH, EV_3PH22, smart_site

pytestmark = pytest.mark.store

# The CSMS reacts to an arrival in 0.1-0.3 wall seconds (snapshot, plan, SetChargingProfile
# round trips, all in this one process with the 20 simulators): the cars wait that long times
# SPEED at their 0 A fail-safe, which the online evaluation does not model. At 60x that was
# 1-2 % of a segment's energy; at 30x it is half of it.
SPEED = 30.0
START = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # a Tuesday morning
CAPACITY_KW = 60.0
AC11 = ChargerType("ac11", "AC", 11_040.0, 3, 2)
AC22 = ChargerType("ac22", "AC", 22_080.0, 3, 2)
PLAN = [(f"SC-{i + 1:02d}", ("1.6", "2.0.1")[i % 2], (AC11, AC22)[(i // 2) % 2])
        for i in range(20)]
DWELL_S = 24 * 60
LATE_S = 6 * 60
WANT_WH = 30_000.0
SEGMENT_S = 31 * 60
# What the site knows of a car that does not say (1.6): the fleet's usual stay and need.
LEASE_S = 5 * 60  # short, so that the fail-safe after the CSMS's death is seen soon
PARAMS = {"default_dwell_s": DWELL_S, "default_energy_kwh": WANT_WH / 1000.0,
          "lease_s": LEASE_S}
CONTROLLED = [p for p in POLICIES if p != "uncontrolled"]


def _car(hw: ChargerType):
    """A car that can take what its charger gives (the 22 kW chargers get 22 kW cars)."""
    return EV_3PH22 if hw.max_power_w > 12_000 else EV_3PH


async def _segment(site, policy: str) -> tuple[datetime, list[Session]]:
    """Plug 12 cars now and 6 more after 6 minutes; all stay 24 minutes."""
    await site.services.worker.run(sites.update_site, site.site_id, {"policy": policy})
    t0 = site.sim_clock.now()
    planned = []
    for k, charger in enumerate(site.chargers[:18]):
        if k == 12:
            await site.sleep(LATE_S)
        at = site.sim_clock.now()
        hw = dict((cid, hw) for cid, _, hw in PLAN)[charger.id]
        site.plug(charger, 1, _car(hw), DWELL_S, f"TAG-{policy[:4]}-{k}", WANT_WH)
        planned.append(Session(f"{charger.id}", at, at + timedelta(seconds=DWELL_S),
                               WANT_WH / 1000.0, max_kw=hw.max_power_w / 1000.0, min_kw=6 * 230 * 3 / 1000,
                               phases=3))
    await site.sleep(SEGMENT_S - LATE_S)
    return t0, planned


def _online_kwh(sessions: list[Session], policy: str) -> float:
    """``csms evaluate`` online at the control period; arrivals (a few ms apart when cars plug
    in together) are put on the period grid that starts with the first one."""
    start = sessions[0].arrival
    grid = []
    for s in sessions:
        shift = timedelta(seconds=round((s.arrival - start).total_seconds() / 60) * 60)
        grid.append(replace(s, arrival=start + shift, departure=start + shift +
                            (s.departure - s.arrival)))
    sc = Scenario("e2e", start, 60, SEGMENT_S // 60, CAPACITY_KW, grid)
    return evaluate(sc, [policy], with_sessions=False)["results"][policy]["energy_delivered_kwh"]


async def test_policies_drive_twenty_chargers(database_url):
    async with smart_site(database_url, PLAN, CAPACITY_KW, "load_balancing", SPEED, START,
                          PARAMS) as site:
        await site.sleep(120)  # boot, probe, fail-safe
        report = {}
        for policy in CONTROLLED:
            t0, sessions = await _segment(site, policy)
            t1 = t0 + timedelta(seconds=SEGMENT_S)
            means = site.interval_means_kw(t0 + timedelta(seconds=60), t1)
            # By when the CSMS received the start: the chargers' clocks are their own (they
            # took the CSMS's time at boot, a network delay late).
            delivered = await site.services.worker.run(lambda s, a=t0, b=t1: sum(
                r.energy_wh or 0.0 for r in s.exec(select(SessionRow).where(
                    SessionRow.started_received_at >= a,
                    SessionRow.started_received_at < b)).all()) / 1000.0)
            expected = _online_kwh(sessions, policy)
            report[policy] = (max(means), delivered, expected)
            assert max(means) <= CAPACITY_KW, (policy, max(means))
            # Measured 2026-12-03: 0.8-1.4 % under on SQLite, 0.9-1.7 % on PostgreSQL, mostly
            # the first half-minute of a segment (arrivals wait at 0 A for their first limit,
            # 0.5-0.9 wall s here). Before the planner ordered cars by received arrival and
            # control-period departure, PostgreSQL runs were 2-6 % under: offset re-estimates
            # reordered cars plugged in together and the site rotated its power among them.
            assert abs(delivered - expected) <= 0.03 * expected, (policy, delivered, expected)
        print(report)
        await _rogue_is_flagged(site)
        await _failsafe_after_death(site)


async def _rogue_is_flagged(site) -> None:
    """SC-18 accepts its limits and ignores them: flagged, and the site is kept safe. It is
    the last car plugged, with the latest departure: with 18 cars wanting 270 kW the plan
    gives it little or nothing, so its 11 kW is plainly over its limit."""
    rogue = site.chargers[17]
    rogue.faults.ignore_limits = True
    await site.services.worker.run(sites.update_site, site.site_id, {"policy": "load_balancing"})
    for k, charger in enumerate(site.chargers[:18]):
        hw = dict((cid, hw) for cid, _, hw in PLAN)[charger.id]
        site.plug(charger, 1, _car(hw), 3 * 3600, f"TAG-rogue-{k}", WANT_WH)
    flagged_at = None
    for _ in range(100):
        await site.sleep(30)
        row = await site.services.worker.run(
            lambda s: s.get(SmartChargingStateRow, (rogue.id, 1)))
        if row is not None and not row.obeying:
            flagged_at = site.sim_clock.now()
            break
    assert flagged_at is not None, "a charger drawing above its limit was not flagged"
    events = await site.services.worker.run(lambda s: s.exec(select(ChargerEventRow).where(
        ChargerEventRow.charger_id == rogue.id, ChargerEventRow.kind == "smart_charging")).all())
    assert events and events[0].payload["kind"] == "limit_ignored"
    # Once flagged, its draw is reserved: the others make room and the site holds its limit.
    await site.sleep(600)
    means = site.interval_means_kw(flagged_at + timedelta(seconds=180), site.sim_clock.now())
    assert means and max(means) <= CAPACITY_KW, max(means)
    rogue.faults.ignore_limits = False


async def _failsafe_after_death(site) -> None:
    """The CSMS dies with 18 cars charging: once the leases run out every EVSE draws no more
    than its fail-safe default (the site limit shared over all EVSEs, here 0 A: below 6 A)."""
    svc = site.services
    await svc.control.stop()
    await svc.gateway.stop()
    died = site.sim_clock.now()
    lease_s = LEASE_S
    await site.sleep(lease_s + 120)
    share_w = CAPACITY_KW * 1000 / sum(len(c.evses) for c in site.chargers)
    for c in site.chargers:
        for e in c.evses:
            limit = c.limit(e, site.sim_clock.now())
            allowed_w = 0.0 if limit is None else limit.value * 230 * (limit.number_phases or 3)
            assert allowed_w <= share_w, (c.id, e.id, limit)
            assert e.power_w <= allowed_w + 1e-6, (c.id, e.id, e.power_w)
    means = site.interval_means_kw(died + timedelta(seconds=lease_s + 60), site.sim_clock.now())
    assert means and max(means) <= CAPACITY_KW
