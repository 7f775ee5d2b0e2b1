"""What the console shows of charger security: certificates and their expiry, security events,
and the alerts they raise (critical SecurityEventNotifications, certificates about to expire,
chargers over their message quota)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from csms import clock
from csms.store.tables import ChargerCertificateRow, ChargerEventRow

EXPIRY_WARNING_DAYS = 30
ALERT_WINDOW_S = 24 * 3600
QUOTA_ALERT_WINDOW_S = 3600
MAX_ALERTS = 10
SECURITY_KINDS = ("security", "SecurityEventNotification")


@dataclass(frozen=True)
class CertificateView:
    row: ChargerCertificateRow
    days_left: float

    @property
    def expiring(self) -> bool:
        return self.days_left < EXPIRY_WARNING_DAYS


def certificates(session: Session, charger_id: str | None = None, limit: int = 500
                 ) -> list[CertificateView]:
    """Certificates, soonest to expire first; validity is judged on the real clock (the one a
    TLS peer uses), not the demo clock."""
    query = select(ChargerCertificateRow)
    if charger_id is not None:
        query = query.where(ChargerCertificateRow.charger_id == charger_id)
    rows = session.exec(query.order_by(ChargerCertificateRow.not_after).limit(limit)).all()
    wall = clock.wall_now()
    return [CertificateView(r, (r.not_after - wall).total_seconds() / 86400) for r in rows]


def events(session: Session, charger_id: str | None = None, limit: int = 100
           ) -> list[ChargerEventRow]:
    query = select(ChargerEventRow).where(ChargerEventRow.kind.in_(SECURITY_KINDS))
    if charger_id is not None:
        query = query.where(ChargerEventRow.charger_id == charger_id)
    return list(session.exec(query.order_by(ChargerEventRow.id.desc()).limit(limit)))


def alerts(session: Session, now: datetime) -> list[tuple[str, str, tuple]]:
    """(level, i18n key, args) of the security alerts of the overview."""
    out: list[tuple[str, str, tuple]] = []
    recent = session.exec(select(ChargerEventRow).where(
        ChargerEventRow.kind == "SecurityEventNotification",
        ChargerEventRow.received_at >= now - timedelta(seconds=ALERT_WINDOW_S))
        .order_by(ChargerEventRow.id.desc()).limit(200)).all()
    critical = [e for e in recent if e.payload.get("critical")][:MAX_ALERTS]
    out += [("danger", "alert_security_event", (e.charger_id, e.payload.get("type", "?")))
            for e in critical]
    # A charger over its message quota now (csms/ocpp/quota.py reports once a minute).
    flooding = session.exec(select(ChargerEventRow).where(
        ChargerEventRow.kind == "security",
        ChargerEventRow.received_at >= now - timedelta(seconds=QUOTA_ALERT_WINDOW_S))
        .order_by(ChargerEventRow.id.desc()).limit(200)).all()
    over_quota = sorted({e.charger_id for e in flooding
                         if e.payload.get("kind") == "quota_exceeded"})[:MAX_ALERTS]
    out += [("warning", "alert_quota", (cid,)) for cid in over_quota]
    newest: dict[str, CertificateView] = {}
    for view in certificates(session):
        if view.row.state in ("accepted", "presented"):
            current = newest.get(view.row.charger_id)
            if current is None or view.row.not_after > current.row.not_after:
                newest[view.row.charger_id] = view
    expiring = sorted((v for v in newest.values() if v.expiring), key=lambda v: v.days_left)
    out += [("warning", "alert_cert_expiry", (v.row.charger_id, f"{max(v.days_left, 0):.0f}"))
            for v in expiring[:MAX_ALERTS]]
    return out
