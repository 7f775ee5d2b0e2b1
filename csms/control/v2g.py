"""V2G sessions: which EVs may discharge, how far, and their net energy and power.

Only OCPP 2.1 has discharge semantics. A session may be discharged (``grid_support``) when its
charger speaks 2.1 and the EV said so in its 2.1 NotifyEVChargingNeeds (read as the typed
``ChargingNeeds``, csms/domain/charging_needs.py): a bidirectional transfer mode requested or
available (DC_BPT, AC_BPT, ...) and a maximum discharge power > 0. How much it may give:
``-min_v2x_energy_wh`` (the energy above its minimum V2X state of charge when it sent the
message) plus the net energy received since; the planner's energy floor. Its departure need stays
the energy it asked for: the policy delivers the maximum feasible energy first, so discharge
happens only when it can be recharged in time.

With discharge the import register alone overstates what the battery got: energy and measured
power become net of ``Energy.Active.Export.Register`` / ``Power.Active.Export``.
When the EV gives a target SoC and its battery capacity and the charger reports ``SoC``
(DC), the need is re-read from the battery every run: what is missing to the target SoC, divided
by ``BATTERY_EFFICIENCY`` (a discharge/recharge cycle loses energy both ways, which grid-side
energy counting would miss: the car would leave short). The floor likewise becomes the battery
energy above the minimum V2X SoC, times ``BATTERY_EFFICIENCY``.
1.6 and 2.0.1 sessions are never in the map: they are only curtailed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from sqlmodel import select

from csms.domain.charging_needs import ChargingNeeds
from csms.ocpp.profiles import V2X_PROTOCOLS
from csms.sites import readings as rd
from csms.sites.snapshot import SiteSnapshot
from csms.store.tables import MeterSampleRow, SessionRow

log = logging.getLogger(__name__)

BATTERY_EFFICIENCY = 0.9  # grid <-> battery, each way (DC chargers measure 90-93 %)


@dataclass(frozen=True)
class V2x:
    """What a V2G session may do now: discharge up to ``max_discharge_w``, giving at most
    ``floor_wh`` from now on (never below the EV's minimum V2X state of charge)."""

    max_discharge_w: float
    floor_wh: float


def v2x_capability(needs: ChargingNeeds) -> tuple[float, float] | None:
    """(max discharge W, energy above the V2X minimum Wh) from a 2.1 EV's charging needs, or
    None when the EV cannot or will not discharge."""
    max_w = needs.max_discharge_w or 0.0
    if not needs.bidirectional or max_w <= 0:
        return None
    above_wh = -(needs.min_v2x_energy_wh or 0.0)
    return max_w, max(0.0, above_wh)


@dataclass(frozen=True)
class Battery:
    """SoC facts of a 2.1 NotifyEVChargingNeeds: capacity, SoC then, target SoC, V2X minimum."""

    capacity_wh: float
    soc_pct: float
    target_soc_pct: float
    min_v2x_wh: float  # battery energy at the minimum V2X SoC


def battery_of(needs: ChargingNeeds) -> Battery | None:
    capacity, soc, target = needs.capacity_wh, needs.soc_pct, needs.target_soc_pct
    if not capacity or soc is None or target is None:
        return None
    min_v2x_wh = soc / 100.0 * capacity + (needs.min_v2x_energy_wh or 0.0)
    return Battery(capacity, soc, target, max(0.0, min_v2x_wh))


def need_and_floor_wh(battery: Battery, soc_now_pct: float, net_wh: float
                      ) -> tuple[float, float]:
    """(requested Wh as the planner counts it: net so far + grid energy still missing to the
    target SoC, floor Wh: grid energy the battery may still give above its V2X minimum)."""
    now_wh = soc_now_pct / 100.0 * battery.capacity_wh
    missing_wh = max(0.0, battery.target_soc_pct / 100.0 * battery.capacity_wh - now_wh)
    above_wh = max(0.0, now_wh - battery.min_v2x_wh)
    return net_wh + missing_wh / BATTERY_EFFICIENCY, above_wh * BATTERY_EFFICIENCY


def _latest_soc(session, s: SessionRow) -> float | None:
    row = session.exec(select(MeterSampleRow).where(
        MeterSampleRow.session_id == s.id, MeterSampleRow.measurand == "SoC")
        .order_by(MeterSampleRow.timestamp.desc())).first()
    return None if row is None else float(row.value)


def _export(session, s: SessionRow) -> tuple[float, float | None]:
    """(export Wh since the session started, latest export power W or None)."""
    rows = session.exec(select(MeterSampleRow).where(
        MeterSampleRow.session_id == s.id,
        MeterSampleRow.measurand.in_(("Energy.Active.Export.Register", "Power.Active.Export")))
        .order_by(MeterSampleRow.timestamp)).all()
    registers = [r.value for r in rows
                 if r.measurand == "Energy.Active.Export.Register" and not r.phase]
    powers = [r for r in rows if r.measurand == "Power.Active.Export" and not r.phase]
    export_wh = registers[-1] - registers[0] if len(registers) > 1 else 0.0
    power_w = None
    if powers:
        power_w = powers[-1].value
    return max(0.0, export_wh), power_w


def with_v2g(session, snap: SiteSnapshot) -> SiteSnapshot:
    """The snapshot with net energy/power for 2.1 sessions and ``extra["v2g"]``:
    {(charger, EVSE): V2x} for the sessions that may discharge."""
    protocols = {c.id: c.protocol for c in snap.chargers}
    sessions, v2g = [], {}
    for s in snap.sessions:
        if protocols.get(s.charger_id) not in V2X_PROTOCOLS:
            sessions.append(s)
            continue
        row = session.get(SessionRow, s.session_id)
        export_wh, export_w = _export(session, row) if row is not None else (0.0, None)
        net_wh = s.energy_wh - export_wh
        measured = s.measured_w
        if measured is not None and export_w is not None:
            measured -= export_w
        s = replace(s, energy_wh=net_wh, measured_w=measured)
        sessions.append(s)
        needs = rd.latest_charging_needs(session, row) if row is not None else None
        capability = v2x_capability(needs) if needs is not None else None
        if capability is None:
            continue
        max_w, above_wh = capability
        floor_wh = max(0.0, above_wh + net_wh)
        battery = battery_of(needs)
        soc_now = _latest_soc(session, row) if battery is not None else None
        if battery is not None and soc_now is not None:
            requested_wh, floor_wh = need_and_floor_wh(battery, soc_now, net_wh)
            sessions[-1] = replace(s, requested_wh=requested_wh)
        v2g[(s.charger_id, s.evse_id)] = V2x(max_w, floor_wh)
    return replace(snap, sessions=tuple(sessions), extra={**snap.extra, "v2g": v2g})
