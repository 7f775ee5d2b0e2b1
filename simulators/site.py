"""A site: chargers plus an arrival process, a live summary, and optional chaos.

Deterministic for a seed: charger types, protocols, arrivals, vehicles and id tags all come
from seeded generators (network timing aside). With a fleet (``fleet_size``) the site owns that
many vehicles with fixed tags (``simulators.fleet``); an arrival takes one that is not plugged
in and suits the charger, else it is an anonymous visitor with a random tag.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

import numpy as np

from simulators.arrivals import SITE_TZ, Arrival, day_arrivals, load_profile
from simulators.charger.base import SimCharger
from simulators.charger.link import BackOff
from simulators.charger.model import CHARGER_TYPES, CHARGING, Faults
from simulators.charger.v16 import Charger16
from simulators.charger.v21 import Charger21
from simulators.charger.v201 import Charger201
from simulators.clock import SimClock
from simulators.ev import EV
from simulators.fleet import FleetVehicle, draw_fleet
from simulators.recording import Recorder
from simulators.vehicles import FleetMix, VehicleSpec, load_vehicles

log = logging.getLogger(__name__)

# Charger hardware per profile: (type, share).
SITE_HARDWARE = {
    "office": [("ac11", 0.5), ("ac22", 0.4), ("dc50", 0.1)],
    "residential": [("ac7", 0.7), ("ac11", 0.3)],
    "commercial": [("ac7", 0.1), ("ac22", 0.4), ("dc50", 0.3), ("dc150", 0.2)],
    "highway": [("dc150", 0.5), ("dc350", 0.3), ("dc50", 0.2)],
}


@dataclass
class ChaosConfig:
    """``drop_per_h`` / ``reboot_per_h``: probability per charger per simulated hour;
    ``slow_share`` / ``ignore_share``: share of chargers answering slowly / ignoring limits;
    ``skew_share``: share of chargers whose clock is ``skew_s`` off the site's time and never
    takes the CSMS's (spread evenly: charger i is skewed when floor(share x (i + 1)) grows)."""

    drop_per_h: float = 0.0
    reboot_per_h: float = 0.0
    slow_share: float = 0.0
    ignore_share: float = 0.0
    slow_answer_s: float = 2.0
    skew_share: float = 0.0
    skew_s: float = -600.0

    @classmethod
    def parse(cls, text: str | None) -> ChaosConfig:
        """``"drop=0.05,reboot=0.01,slow=0.1,ignore=0.1,skew=0.33,skew_s=-600"``."""
        out = cls()
        names = {"drop": "drop_per_h", "reboot": "reboot_per_h", "slow": "slow_share",
                 "ignore": "ignore_share", "slow_s": "slow_answer_s", "skew": "skew_share",
                 "skew_s": "skew_s"}
        for part in filter(None, (text or "").split(",")):
            key, _, value = part.partition("=")
            if key.strip() not in names:
                raise ValueError(f"unknown fault {key!r}; expected one of {sorted(names)}")
            setattr(out, names[key.strip()], float(value))
        return out


def hardware_plan(profile: str, n: int) -> list[str]:
    """Charger types for ``n`` chargers, in shares as close as possible to the profile's."""
    plan: list[str] = []
    counts = {t: 0 for t, _ in SITE_HARDWARE[profile]}
    for i in range(n):
        # Largest deficit first (deterministic apportionment).
        t = max(SITE_HARDWARE[profile], key=lambda ts: ts[1] * (i + 1) - counts[ts[0]])[0]
        counts[t] += 1
        plan.append(t)
    return plan


ROTATIONS = ("RST", "STR", "TRS")  # L1L2L3, L2L3L1, L3L1L2
CHARGER_CLASSES = {"1.6": Charger16, "2.0.1": Charger201, "2.1": Charger21}
V2G_CHARGER_TYPE = "dc150"  # the bidirectional DC hardware (ChargerType.v2g)


