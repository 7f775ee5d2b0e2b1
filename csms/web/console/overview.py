"""The overview's live numbers: fleet counts, power against the limit, SOC, utilisation and
alerts. One function, a handful of aggregate queries (see benchmarks). Today's energy, cost and
savings are the site's KPIs (``csms.sites.kpis``, the REST API's ``/sites/{id}/kpis``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session, select

from csms.control.verify import over_limit_w
from csms.domain.clock_offset import ALERT_S
from csms.grid.model import grid_kpis
from csms.handlers import plausibility
from csms.sites.kpis import site_kpis
from csms.store.tables import ChargerRow, ConnectorRow, SessionRow
from csms.web.console import control_state, fleet, security
from csms.web.console.site import (
    PERIOD_S,
    connection_of,
    current_site,
    day_bounds,
    day_series,
)

MAX_ALERTS_PER_KIND = 5
OVERVIEW_MEASURANDS = ("Power.Active.Import", "SoC")


@dataclass
class Alert:
    level: str  # "warning" | "danger"
    key: str  # i18n key
    args: tuple = ()


@dataclass
class Overview:
    site_name: str
    counts: fleet.Counts
    ev_kw: float
    site_kw: float
    base_kw: float
    pv_kw: float
    limit_kw: float
    soc_bands: dict
    avg_soc_pct: float | None
    utilisation: dict
    grid_now: dict  # kpi -> (value, limit, ok)
    alerts: list[Alert] = field(default_factory=list)
    soc_reported: int = 0  # charging cars that report their SOC

    @property
    def load_pct(self) -> float:
        return 100.0 * self.site_kw / self.limit_kw if self.limit_kw > 0 else 0.0


def _grid_now(site, base_kw: float, ev_kw: float, pv_kw: float) -> dict:
    k = grid_kpis(connection_of(site), np.array([base_kw]), np.full((1, 3), ev_kw / 3.0),
                  np.array([pv_kw]))
    th = k.thresholds
    voltage = float(k.voltage_deviation_pct[0])
    return {
        "voltage": (voltage, th.voltage_deviation_max_pct, abs(voltage) <= th.voltage_deviation_max_pct),
        "thd": (float(k.voltage_thd_pct[0]), k.voltage_thd_limit_pct,
                float(k.voltage_thd_pct[0]) <= k.voltage_thd_limit_pct),
        "pf": (float(k.power_factor[0]), th.power_factor_min,
               float(k.power_factor[0]) >= th.power_factor_min),
        "unbalance": (float(k.voltage_unbalance_pct[0]), th.voltage_unbalance_max_pct,
                      float(k.voltage_unbalance_pct[0]) <= th.voltage_unbalance_max_pct),
        "transformer": (float(k.transformer_loading_pct[0]), th.transformer_loading_max_pct,
                        float(k.transformer_loading_pct[0]) <= th.transformer_loading_max_pct),
    }


def build(session: Session, now: datetime, silent: list[tuple[str, float]] = ()) -> Overview:
    """``silent``: (charger, wall seconds) of connected chargers that stopped talking (the
    gateway's ``silent``), alerted on."""
    site = current_site(session)
    counts = fleet.counts(session)
    readings = fleet.live_readings(session, now, measurands=OVERVIEW_MEASURANDS)
    ev_kw = sum(r.power_w or 0.0 for r in readings.values()) / 1000.0
    day_start, _, periods = day_bounds(site, now)
    base, pv = day_series(site, day_start, periods)
    k = min(int((now - day_start).total_seconds() // PERIOD_S), periods - 1)
    site_kw = float(base[k] + ev_kw - pv[k])
    socs = [r.soc_pct for r in readings.values() if r.soc_pct is not None]
    grid_now = _grid_now(site, float(base[k]), ev_kw, float(pv[k]))
    ov = Overview(site.name, counts, ev_kw, site_kw, float(base[k]), float(pv[k]),
                  float(site.capacity_kw), fleet.soc_bands(socs),
                  float(np.mean(socs)) if socs else None, fleet.utilisation(session), grid_now)
    ov.soc_reported = len(socs)
    ov.alerts = _alerts(session, ov, readings, now)
    ov.alerts += [Alert("warning", "alert_silent", (cid, f"{seconds / 60:.0f}"))
                  for cid, seconds in silent[:MAX_ALERTS_PER_KIND]]
    return ov


def today(session: Session, now: datetime) -> dict | None:
    """The shown site's KPIs today, exactly as ``GET /api/v1/sites/{id}/kpis`` returns them;
    None before any site exists."""
    site = current_site(session)
    return site_kpis(session, site.id, now) if site.id is not None else None


def _alerts(session: Session, ov: Overview, readings: dict, now: datetime) -> list[Alert]:
    alerts: list[Alert] = []
    if ov.site_kw > ov.limit_kw:
        alerts.append(Alert("danger", "alert_site", (f"{ov.site_kw:.1f}", f"{ov.limit_kw:.0f}")))
    # The control loop's verdicts (csms.control.verify): it judges each reading against the
    # limit in force on that EVSE, after the charger had time to apply it and within its lease.
    # The console used to re-judge per charger from the outbox on our clock with its own
    # tolerance, which flagged honest chargers (a fail-safe 0 A beside a transaction's limit).
    over = []
    for cid, measured_w, limit_w in control_state.disobeying(session, MAX_ALERTS_PER_KIND):
        if measured_w is not None and limit_w is not None and over_limit_w(limit_w, measured_w):
            over.append(Alert("danger", "alert_limit", (cid, f"{(measured_w - limit_w) / 1000:.1f}",
                                                       f"{limit_w / 1000:.1f}")))
        else:  # caught earlier, within its limit now: its draw stays reserved until it obeys
            over.append(Alert("warning", "alert_not_obeying", (cid,)))
    alerts += sorted(over, key=lambda a: a.args[0])[:MAX_ALERTS_PER_KIND]
    for name, (value, limit, ok) in ov.grid_now.items():
        if not ok:
            alerts.append(Alert("warning", "alert_kpi", (name, f"{value:.2f}", f"{limit:g}")))
    faulted = session.execute(select(ConnectorRow.charger_id, ConnectorRow.connector_id,
                                     ConnectorRow.error_code)
                              .where(ConnectorRow.status == "Faulted")
                              .order_by(ConnectorRow.charger_id).limit(MAX_ALERTS_PER_KIND)).all()
    alerts += [Alert("danger", "alert_faulted", (c, n, e or "-")) for c, n, e in faulted]
    skewed = session.execute(select(ChargerRow.id, ChargerRow.clock_offset_s).where(
        sa.func.abs(ChargerRow.clock_offset_s) > ALERT_S).order_by(ChargerRow.id)
        .limit(MAX_ALERTS_PER_KIND)).all()
    alerts += [Alert("warning", "alert_clock", (cid, f"{offset_s:+.0f}"))
               for cid, offset_s in skewed]
    offline = session.execute(select(ChargerRow.id).where(ChargerRow.connected == False)  # noqa: E712
                              .order_by(ChargerRow.id).limit(MAX_ALERTS_PER_KIND)).scalars().all()
    alerts += [Alert("warning", "alert_offline", (cid,)) for cid in offline]
    more = ov.counts.chargers - ov.counts.connected - len(offline)
    if more > 0:
        alerts.append(Alert("warning", "alert_offline_more", (more,)))
    alerts += [Alert(*a) for a in security.alerts(session, now)]
    alerts += [Alert("warning", "alert_meter_data", (cid, sid, ", ".join(flags)))
               for cid, sid, flags in implausible_sessions(session, now, MAX_ALERTS_PER_KIND)]
    return alerts


def implausible_sessions(session: Session, now: datetime, limit: int
                         ) -> list[tuple[str, int, list[str]]]:
    """(charger, session id, flags) of the sessions of the last day whose meter data is not
    plausible (csms/handlers/plausibility.py): kept as sent, not believed, worth a look."""
    rows = session.execute(select(SessionRow.charger_id, SessionRow.id, SessionRow.meter_flags,
                                  SessionRow.register_non_monotonic)
                           .where(SessionRow.started_received_at >= now - timedelta(days=1),
                                  sa.or_(SessionRow.meter_flags.is_not(None),
                                         SessionRow.register_non_monotonic == True))  # noqa: E712
                           .order_by(SessionRow.id.desc()).limit(200)).all()
    found = []
    for charger_id, session_id, flags, non_monotonic in rows:
        bad = [f for f in flags or () if f in plausibility.ALERT_FLAGS]
        if non_monotonic:
            bad.append("non_monotonic")
        if bad:
            found.append((charger_id, session_id, bad))
    return found[:limit]
