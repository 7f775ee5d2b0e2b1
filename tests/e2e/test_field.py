"""The field test: the demo's site, under every policy, against the oracle.

The site ``make demo`` runs (50 simulated chargers of the ``commercial`` profile: AC one- and
three-phase, DC 50 and 150 kW that accept only W, OCPP 1.6 / 2.0.1 alternating with a tenth on
2.1, registered in open mode: the CSMS learns what each charger is from the charger), on the
default 150 kW site, with a third of the chargers on a clock 10 minutes behind that never takes
the CSMS's time, at 30x. Each policy gets a 30-minute segment: 36 drivers arrive over the first
10 minutes through the demo's own arrival code (its vehicles, ISO 15118 needs for the DC and
half the AC cars, none from 1.6 chargers) and stay 10 to 20 minutes.

Per segment, from the simulators' physical draw (sampled every 5 s):
- every 60-s meter interval stays under the 150 kW limit;
- over the intervals where the cars present would take more than the limit, at least 90 % of
  it is used (``BUSY_SHARE_MIN``; the interval after a big car leaves loses the loop's
  reaction time: at 30x, a quarter of a wall second is 8 simulated seconds);
- no car that wants energy sits at 0 for more than two control periods while the site and
  its phases have room for its minimum;
- the energy delivered (CSMS sessions) is at least 97 % of ``csms evaluate --oracle`` for the
  policy on the same arrivals (``ORACLE_SHARE_MIN``), each car capped by what its battery and
  charger allow over its stay (simulated offline without a limit), each phase of the
  connection under a third of the limit as in the CSMS.
"""

from __future__ import annotations

import asyncio
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import ocpp.messages
import pytest
from sqlmodel import select

from csms import clock
from csms.charging import POLICIES
from csms.control import state as st
from csms.domain.electrical import MIN_AC_CURRENT_A, MIN_DC_POWER_W, VOLTAGE_V
from csms.evaluate.run import evaluate
from csms.evaluate.scenario import scenario_from_dict
from csms.services import Services
from csms.settings import Settings
from csms.sites import service as sites
from csms.store.tables import CommandRow, SessionRow
from simulators.arrivals import Arrival
from simulators.clock import SimClock
from simulators.ev import power
from simulators.recording import Recorder
from simulators.site import ChaosConfig, Site

pytestmark = pytest.mark.slow

SPEED = 30.0
START = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # a Tuesday, 08:00 in Casablanca (Ramadan: UTC+0)
CAPACITY_KW = 150.0
PERIOD_S = 60.0
SEGMENT_S = 30 * 60
ARRIVALS = 36
ARRIVE_WITHIN_S = 10 * 60
DWELL_S = (10 * 60, 20 * 60)
SAMPLE_S = 5.0
# "Room" leaves out what the planner rightly keeps: the next arrival's fail-safe (1.5 kW on a
# DC EVSE here) and the limits' rounding down.
ROOM_MARGIN_W = 0.03 * CAPACITY_KW * 1000.0
CONTROLLED = [p for p in POLICIES if p != "uncontrolled"]
# The goals: 90 % of the limit used while demand exceeds it, 97 % of the oracle's
# energy. Measured 2026-12-04 (AMD EPYC 2 cores, alone), load balancing .. renewable
# integration: 101.5, 101.9, 100.5, 98.7, 98.6, 97.7 % of the oracle with the next arrival's
# fail-safe reserved (not two) and the oracle under the per-phase limit; 101.7, 102.8, 100.4,
# 100.0, 98.9, 99.8 % once 1.6 chargers are asked for a reading after a raised limit; 93-97 %
# of the limit used while busy. (Before: 93.6-96.4 % on the sixth segment's arrivals, the
# hardest, whatever the policy.)
BUSY_SHARE_MIN = 0.90
ORACLE_SHARE_MIN = 0.97


