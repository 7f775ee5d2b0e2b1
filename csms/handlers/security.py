"""Security records: charger-reported security events, certificates, password confirmation."""

from __future__ import annotations

import logging

from sqlmodel import Session, select

from csms.domain import events as ev
from csms.store.tables import ChargerCertificateRow, ChargerEventRow, ChargerRow

log = logging.getLogger(__name__)


def security_event_reported(session: Session, e: ev.SecurityEventReported, config) -> None:
    payload = {"type": e.event_type, "critical": e.critical,
               "timestamp": e.timestamp.isoformat() if e.timestamp else None}
    if e.tech_info is not None:
        payload["techInfo"] = e.tech_info
    if e.critical:
        log.warning("%s: ALERT: critical security event %s", e.charger_id, e.event_type)
    session.add(ChargerEventRow(charger_id=e.charger_id, kind="SecurityEventNotification",
                                payload=payload, received_at=e.received_at))


def certificate_presented(session: Session, e: ev.CertificatePresented, config) -> None:
    row = session.exec(select(ChargerCertificateRow).where(
        ChargerCertificateRow.charger_id == e.charger_id,
        ChargerCertificateRow.sha256_hex == e.sha256_hex)).first()
    if row is None:
        if session.get(ChargerRow, e.charger_id) is None:
            return
        row = ChargerCertificateRow(
            charger_id=e.charger_id, state="presented", subject=e.subject, issuer=e.issuer,
            serial_hex=e.serial_hex, sha256_hex=e.sha256_hex, not_before=e.not_before,
            not_after=e.not_after, created_at=e.received_at, updated_at=e.received_at)
        session.add(row)
    row.last_used_at = e.received_at


def certificate_issued(session: Session, e: ev.CertificateIssued, config) -> int:
    row = ChargerCertificateRow(
        charger_id=e.charger_id, certificate_type=e.certificate_type, state="signed",
        subject=e.subject, issuer=e.issuer, serial_hex=e.serial_hex, sha256_hex=e.sha256_hex,
        not_before=e.not_before, not_after=e.not_after, chain_pem=e.chain_pem,
        created_at=e.received_at, updated_at=e.received_at)
    session.add(row)
    session.flush()
    return row.id


def password_confirmed(session: Session, e: ev.PasswordConfirmed, config) -> bool:
    """The pending password becomes the only one (OCPP 2.0.1 A01, 1.6 security whitepaper
    section 4.1: the old password stays valid until the charger confirms the change)."""
    row = session.get(ChargerRow, e.charger_id)
    if row is None or row.password_pending_hash is None:
        return False
    row.password_hash, row.password_pending_hash = row.password_pending_hash, None
    row.password_pending_at = None
    if row.security_profile == 0:
        row.security_profile = 1
    log.info("%s: new Basic-auth password confirmed; the old one is no longer accepted",
             e.charger_id)
    return True
