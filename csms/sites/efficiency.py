"""Charging efficiency of a site's sessions, where the data exists: battery energy over grid
energy between a session's first and last state-of-charge reading.

A meter sees the grid side only. The battery side is the state of charge the car reports (2.0.1
and DC chargers pass it on in MeterValues ``SoC``) times the usable battery of the vehicle the
session charges (``csms.fleet``: its id token or EV identity names a registered vehicle). So the
figure is an estimate from measured data: it needs a registered vehicle, SoC readings sent with
the register reading of the same instant, and a rise of at least ``MIN_SOC_RISE_PCT`` points
(a car reports whole percent: over 10 points the rounding is within +-10 % of the figure).
Figures outside ``PLAUSIBLE`` (a wrong battery in the registry, a SoC that jumps) are left out
and counted.

Bands: measured AC charging efficiency is 84-93 % on three phases and lower at low current;
DC is higher. Under 84 % is ``low``, 84-90 % ``typical``, 90 % and more ``high``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from csms.fleet.identify import vehicles_for_sessions
from csms.store.tables import ChargerRow, MeterSampleRow, SessionRow

REGISTER = "Energy.Active.Import.Register"
MIN_SOC_RISE_PCT = 10.0
PLAUSIBLE = (0.5, 1.05)  # battery / grid energy; outside: the data, not the car, is wrong
LOW_BELOW, HIGH_FROM = 0.84, 0.90
BANDS = ("high", "typical", "low")
MAX_SESSIONS = 2_000  # the newest; bounds the work of one call


@dataclass(frozen=True, kw_only=True)
class SessionEfficiency:
    session_id: int
    charger_id: str
    vehicle_id: int
    mean_power_w: float  # grid side, between the two readings
    grid_wh: float
    battery_wh: float

    @property
    def efficiency(self) -> float:
        return self.battery_wh / self.grid_wh


def band(efficiency: float) -> str:
    return "low" if efficiency < LOW_BELOW else "typical" if efficiency < HIGH_FROM else "high"


def session_efficiencies(session: Session, site_id: int, since: datetime, until: datetime
                         ) -> tuple[list[SessionEfficiency], int]:
    """(the efficiency of each of the site's sessions with readings in [since, until) that
    allows one, how many were left out as implausible)."""
    rows = session.exec(
        select(SessionRow).join(ChargerRow, ChargerRow.id == SessionRow.charger_id)
        .where(ChargerRow.site_id == site_id, SessionRow.started_received_at < until,
               sa.or_(SessionRow.active == True,  # noqa: E712
                      SessionRow.stopped_received_at >= since))
        .order_by(SessionRow.id.desc()).limit(MAX_SESSIONS)).all()
    vehicles = vehicles_for_sessions(session, rows)
    if not vehicles:
        return [], 0
    ends = _soc_ends(session, list(vehicles), since, until)
    by_id = {r.id: r for r in rows}
    out, implausible = [], 0
    for sid, (t0, soc0, wh0, t1, soc1, wh1) in ends.items():
        grid_wh = wh1 - wh0
        rise = soc1 - soc0
        hours = (t1 - t0).total_seconds() / 3600.0
        if rise < MIN_SOC_RISE_PCT or grid_wh <= 0 or hours <= 0:
            continue
        vehicle = vehicles[sid]
        battery_wh = rise / 100.0 * vehicle.battery_wh
        if not PLAUSIBLE[0] <= battery_wh / grid_wh <= PLAUSIBLE[1]:
            implausible += 1
            continue
        out.append(SessionEfficiency(session_id=sid, charger_id=by_id[sid].charger_id,
                                     vehicle_id=vehicle.id, mean_power_w=grid_wh / hours,
                                     grid_wh=grid_wh, battery_wh=battery_wh))
    return out, implausible


def _soc_ends(session: Session, session_ids: list[int], since: datetime, until: datetime
              ) -> dict[int, tuple]:
    """Session id -> (first instant, SoC, register Wh, last instant, SoC, register Wh) over the
    instants where the session sent both a SoC and a register reading (one MeterValues).
    One query on the (session_id, timestamp) index: the pairs, each session's first and last
    instant, and the pairs at those two instants."""
    soc = sa.orm.aliased(MeterSampleRow)
    reg = sa.orm.aliased(MeterSampleRow)
    paired = (select(soc.session_id.label("sid"), soc.timestamp.label("ts"),
                     soc.value.label("soc"), reg.value.label("wh"))
              .join(reg, sa.and_(reg.session_id == soc.session_id,
                                 reg.timestamp == soc.timestamp, reg.measurand == REGISTER,
                                 reg.flag.is_(None), reg.phase.is_(None)))
              .where(soc.session_id.in_(session_ids), soc.measurand == "SoC",
                     soc.flag.is_(None), soc.timestamp >= since, soc.timestamp < until)
              .cte("paired"))
    spans = (select(paired.c.sid, sa.func.min(paired.c.ts).label("t0"),
                    sa.func.max(paired.c.ts).label("t1"))
             .group_by(paired.c.sid).subquery())
    rows = session.execute(
        select(paired.c.sid, paired.c.ts, paired.c.soc, paired.c.wh, spans.c.t0)
        .join(spans, spans.c.sid == paired.c.sid)
        .where(spans.c.t0 != spans.c.t1,
               sa.or_(paired.c.ts == spans.c.t0, paired.c.ts == spans.c.t1))).all()
    first: dict[int, tuple] = {}
    last: dict[int, tuple] = {}
    for sid, ts, soc_pct, wh, t0 in rows:
        (first if ts == t0 else last)[sid] = (ts, float(soc_pct), float(wh))
    return {sid: (*first[sid], *last[sid]) for sid in first if sid in last}


def summary(found: list[SessionEfficiency], implausible: int) -> dict:
    """The KPI: sessions measured, their energy-weighted mean, the bands, and each session's
    (mean power kW, efficiency %) for the power-vs-efficiency chart."""
    grid = sum(e.grid_wh for e in found)
    return {
        "sessions": len(found),
        "implausible": implausible,
        "mean_pct": 100.0 * sum(e.battery_wh for e in found) / grid if grid > 0 else None,
        "bands": {b: sum(1 for e in found if band(e.efficiency) == b) for b in BANDS},
        "points": [{"session_id": e.session_id, "power_kw": e.mean_power_w / 1000.0,
                    "efficiency_pct": 100.0 * e.efficiency} for e in found],
        "estimated_from": "the SoC the car reports x its registered battery, over the "
                          "meter's register between the same two readings",
    }