@dataclass
class Field:
    services: Services
    site: Site
    sim_clock: SimClock
    site_id: int = 0
    samples: list = field(default_factory=list)  # (t, site W, phase W, idle needy, demand W)

    async def sleep(self, simulated_s: float) -> None:
        await self.sim_clock.sleep(simulated_s)

    def _sample(self) -> None:
        now = self.sim_clock.now()
        site_w, phase_w, zero = 0.0, np.zeros(3), []
        for c in self.site.chargers:
            for e in c.evses:
                site_w += e.power_w
                if e.power_w > 0:  # the charger's L1, L2, L3 on the grid phases it reports
                    for k, amps in enumerate(e.current_a):
                        phase_w["RST".index(c.phase_rotation[k])] += amps * VOLTAGE_V
                if e.ev is not None and e.tx is not None and abs(e.power_w) < 1.0:
                    want = power(e.ev, e.supply, None)
                    if want.grid_power_w > 0:
                        grid = ["RST".index(p) for p in c.phase_rotation[:want.phases_used]]
                        zero.append((c.id, e.id, grid, e.supply.kind))
        self.samples.append((now, site_w, phase_w, zero, self._demand_w()))

    def _demand_w(self) -> float:
        """What the cars present would take without any limit now."""
        return sum(max(0.0, power(e.ev, e.supply, None).grid_power_w)
                   for c in self.site.chargers for e in c.evses
                   if e.ev is not None and e.tx is not None)

    async def meter(self) -> None:
        while True:
            self._sample()
            await self.sim_clock.sleep(SAMPLE_S)


def _arrivals(t0: datetime, seed: int) -> list[Arrival]:
    rng = random.Random(seed)
    out = [Arrival(t0 + timedelta(seconds=rng.uniform(0, ARRIVE_WITHIN_S)),
                   rng.uniform(*DWELL_S), rng.uniform(20_000, 60_000), rng.random(),
                   rng.uniform(10, 40)) for _ in range(ARRIVALS)]
    return sorted(out, key=lambda a: a.at)


async def _field(database_url: str):
    ocpp.messages.ASYNC_VALIDATION = False
    clock.configure(speed=SPEED, start=START)
    sim_clock = SimClock(SPEED, clock.now())
    settings = Settings(database_url=database_url, ocpp_port=0, http_port=0, open=True,
                        call_timeout_s=10.0, ping_interval_s=None)
    svc = Services.build(settings)
    await svc.start()
    svc.start_control()
    site = Site(f"ws://127.0.0.1:{svc.gateway.port}/ocpp", 50, "commercial", "mixed", sim_clock,
                seed=1, v2g_share=0.1, chaos=ChaosConfig(skew_share=1 / 3, skew_s=-600.0),
                id_prefix="FLD", recorder=Recorder())
    return Field(svc, site, sim_clock)


def _oracle_kwh(f: Field, t0: datetime, policy: str) -> tuple[float, int]:
    """``csms evaluate --oracle`` on the segment's arrivals, as ``csms-sim --record`` writes
    them, with the site's default per-phase limit (a third of it; each car on the grid phases
    its charger's wiring gives it): (kWh, cars)."""
    data = f.site.recorder.scenario(t0, t0 + timedelta(seconds=SEGMENT_S), CAPACITY_KW,
                                    int(PERIOD_S), phase_limit_kw=CAPACITY_KW / 3)
    out = evaluate(scenario_from_dict(data), [policy], oracle=True, with_sessions=False)
    return out["results"][policy]["energy_delivered_kwh"], len(data["sessions"])


def _means(samples, t0, t1, index) -> list[tuple[datetime, float]]:
    out, t = [], t0
    while t + timedelta(seconds=PERIOD_S) <= t1:
        end = t + timedelta(seconds=PERIOD_S)
        values = [s[index] for s in samples if t <= s[0] < end]
        if values:
            out.append((t, sum(values) / len(values)))
        t = end
    return out


def _starved(samples, t0, t1) -> list[tuple[str, int, float]]:
    """(charger, EVSE, s) of cars wanting energy at 0 while the site and their phases had room
    for their minimum, for longer than two control periods."""
    capacity_w = CAPACITY_KW * 1000.0
    run: dict[tuple[str, int], float] = {}
    worst: dict[tuple[str, int], float] = {}
    for t, site_w, phase_w, zero, _ in samples:
        if not t0 <= t < t1:
            continue
        now = set()
        for cid, evse_id, grid, kind in zero:
            grid = grid if kind == "AC" else [0, 1, 2]
            floor_w = MIN_AC_CURRENT_A * VOLTAGE_V * len(grid) if kind == "AC" \
                else MIN_DC_POWER_W
            room = site_w + floor_w <= capacity_w - ROOM_MARGIN_W and all(
                phase_w[i] + floor_w / len(grid) <= (capacity_w - ROOM_MARGIN_W) / 3
                for i in grid)
            if room:
                key = (cid, evse_id)
                now.add(key)
                run[key] = run.get(key, 0.0) + SAMPLE_S
                worst[key] = max(worst.get(key, 0.0), run[key])
        for key in [k for k in run if k not in now]:
            del run[key]
    return [(k[0], k[1], s) for k, s in worst.items() if s > 2 * PERIOD_S]