def charger_protocols(protocol: str, n: int, v2g_share: float = 0.0) -> list[str]:
    """Protocol per charger: one for all, or ``mixed``: 1.6 / 2.0.1 alternating, with a share
    ``v2g_share`` of 2.1 V2G chargers spread evenly: charger i (from 0) is 2.1 when
    floor(share x (i + 1)) grows, so the first k chargers hold floor(share x k) of them.

    With ``v2g_share`` 0 the mixed site is exactly the 1.6 / 2.0.1 alternation it always was.
    """
    if protocol != "mixed":
        return [protocol] * n
    if not 0.0 <= v2g_share <= 1.0:
        raise ValueError(f"v2g_share must be in [0, 1], got {v2g_share}")
    out, v2g, plain = [], 0, 0
    for i in range(n):
        if v2g < math.floor(v2g_share * (i + 1) + 1e-9):  # 1e-9: 0.29 x 100 is 28.99...
            out.append("2.1")
            v2g += 1
        else:
            out.append(("1.6", "2.0.1")[plain % 2])
            plain += 1
    return out


def v2g_vehicles() -> tuple[VehicleSpec, ...]:
    return tuple(v for v in load_vehicles() if v.v2g)


@dataclass
class Site:
    url: str
    chargers_n: int
    profile: str
    protocol: str  # "1.6" | "2.0.1" | "2.1" | "mixed"
    clock: SimClock
    seed: int = 1
    mix: FleetMix = field(default_factory=FleetMix.default)
    passwords: dict[str, str] = field(default_factory=dict)
    default_password: str | None = None
    id_prefix: str = "SIM"
    meter_interval_s: float = 60.0
    sessions_scale: float = 1.0
    chaos: ChaosConfig = field(default_factory=ChaosConfig)
    backoff: BackOff = field(default_factory=BackOff)
    v2g_share: float = 0.0  # mixed only: share of 2.1 V2G chargers
    # No start time given: take the CSMS's time from the first BootNotification answer.
    join_csms_clock: bool = False
    recorder: Recorder | None = None  # every plug-in, for ``csms evaluate --oracle``
    fleet_size: int = 0  # the site's own vehicles (fixed tags); 0: visitors only

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.np_rng = np.random.default_rng(self.seed)
        self.arrivals = load_profile(self.profile)
        self.chargers: list[SimCharger] = []
        protocols = charger_protocols(self.protocol, self.chargers_n, self.v2g_share)
        ac_count = 0
        for i, ctype in enumerate(hardware_plan(self.profile, self.chargers_n)):
            cid = f"{self.id_prefix}-{i + 1:04d}"
            proto = protocols[i]
            cls = CHARGER_CLASSES[proto]
            if proto == "2.1":
                ctype = V2G_CHARGER_TYPE  # a 2.1 charger here is there for V2G
            faults = Faults(
                answer_delay_s=self.chaos.slow_answer_s if self.rng.random() < self.chaos.slow_share else 0.0,
                ignore_limits=self.rng.random() < self.chaos.ignore_share)
            # Installers rotate the phases from one AC charger to the next, so one-phase cars
            # do not all load L1 (the chargers report it: 1.6 ConnectorPhaseRotation, 2.0.1
            # EVSE.PhaseRotation).
            rotation = ROTATIONS[ac_count % 3]
            ac_count += CHARGER_TYPES[ctype].kind == "AC"
            skewed = math.floor(self.chaos.skew_share * (i + 1) + 1e-9) > \
                math.floor(self.chaos.skew_share * i + 1e-9)
            charger = cls(
                cid, self.url, CHARGER_TYPES[ctype], self.clock, seed=self.seed * 100_003 + i,
                password=self.passwords.get(cid, self.default_password), faults=faults,
                backoff=self.backoff, meter_interval_s=self.meter_interval_s,
                clock_offset_s=self.chaos.skew_s if skewed else 0.0,
                clock_follows_csms=not skewed, phase_rotation=rotation)
            charger.on_csms_time = self._csms_time
            self.chargers.append(charger)
        self.fleet: tuple[FleetVehicle, ...] = draw_fleet(self.fleet_size, self.mix, self.seed)
        self._plugged: dict[str, asyncio.Future] = {}  # fleet tag -> its session, while plugged
        self.sessions_started = 0
        self.fleet_sessions = 0
        self.turned_away = 0
        self._tasks: list[asyncio.Task] = []
        self._clock_ready = asyncio.Event()
        if not self.join_csms_clock:
            self._clock_ready.set()

    def _csms_time(self, csms_time: datetime) -> None:
        """A BootNotification answer's currentTime: the first re-bases the site's clock when no
        start time was given, so arrivals follow the CSMS's day."""
        if not self._clock_ready.is_set():
            self.clock.rebase(csms_time)
            log.info("site clock set from the CSMS: %s", csms_time.isoformat())
            self._clock_ready.set()

    # -- summary -------------------------------------------------------------------------------
    def summary(self) -> dict:
        evses = [e for c in self.chargers for e in c.evses]
        return {
            "time": self.clock.now(),
            "connected": sum(c.connected.is_set() for c in self.chargers),
            "chargers": len(self.chargers),
            "charging": sum(e.status == CHARGING for e in evses),
            "occupied": sum(e.ev is not None for e in evses),
            "site_kw": sum(max(0.0, e.power_w) for e in evses) / 1000.0,
            "energy_kwh": sum(e.meter_wh for e in evses) / 1000.0,
            "sessions": self.sessions_started,
            "fleet_sessions": self.fleet_sessions,
            "turned_away": self.turned_away,
            "queued": sum(c.outbox.pending_transactional for c in self.chargers),
        }

    def summary_line(self) -> str:
        s = self.summary()
        local = s["time"].astimezone(SITE_TZ).strftime("%a %H:%M")
        return (f"{local} | connected {s['connected']}/{s['chargers']} | charging {s['charging']}"
                f" | site {s['site_kw']:.1f} kW | energy {s['energy_kwh']:.1f} kWh"
                f" | sessions {s['sessions']} (turned away {s['turned_away']})"
                f" | queued {s['queued']}")

    # -- run -----------------------------------------------------------------------------------
    async def run(self, duration_s: float | None = None) -> None:
        """Run all chargers and the arrival process; ``duration_s`` of simulated time or forever."""
        self._tasks = [asyncio.ensure_future(c.run()) for c in self.chargers]
        self._tasks.append(asyncio.ensure_future(self._arrivals()))
        if self.chaos.drop_per_h or self.chaos.reboot_per_h:
            self._tasks.append(asyncio.ensure_future(self._chaos()))
        try:
            if duration_s is None:
                await asyncio.gather(*self._tasks)
            else:
                await self.clock.sleep(duration_s)
        finally:
            await self.stop()

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        closing = [asyncio.ensure_future(c.close()) for c in self.chargers]
        # Bounded: a socket stuck in its close handshake must not hold Ctrl-C hostage.
        await asyncio.wait([*self._tasks, *closing], timeout=5.0)

    async def _arrivals(self) -> None:
        try:
            await asyncio.wait_for(self._clock_ready.wait(), 60.0)
        except TimeoutError:
            log.warning("no BootNotification answer in 60 s: the site keeps its own clock")
            self._clock_ready.set()
        evses = sum(len(c.evses) for c in self.chargers)
        day = self.clock.now().astimezone(SITE_TZ).date()
        while True:
            rng = np.random.default_rng([self.seed, day.toordinal()])  # same day, same drivers
            for a in day_arrivals(self.arrivals, day, evses, rng, scale=self.sessions_scale):
                wait_s = (a.at - self.clock.now()).total_seconds()
                if wait_s < 0:
                    continue  # before the simulation started
                await self.clock.sleep(wait_s)
                self._arrive(a)
            day = day + timedelta(days=1)
            next_midnight = datetime.combine(day, time(0), SITE_TZ)
            await self.clock.sleep((next_midnight - self.clock.now()).total_seconds())

    def _arrive(self, a: Arrival) -> None:
        dc_needed = self.profile == "highway"
        free = [(c, e) for c in self.chargers for e in c.free_evses()
                if c.connected.is_set() and (c.type.kind == "DC" or not dc_needed)]
        if not free:
            self.turned_away += 1
            return
        charger, evse = free[int(a.u_vehicle * 7919) % len(free)]
        v2g_only = charger.protocol == "2.1" and charger.type.v2g and bool(v2g_vehicles())
        mine = self._fleet_vehicle(a, dc_only=charger.type.kind == "DC", v2g_only=v2g_only)
        if mine is not None:
            spec = mine.spec
        elif v2g_only:
            spec = random.Random(a.u_vehicle).choice(v2g_vehicles())  # V2G cars use V2G chargers
        else:
            spec = self.mix.sample(random.Random(a.u_vehicle), dc_only=charger.type.kind == "DC")
        if a.energy_wh is None:  # highway: to target, then leave
            ev = EV(spec, soc_pct=a.arrival_soc_pct, target_soc_pct=self.arrivals.target_soc_pct)
            need_wh = (ev.target_soc_pct - ev.soc_pct) / 100 * spec.capacity_wh
            dwell_s = _dc_stop_s(need_wh, charger.type.max_power_w, spec, a.u_vehicle)
            requested_wh = need_wh
        else:
            soc = max(5.0, min(a.arrival_soc_pct, 100 - a.energy_wh / spec.capacity_wh * 100))
            target = min(100.0, soc + a.energy_wh / spec.capacity_wh * 100)
            ev = EV(spec, soc_pct=soc, target_soc_pct=target)
            dwell_s, requested_wh = a.dwell_s, a.energy_wh
            if charger.type.kind == "DC":
                # The stays of the profiles are AC stays (ElaadNL / ACN-Data: parked for hours).
                # A driver at a DC charger waits for the car and leaves once it is charged,
                # as on the highway: a car that got its energy in minutes does not sit on a
                # 50-150 kW charger for the rest of an AC stay.
                dwell_s = min(dwell_s, _dc_stop_s(requested_wh, charger.type.max_power_w,
                                                  spec, a.u_vehicle))
        # ISO 15118 EVs (here: every DC session, every other AC one) announce their needs.
        if charger.type.kind == "DC" or a.u_vehicle < 0.5:
            ev.requested_energy_wh = requested_wh
        self.sessions_started += 1
        tag = mine.id_token if mine is not None else f"RFID-{int(a.u_vehicle * 1e6):06d}"
        if self.recorder is not None:
            self.recorder.arrived(charger.id, evse.id, evse.supply, ev, self.clock.now(),
                                  dwell_s, charger.phase_rotation)
        session = charger.plug_in(evse.id, ev, tag, dwell_s=dwell_s)
        if mine is not None:
            self.fleet_sessions += 1
            self._plugged[mine.id_token] = session  # until the car leaves (the task ends)

    def _fleet_vehicle(self, a: Arrival, dc_only: bool, v2g_only: bool) -> FleetVehicle | None:
        """One of the site's vehicles not plugged in now that suits the charger (DC chargers:
        DC-capable cars; V2G chargers: V2G cars), or None: the arrival is a visitor."""
        if not self.fleet:
            return None
        for tag, session in list(self._plugged.items()):
            if session.done():
                del self._plugged[tag]
        free = [v for v in self.fleet if v.id_token not in self._plugged
                and (v.spec.has_dc or not dc_only) and (v.spec.v2g or not v2g_only)]
        return random.Random(a.u_vehicle).choice(free) if free else None

    async def _chaos(self) -> None:
        rng = random.Random(self.seed + 7)
        while True:
            await self.clock.sleep(3600.0)
            for c in self.chargers:
                if rng.random() < self.chaos.reboot_per_h:
                    log.info("%s: chaos: reboot", c.id)
                    c.reboot(offline_s=rng.uniform(2.0, 10.0))
                elif rng.random() < self.chaos.drop_per_h:
                    log.info("%s: chaos: link drop", c.id)
                    c.drop_link(offline_s=rng.uniform(1.0, 30.0))


def _dc_stop_s(need_wh: float, charger_w: float, spec, u: float) -> float:
    """How long a driver stays at a DC charger for ``need_wh``: the charge at 60 % of the
    lower of the charger's and the car's DC rating (taper, a shared site), then 5-15 min."""
    rate_w = min(charger_w, spec.dc_max_power_w or 50_000.0) * 0.6
    return need_wh / rate_w * 3600 + 300 + 600 * u
