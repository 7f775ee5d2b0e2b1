"""The overview's live numbers: fleet counts, power against the limit, SOC, utilisation and
alerts. One function, a handful of aggregate queries (see benchmarks). Today's energy, cost and
savings are the site's KPIs (``csms.sites.kpis``, the REST API's ``/sites/{id}/kpis``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from csms.control.verify import over_limit_w
from csms.domain.clock_offset import ALERT_S
from csms.handlers import plausibility
from csms.sites import live
from csms.sites.kpis import site_kpis
from csms.sites.limits_now import disobeying
from csms.store.tables import ChargerRow, ConnectorRow, SessionRow
from csms.web.console import security
from csms.web.console.site import current_site

MAX_ALERTS_PER_KIND = 5


@dataclass
class Alert:
    level: str  # "warning" | "danger"
    key: str  # i18n key
    args: tuple = ()


class Overview:
    """What the overview's live block shows: the site's state now (``csms.sites.live.site_now``,
    the same as ``GET /api/v1/sites/{id}/live``) and the alerts."""

    def __init__(self, state: live.SiteNow, alerts: list[Alert] | None = None) -> None:
        self.state = state
        self.alerts = alerts or []

    def __getattr__(self, name: str):
        return getattr(self.state, name)


def build(session: Session, now: datetime, silent: list[tuple[str, float]] = ()) -> Overview:
    """``silent``: (charger, wall seconds) of connected chargers that stopped talking (the
    gateway's ``silent``), alerted on."""
    site = current_site(session)
    readings = live.live_readings(session, now, measurands=live.NOW_MEASURANDS,
                                  site_id=site.id)
    ov = Overview(live.site_now(session, site, now, readings))
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
    """The site's alerts; charger alerts name the site's chargers only, as its counts do."""
    alerts: list[Alert] = []
    ids = live.site_chargers(ov.site_id)
    if ov.site_kw > ov.limit_kw:
        alerts.append(Alert("danger", "alert_site", (f"{ov.site_kw:.1f}", f"{ov.limit_kw:.0f}")))
    # The control loop's verdicts (csms.control.verify): it judges each reading against the
    # limit in force on that EVSE, after the charger had time to apply it and within its lease.
    # The console used to re-judge per charger from the outbox on our clock with its own
    # tolerance, which flagged honest chargers (a fail-safe 0 A beside a transaction's limit).
    over = []
    for cid, measured_w, limit_w in disobeying(session, ov.site_id, MAX_ALERTS_PER_KIND):
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
                              .where(ConnectorRow.status == "Faulted",
                                     ConnectorRow.charger_id.in_(ids))
                              .order_by(ConnectorRow.charger_id).limit(MAX_ALERTS_PER_KIND)).all()
    alerts += [Alert("danger", "alert_faulted", (c, n, e or "-")) for c, n, e in faulted]
    skewed = session.execute(select(ChargerRow.id, ChargerRow.clock_offset_s).where(
        sa.func.abs(ChargerRow.clock_offset_s) > ALERT_S, ChargerRow.id.in_(ids))
        .order_by(ChargerRow.id)
        .limit(MAX_ALERTS_PER_KIND)).all()
    alerts += [Alert("warning", "alert_clock", (cid, f"{offset_s:+.0f}"))
               for cid, offset_s in skewed]
    offline = session.execute(select(ChargerRow.id).where(ChargerRow.connected == False,  # noqa: E712
                                                          ChargerRow.id.in_(ids))
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
