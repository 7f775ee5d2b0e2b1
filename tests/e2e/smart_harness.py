"""An in-process CSMS with its control loop and a site of simulated chargers on one sped-up
clock, plus a site meter (the sum of every EVSE's physical draw, sampled on the simulators)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import ocpp.messages

from csms import clock
from csms.services import Services
from csms.settings import Settings
from csms.sites import service as sites
from simulators.charger.model import ChargerType
from simulators.charger.v16 import Charger16
from simulators.charger.v201 import Charger201
from simulators.clock import SimClock
from simulators.ev import EV
from simulators.vehicles import VehicleSpec

EV_3PH = VehicleSpec("test-3ph", "mixed", 80_000.0, 3, 11_040.0, 0.0, (), (), False, 400.0, "t")
EV_3PH22 = VehicleSpec("test-3ph-22", "premium", 80_000.0, 3, 22_080.0, 0.0, (), (), False,
                       400.0, "t")
EV_1PH = VehicleSpec("test-1ph", "urban", 50_000.0, 1, 7_360.0, 0.0, (), (), False, 400.0, "t")


@dataclass
class SmartSite:
    services: Services
    site_id: int
    sim_clock: SimClock
    chargers: list
    tasks: list = field(default_factory=list)
    meter: list = field(default_factory=list)  # (sim time, site kW)

    def site_kw(self) -> float:
        return sum(max(0.0, e.power_w) for c in self.chargers for e in c.evses) / 1000.0

    async def sleep(self, simulated_s: float) -> None:
        await self.sim_clock.sleep(simulated_s)

    def plug(self, charger, evse_id: int, spec: VehicleSpec, dwell_s: float, tag: str,
             requested_wh: float) -> None:
        ev = EV(spec, soc_pct=10.0, target_soc_pct=100.0, requested_energy_wh=requested_wh)
        charger.plug_in(evse_id, ev, tag, dwell_s=dwell_s)

    def interval_means_kw(self, t0: datetime, t1: datetime, interval_s: float = 60.0
                          ) -> list[float]:
        """Mean site draw in each meter interval of [t0, t1)."""
        out = []
        t = t0
        while t + timedelta(seconds=interval_s) <= t1:
            end = t + timedelta(seconds=interval_s)
            values = [kw for ts, kw in self.meter if t <= ts < end]
            if values:
                out.append(sum(values) / len(values))
            t = end
        return out

    async def _meter_loop(self, every_s: float) -> None:
        while True:
            self.meter.append((self.sim_clock.now(), self.site_kw()))
            await self.sim_clock.sleep(every_s)

    async def wait_failsafe(self, timeout_s: float = 30.0) -> None:
        """Until every charger confirmed its fail-safe default profile."""
        from csms.control import state as st

        ids = [c.id for c in self.chargers]
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            states = await self.services.worker.run(st.states, ids)
            if all(states.get((i, 0)) is not None and states[(i, 0)].accepted for i in ids):
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("fail-safe profiles not installed")
            await asyncio.sleep(0.1)

    async def wait_connected(self, timeout_s: float = 20.0) -> None:
        await asyncio.wait_for(asyncio.gather(*(c.connected.wait() for c in self.chargers)),
                               timeout_s)


@contextlib.asynccontextmanager
async def smart_site(database_url: str, plan: list[tuple[str, str, ChargerType]],
                     capacity_kw: float, policy: str, speed: float, start: datetime,
                     params: dict | None = None, control_period_s: int = 60):
    """``plan``: (charger id, "1.6" | "2.0.1", hardware) per charger."""
    ocpp.messages.ASYNC_VALIDATION = False
    clock.configure(speed=speed, start=start)
    sim_clock = SimClock(speed, clock.now())
    settings = Settings(database_url=database_url, ocpp_port=0, http_port=0, open=True,
                        call_timeout_s=10.0, ping_interval_s=None)
    svc = Services.build(settings)
    await svc.start()
    url = f"ws://127.0.0.1:{svc.gateway.port}/ocpp"
    now = clock.now()
    site = await svc.worker.run(sites.create_site, {
        "name": "e2e", "capacity_kw": capacity_kw, "policy": policy,
        "control_period_s": control_period_s, "policy_params": params or {}}, now)
    for cid, _, hw in plan:
        await svc.worker.run(sites.assign_charger, site.id, cid, now,
                             "L1L2L3" if hw.phases == 3 else "L1", hw.max_power_w, hw.kind)
    svc.start_control()
    chargers = [(Charger16 if proto == "1.6" else Charger201)(
        cid, url, hw, sim_clock, seed=i, meter_interval_s=60.0, tick_s=15.0)
        for i, (cid, proto, hw) in enumerate(plan)]
    handle = SmartSite(svc, site.id, sim_clock, chargers)
    async with running(handle, meter_every_s=5.0):
        yield handle


@contextlib.asynccontextmanager
async def running(handle: SmartSite, meter_every_s: float | None = None):
    """Run the site's chargers until the block ends, after they are connected and have their
    fail-safe; then stop them, the CSMS and the sped-up clock."""
    handle.tasks = [asyncio.ensure_future(c.run()) for c in handle.chargers]
    if meter_every_s is not None:
        handle.tasks.append(asyncio.ensure_future(handle._meter_loop(meter_every_s)))
    try:
        await handle.wait_connected()
        await handle.wait_failsafe()
        yield handle
    finally:
        for t in handle.tasks:
            t.cancel()
        await asyncio.gather(*handle.tasks, return_exceptions=True)
        for c in handle.chargers:
            await c.close()
        await handle.services.stop()
        clock.configure()