async def _segment(f: Field, policy: str, seed: int) -> dict:
    await f.services.worker.run(sites.update_site, f.site_id, {"policy": policy})
    t0 = f.sim_clock.now()
    for a in _arrivals(t0, seed):
        await f.sleep(max(0.0, (a.at - f.sim_clock.now()).total_seconds()))
        f.site._arrive(a)  # the demo's own arrival: EVSE, vehicle, needs
    await f.sleep(max(0.0, (t0 + timedelta(seconds=SEGMENT_S) - f.sim_clock.now())
                      .total_seconds()))
    t1 = t0 + timedelta(seconds=SEGMENT_S)
    await f.sleep(60)  # the last transactions' ends reach the store
    delivered = await f.services.worker.run(lambda s: sum(
        r.energy_wh or 0.0 for r in s.exec(select(SessionRow).where(
            SessionRow.started_received_at >= t0,
            SessionRow.started_received_at < t1)).all()) / 1000.0)
    draw = _means(f.samples, t0 + timedelta(seconds=PERIOD_S), t1, 1)
    demand = dict(_means(f.samples, t0 + timedelta(seconds=PERIOD_S), t1, 4))
    busy = [(t, w) for t, w in draw if demand.get(t, 0.0) > CAPACITY_KW * 1000.0]
    oracle_kwh, cars = _oracle_kwh(f, t0, policy)
    profiles = await f.services.worker.run(lambda s: len(s.exec(select(CommandRow).where(
        CommandRow.action == "SetChargingProfile", CommandRow.created_at >= t0,
        CommandRow.created_at < t1)).all()))
    return {"policy": policy, "max_kw": max(w for _, w in draw) / 1000.0,
            "busy_share": sum(w for _, w in busy) / (CAPACITY_KW * 1000.0 * len(busy))
            if busy else math.nan,
            "busy_min_kw": min((w for _, w in busy), default=math.nan) / 1000.0,
            "busy_intervals": len(busy), "starved": _starved(f.samples, t0, t1),
            "delivered_kwh": delivered, "oracle_kwh": oracle_kwh, "cars": cars,
            "profiles": profiles,
            "low": [(round((t - t0).total_seconds() / 60), round(w / 1000, 1),
                     round(demand[t] / 1000, 1)) for t, w in busy if w < 0.97e3 * CAPACITY_KW],
            "over": [(round((t - t0).total_seconds() / 60), round(w / 1000, 2))
                     for t, w in draw if w > 1e3 * CAPACITY_KW]}


async def test_the_demo_site_under_every_policy(database_url):
    f = await _field(database_url)
    tasks = [asyncio.ensure_future(c.run()) for c in f.site.chargers]
    tasks.append(asyncio.ensure_future(f.meter()))
    try:
        await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in f.site.chargers)),
                               60)
        await f.sleep(180)  # boot, probe, fail-safe
        f.site_id = await f.services.worker.run(sites.default_site_id, clock.now())
        ids = [c.id for c in f.site.chargers]
        states = await f.services.worker.run(st.states, ids)
        assert all(states.get((i, 0)) is not None and states[(i, 0)].accepted for i in ids)
        report = []
        for k, policy in enumerate(CONTROLLED):
            r = await _segment(f, policy, seed=k + 1)
            report.append(r)
            print(r)
        for r in report:
            assert r["max_kw"] <= CAPACITY_KW, r
            assert r["busy_intervals"] == 0 or r["busy_share"] >= BUSY_SHARE_MIN, r
            assert not r["starved"], r
            assert r["delivered_kwh"] >= ORACLE_SHARE_MIN * r["oracle_kwh"], r
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await f.site.stop()
        await f.services.stop()
        clock.configure()
