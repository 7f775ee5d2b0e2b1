"""A site's KPIs today: grid KPIs of the energy model over the measured load, the cost so far
and projected to midnight, and the savings against an uncontrolled replay of today's sessions
(each car at its EVSE's maximum, on the phases the car drew on, from arrival until it got the
energy it actually got)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from csms.charging import Problem
from csms.charging.policies import uncontrolled_power
from csms.domain.charger_facts import default_rating_w
from csms.economics import savings_vs_baseline
from csms.grid.kpis import violation_shares
from csms.grid.model import grid_kpis
from csms.sites import efficiency as eff
from csms.sites.load import site_load
from csms.sites.models import connection_of, tariff_of
from csms.sites.phases import wiring_order
from csms.sites.readings import energy_since, phases_ever_drawn, soc_trend
from csms.store.tables import (
    ChargerRow,
    SessionRow,
    SiteRow,
    SmartChargingStateRow,
)
from csms.tariff import day_cost
from csms.tariff.daily import local_day_bounds

log = logging.getLogger(__name__)

STEP_S = 900
CARRY_OVER_DAYS = 7  # a session older than this is not "charging across midnight"
MIN_COMPARABLE_KWH = 0.05
BASELINE = ("uncontrolled: each of today's sessions at its EVSE's rating from its arrival (from "
            "midnight for a session charging across it) until it had the energy it got today")


def uncontrolled_replay_kw(sessions: list[tuple[float, float, float, float]], start_s: float,
                           step_s: int, steps: int) -> np.ndarray:
    """(T,) EV kW if every session ((arrival s, departure s, energy kWh, max kW), epoch
    seconds) had charged at its maximum from arrival; a step counts a session from the step it
    arrived in (uncontrolled chargers start at once)."""
    if not sessions or steps <= 0:
        return np.zeros(max(steps, 0))
    arr = np.array(sessions, float)
    first = np.floor((arr[:, 0] - start_s) / step_s)
    last = np.ceil((arr[:, 1] - start_s) / step_s)
    k = np.arange(steps)
    available = (k[None, :] >= first[:, None]) & (k[None, :] < last[:, None])
    problem = Problem(period_s=float(step_s), available=available,
                      energy_kwh=np.maximum(arr[:, 2], 0.0), max_kw=np.maximum(arr[:, 3], 0.0),
                      capacity_kw=np.full(steps, np.inf))
    return uncontrolled_power(problem).sum(axis=0)


def site_kpis(session: Session, site_id: int, now: datetime) -> dict | None:
    site = session.get(SiteRow, site_id)
    if site is None:
        return None
    tariff = tariff_of(site)
    day_start, day_end = local_day_bounds(tariff, now)
    steps = max(1, int((now - day_start).total_seconds() // STEP_S) + 1)
    series = site_load(session, site_id, day_start, day_start + timedelta(seconds=steps * STEP_S),
                       STEP_S)
    g = grid_kpis(connection_of(site), series.base_kw, series.ev_kw_per_phase, series.pv_kw)
    cost = day_cost(tariff, now, day_start, STEP_S, series.import_kw)
    # The current step only up to now, so the bands add up to the cost so far.
    elapsed = np.clip((now.timestamp() - np.array([t.timestamp() for t in series.timestamps]))
                      / STEP_S, 0.0, 1.0)
    by_band = tariff.cost_by_band(day_start, STEP_S, series.import_kw * elapsed)
    ev_today_kwh = float(np.sum(series.ev_kw * elapsed)) * STEP_S / 3600.0
    chargers = {c.id: c for c in session.exec(select(ChargerRow).where(
        ChargerRow.site_id == site_id)).all()}
    # Today's sessions, and those still charging across midnight: the measured load has their
    # energy since midnight, so the baseline must too (leaving them out gave -821 % "savings"
    # after midnight).
    today = session.exec(select(SessionRow).where(
        SessionRow.charger_id.in_(list(chargers)), SessionRow.started_at < now,
        SessionRow.started_at >= day_start - timedelta(days=CARRY_OVER_DAYS),
        sa.or_(SessionRow.started_at >= day_start, SessionRow.stopped_at == None,  # noqa: E711
               SessionRow.stopped_at >= day_start))).all() if chargers else []
    carried = {s.id: day_start + timedelta(seconds=chargers[s.charger_id].clock_offset_s or 0.0)
               for s in today if s.started_at < day_start}
    since_midnight_wh = energy_since(session, carried,
                                     {s.id: s.meter_start_wh for s in today if s.id in carried})
    drawn = phases_ever_drawn(session, [s.id for s in today])
    replay = []
    for s in today:
        c = chargers[s.charger_id]
        rating_w = c.max_power_w or default_rating_w(c.charger_type)
        wired = len(wiring_order(c.phase_wiring)) or 3
        if (c.charger_type or "AC") == "AC" and drawn.get(s.id):
            # A one-phase car on a three-phase EVSE could never take more than a third of it.
            rating_w *= min(drawn[s.id], wired) / wired
        stop = s.stopped_at or now
        if s.id in carried:  # uncontrolled, it would have been plugged in at midnight too
            arrival, energy_wh = day_start, since_midnight_wh[s.id]
        else:
            arrival, energy_wh = s.started_at, s.energy_wh or 0.0
        replay.append((arrival.timestamp(), stop.timestamp(), energy_wh / 1000,
                       rating_w / 1000.0))
    baseline_ev = uncontrolled_replay_kw(replay, day_start.timestamp(), STEP_S, steps)
    baseline_import = series.base_kw + baseline_ev - series.pv_kw
    sav = savings_vs_baseline(tariff, day_start, STEP_S, baseline_import, series.import_kw,
                              energy_tolerance_pct=100.0)
    # No EV energy in the replay (no charging today yet): nothing to compare, not "0 %" and
    # never a negative figure from a window without demand.
    comparable = float(baseline_ev.sum()) * STEP_S / 3600.0 >= MIN_COMPARABLE_KWH
    soc_pct, soc_cars = soc_trend(session, site_id, day_start, STEP_S, steps)
    efficiency = eff.summary(*eff.session_efficiencies(session, site_id, day_start, now))
    states = session.exec(select(SmartChargingStateRow).where(
        SmartChargingStateRow.charger_id.in_(list(chargers)))).all() if chargers else []
    return {
        "site_id": site_id, "now": now.isoformat(), "day_start": day_start.isoformat(),
        "day_end": day_end.isoformat(), "policy": site.policy, "capacity_kw": site.capacity_kw,
        "grid": {
            "peak_import_kw": float(np.max(series.import_kw)),
            "max_transformer_loading_pct": float(np.nanmax(g.transformer_loading_pct)),
            "min_voltage_pu": float(np.nanmin(g.voltage_pu)),
            "max_voltage_unbalance_pct": float(np.nanmax(g.voltage_unbalance_pct)),
            "min_power_factor": float(np.nanmin(g.power_factor)),
            "max_voltage_thd_pct": float(np.nanmax(g.voltage_thd_pct)),
            "violation_shares": violation_shares(g),
            "limit_exceeded_steps": int(np.sum(series.import_kw > series.limit_kw + 1e-6)),
        },
        # Energy and cost are the site's grid import (base load + EV - PV, what the utility
        # bills); ``ev`` is what the chargers delivered, from their registers.
        "ev": {"today_kwh": ev_today_kwh,
               # Measured: the mean SoC the cars reported per 15 min (null: none reported).
               "soc_trend": {"step_s": STEP_S,
                             "mean_pct": [None if np.isnan(v) else round(float(v), 1)
                                          for v in soc_pct],
                             "reporting_sessions": [int(n) for n in soc_cars]},
               # Estimated from measured data where it exists (csms.sites.efficiency).
               "efficiency": efficiency},
        "cost": {"today_mad": cost.so_far_mad, "projected_mad": cost.projected_mad,
                 "today_kwh": cost.so_far_kwh, "projected_kwh": cost.projected_kwh,
                 "by_band": by_band},
        "savings": {"today_mad": sav.savings_mad if comparable else None,
                    "today_pct": sav.savings_pct if comparable else None,
                    "baseline": BASELINE,
                    "baseline_mad": sav.baseline.total_mad, "actual_mad": sav.policy.total_mad,
                    "peak_reduction_kw": sav.peak_reduction_kw,
                    "sessions_replayed": len(replay)},
        "chargers": [{
            "charger_id": r.charger_id, "evse_id": r.evse_id, "purpose": r.purpose,
            "limit_w": r.limit_w, "limit": r.limit_value, "unit": r.limit_unit,
            "number_phases": r.number_phases, "why": r.why, "obeying": r.obeying,
            "measured_w": r.measured_w, "accepted": r.accepted, "readback_ok": r.readback_ok,
            "lease_until": r.lease_until.isoformat() if r.lease_until else None,
            "flagged_at": r.flagged_at.isoformat() if r.flagged_at else None}
            for r in sorted(states, key=lambda r: (r.charger_id, r.evse_id))],
    }



def month_cost_by_band(session: Session, site: SiteRow, now: datetime, today_by_band: dict
                       ) -> dict:
    """The site's grid import by tariff band this local month: the past days from the session
    rows (each session's energy spread over its duration, ``csms.sites.history``) plus the
    site's base load less PV, and today as ``site_kpis`` counts it (``today_by_band``), so the
    month is never below today."""
    from csms.sites.history import days_kw
    from csms.sites.models import base_and_pv_kw

    tariff = tariff_of(site)
    day_start, _ = local_day_bounds(tariff, now)
    past_days = now.astimezone(tariff.tz).day - 1
    month_start = day_start - timedelta(days=past_days)
    past_ev_kw = days_kw(session, month_start, past_days, now, site.id)
    base, pv = base_and_pv_kw(site, month_start, STEP_S, len(past_ev_kw))
    past = tariff.cost_by_band(month_start, STEP_S, base + past_ev_kw - pv)
    return {band: {key: past[band][key] + today_by_band.get(band, {}).get(key, 0.0)
                   for key in ("energy_kwh", "cost_mad")} for band in past}
