"""A site as the control loop sees it at one instant, read from the store.

Per active session: the EVSE's electrical facts, energy so far, latest measured power and
phases, and what the driver wants: departure and energy from 2.0.1 NotifyEVChargingNeeds, else
from the id token's history (mean of its past sessions), else from the site's own history
shrunk toward the site defaults (``csms.sites.stays``; ``policy_params``:
``default_energy_kwh`` 20, ``default_dwell_s`` 8 h). A car that reports no needs and whose
session names a registered vehicle (``csms.fleet``) is limited to that vehicle's AC or DC
maximum power and AC phases, and its energy to what its battery can take.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, select

from csms.domain.charger_facts import default_rating_w
from csms.domain.charging_needs import ChargingNeeds
from csms.domain.electrical import VOLTAGE_V
from csms.domain.model import NO_SMART_CHARGING, Protocol
from csms.fleet.identify import vehicles_for_sessions
from csms.ocpp.profiles import Capabilities
from csms.sites import readings as rd
from csms.sites.stays import StayForecast, forecast
from csms.store.tables import (
    ChargerCapabilityRow,
    ChargerRow,
    SessionRow,
    SiteRow,
    SmartChargingStateRow,
    VehicleRow,
)

log = logging.getLogger(__name__)

DEFAULT_ENERGY_KWH = 20.0
MIN_KIND_SESSIONS = 10  # past sessions on AC (or DC) chargers that speak for that kind alone
DEFAULT_DWELL_S = 8 * 3600.0
POWER_MEASURANDS = ("Power.Active.Import",)
SAMPLE_LOOKBACK_S = 900.0  # latest power sample: look no further back than this
# Grid energy per battery energy is at most 1 / this: measured AC charging efficiency is 84-93 %
# on three phases (DC higher). The low end, so a registered car is never planned short.
CHARGE_EFFICIENCY_LOW = 0.84


@dataclass(frozen=True, kw_only=True)
class ChargerInfo:
    id: str
    protocol: str | None
    connected: bool
    ac: bool
    phases: int  # wired phases (AC); 0 = DC
    evse_max_w: float
    evses: int
    caps: Capabilities
    wiring: str = "L1L2L3"  # ChargerRow.phase_wiring: site phase of the charger's L1, L2, L3
    clock_offset_s: float = 0.0  # its clock minus ours (0 until estimated)


@dataclass(frozen=True, kw_only=True)
class EvseSession:
    charger_id: str
    evse_id: int
    session_id: int
    transaction_ref: str
    ac: bool
    phases: int  # phases the EV draws on (measured), else the charger's
    max_w: float  # EVSE rating, lowered to what the EV was seen to take
    started_at: datetime
    energy_wh: float  # delivered so far
    requested_wh: float
    departure: datetime
    needs_source: str  # ev | history | site | default
    measured_w: float | None = None
    measured_at: datetime | None = None
    obeying: bool = True
    limit_w: float | None = None  # the limit last sent
    wiring: str = "L1L2L3"  # the charger's phase_wiring: ``phases`` are its first ones
    ev_state: str | None = None  # charging state as reported: Charging | SuspendedEV ...
    vehicle_id: int | None = None  # the registered vehicle whose facts limit it (csms.fleet)


@dataclass(frozen=True, kw_only=True)
class SiteSnapshot:
    site_id: int
    name: str
    now: datetime
    capacity_kw: float
    policy: str
    policy_params: dict
    control_period_s: int
    tariff: dict
    pv_kwp: float
    latitude: float
    longitude: float
    base_load_profile: str | None
    base_load_peak_kw: float
    chargers: tuple[ChargerInfo, ...] = ()
    sessions: tuple[EvseSession, ...] = ()
    idle_evses: tuple[tuple[str, int], ...] = ()  # (charger, EVSE) without a session
    # (charger, EVSE, W): an offline charger's session under a TxProfile of ours whose lease
    # still runs. The charger keeps applying it while we cannot reach it (K01: a profile
    # stays in force until it expires), so that power is not ours to give to others.
    held: tuple[tuple[str, int, float], ...] = ()
    extra: dict = field(default_factory=dict)

    @property
    def total_evses(self) -> int:
        return sum(c.evses for c in self.chargers)


def _phases(wiring: str | None) -> int:
    return max(1, sum(p in (wiring or "L1L2L3") for p in ("L1", "L2", "L3")))


def _caps(row: ChargerCapabilityRow | None, protocol: str | None, evses: int) -> Capabilities:
    if row is None:
        return Capabilities(protocol=protocol or Protocol.V16, evses=evses)
    return Capabilities(protocol=row.protocol,
                        rate_units=tuple(u for u in row.rate_units.split(",") if u),
                        max_stack_level=row.max_stack_level, max_periods=row.max_periods,
                        max_profiles=row.max_profiles, evses=max(row.evses, evses),
                        probed=row.probed, composite=row.composite)


def _charger_info(c: ChargerRow, seen: set[int], caps_row: ChargerCapabilityRow | None
                  ) -> ChargerInfo:
    ac = (c.charger_type or "AC").upper() != "DC"
    evses = max(len(seen), caps_row.evses if caps_row else 1, 1)
    rating = c.max_power_w or default_rating_w(c.charger_type)
    wiring = c.phase_wiring or "L1L2L3"
    if ac and c.supply_phases == 1 and _phases(wiring) > 1:
        wiring = wiring[:2]  # a one-phase EVSE (as it reports) on the first wired phase
    return ChargerInfo(id=c.id, protocol=c.protocol, connected=c.connected, ac=ac,
                       phases=_phases(wiring) if ac else 0, evse_max_w=rating, evses=evses,
                       caps=_caps(caps_row, c.protocol, evses), wiring=wiring,
                       clock_offset_s=c.clock_offset_s or 0.0)


def session_start(s: SessionRow, offset_s: float) -> datetime:
    """When the session started, on our clock: its charger's timestamp less the charger's clock
    offset, at the latest when the start reached us."""
    if s.started_at is None:
        return s.started_received_at
    return min(s.started_received_at, s.started_at - timedelta(seconds=offset_s))


def _needs(s: SessionRow, needs: ChargingNeeds | None, history: list[SessionRow], params: dict,
           offset_s: float = 0.0, site_stay: StayForecast | None = None
           ) -> tuple[float, datetime, str, float | None, int | None]:
    """(requested Wh, departure, source, EV max W or None, AC phases the EV asked for or None),
    times on our clock (a departure the EV gives is on its charger's clock)."""
    started = session_start(s, offset_s)
    if needs is not None:
        ev_max_w = None
        ev_phases = needs.ac_phases
        if needs.ac_max_current_a:
            ev_max_w = needs.ac_max_current_a * VOLTAGE_V * (ev_phases or 3)
        elif needs.dc_max_power_w:
            ev_max_w = needs.dc_max_power_w
        if needs.energy_wh is not None and needs.departure is not None:
            return (needs.energy_wh, needs.departure - timedelta(seconds=offset_s), "ev",
                    ev_max_w, ev_phases)
    if history:
        wh = sum(p.energy_wh for p in history) / len(history)
        dwell = sum((p.stopped_at - p.started_at).total_seconds() for p in history) / len(history)
        return wh, started + timedelta(seconds=dwell), "history", None, None
    if site_stay is not None and site_stay.sessions:
        return (site_stay.energy_wh, started + timedelta(seconds=site_stay.dwell_s), "site",
                None, None)
    wh = float(params.get("default_energy_kwh", DEFAULT_ENERGY_KWH)) * 1000.0
    dwell = float(params.get("default_dwell_s", DEFAULT_DWELL_S))
    return wh, started + timedelta(seconds=dwell), "default", None, None


def vehicle_max(vehicle: VehicleRow, ac: bool) -> tuple[float | None, int | None]:
    """(EV max W or None, AC phases) from a registered vehicle, for a car that reports no
    charging needs. A DC maximum of 0 says the model has no DC inlet: on a DC charger the
    registry's vehicle is then not the car plugged in (a shared token), so it limits nothing."""
    if ac:
        return vehicle.ac_max_w, vehicle.ac_phases
    return (vehicle.dc_max_w if vehicle.dc_max_w > 0 else None), None


def battery_room_wh(vehicle: VehicleRow, soc_pct: float | None) -> float:
    """Grid-side energy the vehicle's battery can still take: the part above its latest SoC
    reading, else the whole usable battery."""
    empty = 1.0 if soc_pct is None else max(0.0, 100.0 - soc_pct) / 100.0
    return vehicle.battery_wh * empty / CHARGE_EFFICIENCY_LOW


def site_stays(history: list[tuple[str, float, float]], chargers: dict, params: dict
               ) -> dict[bool, StayForecast]:
    """AC (True) / DC (False) -> the stay and energy to plan for a car that does not say:
    the site's sessions on chargers of that kind when there are ``MIN_KIND_SESSIONS``, else
    all of them, shrunk toward the site defaults."""
    prior_wh = float(params.get("default_energy_kwh", DEFAULT_ENERGY_KWH)) * 1000.0
    prior_s = float(params.get("default_dwell_s", DEFAULT_DWELL_S))
    out = {}
    for ac in (True, False):
        mine = [(e, d) for c, e, d in history if c in chargers and chargers[c].ac == ac]
        use = mine if len(mine) >= MIN_KIND_SESSIONS else [(e, d) for _, e, d in history]
        out[ac] = forecast([e for e, _ in use], [d for _, d in use], prior_wh, prior_s)
    return out


def site_snapshot(session: Session, site_id: int, now: datetime) -> SiteSnapshot | None:
    site = session.get(SiteRow, site_id)
    if site is None:
        return None
    rows = session.exec(select(ChargerRow).where(ChargerRow.site_id == site_id)
                        .order_by(ChargerRow.id)).all()
    ids = [c.id for c in rows]
    evses = rd.evse_ids(session, ids)
    caps = rd.capabilities(session, ids)
    chargers = {c.id: _charger_info(c, evses.get(c.id, set()), caps.get(c.id)) for c in rows}
    active = session.exec(select(SessionRow).where(
        SessionRow.active == True, SessionRow.charger_id.in_(ids))  # noqa: E712
        .order_by(SessionRow.id)).all() if ids else []
    steered, busy, offline = [], set(), []
    for s in active:
        if (s.charger_id, s.evse_id) in busy:
            continue
        busy.add((s.charger_id, s.evse_id))
        if not chargers[s.charger_id].connected:
            offline.append(s)  # an offline charger's sessions are not ours to steer now
            continue
        steered.append(s)
    states = {(r.charger_id, r.evse_id): r for r in session.exec(select(SmartChargingStateRow)
              .where(SmartChargingStateRow.charger_id.in_(ids))).all()} if ids else {}
    held, unheld = [], set()
    for s in offline:
        row = states.get((s.charger_id, s.evse_id))
        if row is not None and row.session_id == s.id and row.accepted \
                and row.lease_until is not None and row.lease_until > now \
                and row.limit_w is not None:
            limit_w = max(0.0, row.limit_w) if row.obeying \
                else chargers[s.charger_id].evse_max_w
            held.append((s.charger_id, s.evse_id, limit_w))
        else:  # lease over (or none of ours): its fail-safe, as an idle EVSE's
            unheld.add((s.charger_id, s.evse_id))
    busy -= unheld
    since = now - timedelta(seconds=SAMPLE_LOOKBACK_S)
    sids = [s.id for s in steered]
    power = rd.latest_power(session, sids, since)
    drawn = rd.drawing_phases(session, [s.id for s in steered if chargers[s.charger_id].ac],
                              since)
    needs = rd.charging_needs(session, steered)
    # Cars that report no charging needs (1.6, 2.0.1 without ISO 15118): the registered
    # vehicle's battery and maximum power, when the session names one.
    vehicles = vehicles_for_sessions(session, [s for s in steered if s.id not in needs])
    soc = rd.latest_soc(session, list(vehicles))
    history = rd.token_history(session, {s.id_token for s in steered if s.id_token})
    stays = site_stays(rd.site_history(session, ids), chargers, site.policy_params) \
        if steered else {}
    sessions = []
    for s in steered:
        info = chargers[s.charger_id]
        watts, ts, received = power.get(s.id, (None, None, None))
        if ts is not None:
            # When it was measured, on our clock (at the latest when it reached us).
            ts = min(received, ts - timedelta(seconds=info.clock_offset_s))
        requested_wh, departure, source, ev_max_w, ev_phases = _needs(
            s, needs.get(s.id), history.get(s.id_token, []) if s.id_token else [],
            site.policy_params, info.clock_offset_s, stays.get(info.ac))
        vehicle = vehicles.get(s.id)
        if vehicle is not None:
            ev_max_w, ev_phases = vehicle_max(vehicle, info.ac)
            if soc.get(s.id) is None:
                # No more than one battery, before the rule below: a full battery without a
                # SoC reading is itself a guess, and a car still drawing past it is not full.
                requested_wh = min(requested_wh, battery_room_wh(vehicle, None))
        if source != "ev" and (s.energy_wh or 0.0) >= requested_wh:
            # A guess met is not a car served: it gets another guess' worth, and stops
            # drawing by itself when full (the loop then learns it takes nothing).
            requested_wh += s.energy_wh or 0.0
        if vehicle is not None and soc.get(s.id) is not None:
            # A measured SoC: the rest of the battery (from an older reading, more than is
            # left: never short).
            requested_wh = min(requested_wh, (s.energy_wh or 0.0)
                               + battery_room_wh(vehicle, soc[s.id]))
        state = states.get((s.charger_id, s.evse_id))
        failsafe = states.get((s.charger_id, 0))
        unsupported = failsafe is not None and failsafe.why == NO_SMART_CHARGING
        max_w = info.evse_max_w if ev_max_w is None else min(info.evse_max_w, ev_max_w)
        if state is not None and state.session_id == s.id:
            for cap_w in (state.ev_max_w, state.readback_cap_w):
                if cap_w is not None:
                    max_w = min(max_w, cap_w)
        phases = info.phases if not info.ac else min(info.phases,
                                                    drawn.get(s.id) or ev_phases or 3)
        if info.ac and 0 < phases < info.phases:
            # An AC rating is per phase times the charger's phases: a one-phase car on an
            # 11 kW three-phase EVSE gets at most 16 A on its one phase, 3.68 kW.
            max_w = min(max_w, info.evse_max_w * phases / info.phases)
        sessions.append(EvseSession(
            charger_id=s.charger_id, evse_id=s.evse_id, session_id=s.id,
            transaction_ref=s.transaction_ref, ac=info.ac, phases=phases, max_w=max_w,
            started_at=session_start(s, info.clock_offset_s), energy_wh=s.energy_wh or 0.0,
            requested_wh=requested_wh, departure=departure, needs_source=source,
            measured_w=watts, measured_at=ts,
            obeying=(state.obeying if state is not None else True) and not unsupported,
            limit_w=state.limit_w if state is not None and state.session_id == s.id else None,
            wiring=info.wiring, ev_state=s.charging_state,
            vehicle_id=vehicle.id if vehicle is not None else None))
    idle = tuple((c.id, e) for c in chargers.values() for e in range(1, c.evses + 1)
                 if (c.id, e) not in busy)
    return SiteSnapshot(
        site_id=site.id, name=site.name, now=now, capacity_kw=site.capacity_kw,
        policy=site.policy, policy_params=dict(site.policy_params),
        control_period_s=site.control_period_s, tariff=dict(site.tariff), pv_kwp=site.pv_kwp,
        latitude=site.latitude, longitude=site.longitude,
        base_load_profile=site.base_load_profile, base_load_peak_kw=site.base_load_peak_kw,
        chargers=tuple(chargers.values()), sessions=tuple(sessions), idle_evses=idle,
        held=tuple(held))
