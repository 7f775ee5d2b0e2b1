"""The drivers a simulated site saw, as a ``csms evaluate`` scenario (docs/scenario.md).

``csms-sim --record FILE`` writes one, so that ``csms evaluate --oracle FILE`` tells what could
have been delivered on the same arrivals. Each car's ``energy_kwh`` and ``max_kw`` are what its
battery and its charger allow over its stay with no limit at all (the EV model stepped offline
from its state at arrival: DC taper and target SoC included), so the oracle is never credited
with energy no car could have taken.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from simulators.ev import EV, Supply, power, step

MIN_AC_CURRENT_A = 6.0  # IEC 61851-1: the least an AC EV is offered
PHASE_VOLTAGE_V = 230.0
STEP_S = 30.0


@dataclass(frozen=True)
class Visit:
    charger_id: str
    evse_id: int
    supply: Supply
    ev: EV  # as it arrived (a copy)
    arrival: datetime
    dwell_s: float
    phase_rotation: str = "RST"  # the site phases of the charger's L1, L2, L3


def physics_cap(supply: Supply, ev: EV, dwell_s: float) -> tuple[float, float, int]:
    """(kWh, kW at arrival, phases) the car takes over ``dwell_s`` with no limit: the most
    any schedule could give it."""
    ev = copy.deepcopy(ev)
    first = power(ev, supply, None)
    energy_wh, left_s = 0.0, dwell_s
    while left_s > 0:
        dt = min(STEP_S, left_s)
        energy_wh += max(0.0, step(ev, supply, None, dt).grid_energy_wh)
        left_s -= dt
    return energy_wh / 1000.0, max(0.0, first.grid_power_w) / 1000.0, max(1, first.phases_used)


def scenario_session(v: Visit, sid: str) -> dict:
    energy_kwh, max_kw, phases = physics_cap(v.supply, v.ev, v.dwell_s)
    ac = v.supply.kind == "AC"
    min_kw = MIN_AC_CURRENT_A * PHASE_VOLTAGE_V * phases / 1000.0 if ac else 0.0
    v2g = bool(v.supply.v2g and v.ev.spec.v2g and not ac)
    # The site phases the car's current flows on: an AC car on k phases uses the charger's
    # first k, wired to the site as the rotation says; a DC charger draws balanced power.
    used = v.phase_rotation[:phases] if ac else "RST"
    out = {"id": sid, "arrival": v.arrival.isoformat(),
           "departure": (v.arrival + timedelta(seconds=v.dwell_s)).isoformat(),
           "energy_kwh": round(energy_kwh, 4), "max_kw": round(max_kw, 4),
           "min_kw": round(min(min_kw, max_kw), 4), "phases": phases if ac else 3,
           "grid_phases": "".join(f"L{'RST'.index(p) + 1}" for p in used),
           "charger_id": v.charger_id, "evse_id": v.evse_id, "vehicle": v.ev.spec.name}
    if v2g:
        out["v2g"] = True
        out["discharge_max_kw"] = min(v.supply.max_power_w, v.ev.spec.dc_max_power_w) / 1000.0
    return out


class Recorder:
    """Collects each plug-in of a site (``Site.recorder``)."""

    def __init__(self) -> None:
        self.visits: list[Visit] = []

    def arrived(self, charger_id: str, evse_id: int, supply: Supply, ev: EV, at: datetime,
                dwell_s: float, phase_rotation: str = "RST") -> None:
        self.visits.append(Visit(charger_id, evse_id, supply, copy.deepcopy(ev), at, dwell_s,
                                 phase_rotation))

    def between(self, start: datetime, end: datetime) -> list[Visit]:
        return [v for v in self.visits if start <= v.arrival < end]

    def scenario(self, start: datetime, end: datetime, capacity_kw: float,
                 period_s: int = 60, name: str = "recorded",
                 phase_limit_kw: float | None = None) -> dict:
        """The arrivals in [start, end) on a horizon of whole periods from ``start``; stays
        are cut at the horizon's end. ``phase_limit_kw``: the most one phase of the connection
        carries (each session says which phases it loads)."""
        periods = max(1, math.ceil((end - start).total_seconds() / period_s))
        horizon_end = start + timedelta(seconds=periods * period_s)
        sessions = []
        for k, v in enumerate(self.between(start, end)):
            dwell_s = min(v.dwell_s, (horizon_end - v.arrival).total_seconds())
            sessions.append(scenario_session(replace(v, dwell_s=dwell_s), f"s{k + 1}"))
        site = {"capacity_kw": capacity_kw}
        if phase_limit_kw is not None:
            site["phase_limit_kw"] = phase_limit_kw
        return {"name": name, "start": start.isoformat(), "period_s": period_s,
                "periods": periods, "site": site, "sessions": sessions}

    def write(self, path: str | Path, start: datetime, end: datetime, capacity_kw: float,
              period_s: int = 60, phase_limit_kw: float | None = None) -> dict:
        data = self.scenario(start, end, capacity_kw, period_s, Path(path).stem, phase_limit_kw)
        Path(path).write_text(json.dumps(data, indent=1) + "\n")
        return data
