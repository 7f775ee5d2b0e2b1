"""Charger-level events: boot, heartbeat, status, authorization, records, connection state."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlmodel import Session, select

from csms.domain import events as ev
from csms.domain.model import Authorization, AuthorizationStatus
from csms.domain.results import BootResult
from csms.store.tables import ChargerEventRow, ChargerRow, ConnectorRow, IdTokenRow, SessionRow
from csms.store.worker import defer_update

log = logging.getLogger(__name__)


def _charger(session: Session, charger_id: str, received_at) -> ChargerRow:
    row = session.get(ChargerRow, charger_id)
    if row is None:  # connected in open mode before this transaction registered it
        row = ChargerRow(id=charger_id, registered_at=received_at, auto_registered=True)
        session.add(row)
    return row


def charger_booted(session: Session, e: ev.ChargerBooted, config) -> BootResult:
    row = _charger(session, e.charger_id, e.received_at)
    row.vendor, row.model = e.vendor, e.model
    row.serial_number, row.firmware_version = e.serial_number, e.firmware_version
    row.boot_reason = e.reason
    row.last_boot_at = row.last_seen = e.received_at
    return BootResult(accepted=True, interval_s=config.heartbeat_interval_s)


_TOUCH = (sa.update(ChargerRow.__table__)
          .where(ChargerRow.__table__.c.id == sa.bindparam("charger_id"))
          .values(last_seen=sa.bindparam("last_seen")))


def heartbeat_received(session: Session, e: ev.HeartbeatReceived, config) -> None:
    # The most frequent message: one batched UPDATE per charger per commit, no ORM load.
    defer_update(session, _TOUCH, e.charger_id,
                 {"charger_id": e.charger_id, "last_seen": e.received_at})


def status_reported(session: Session, e: ev.StatusReported, config) -> None:
    key = (e.charger_id, e.evse_id, e.connector_id)
    row = session.get(ConnectorRow, key)
    status_at = e.timestamp or e.received_at
    if row is None:
        _charger(session, e.charger_id, e.received_at)
        session.add(ConnectorRow(charger_id=e.charger_id, evse_id=e.evse_id,
                                 connector_id=e.connector_id, status=e.status,
                                 error_code=e.error_code, status_at=status_at,
                                 received_at=e.received_at))
    elif status_at >= row.status_at:  # a replayed (older) status must not overwrite a newer one
        row.status, row.error_code = e.status, e.error_code
        row.status_at, row.received_at = status_at, e.received_at
    else:
        return
    if e.status == "Available":
        # 1.6: a connector with a transaction is never Available (section 4.9 statuses), so
        # an Available one ends what the charger left open (a reboot, a lost Stop). Not 2.0.1:
        # there a transaction may start before the cable is in (TxStartPoint Authorized).
        from csms.domain.model import Protocol
        from csms.handlers.sessions import reconcile_evse

        reconcile_evse(session, e.charger_id, e.evse_id, status_at, "available", Protocol.V16)
    if e.status in ev.CHARGING_STATES:  # kept on the session, as 2.0.1 chargingState
        active = session.exec(select(SessionRow).where(
            SessionRow.charger_id == e.charger_id, SessionRow.evse_id == e.evse_id,
            SessionRow.active == True)).first()  # noqa: E712
        if active is not None:
            active.charging_state = e.status


def authorize(session: Session, id_token: str | None, now, config) -> Authorization:
    """Authorization of an id token by our list (any token in open mode)."""
    if id_token is None:
        return Authorization(AuthorizationStatus.ACCEPTED)
    row = session.get(IdTokenRow, id_token)
    if row is None:
        status = AuthorizationStatus.ACCEPTED if config.open_mode else AuthorizationStatus.INVALID
        return Authorization(status)
    status = AuthorizationStatus(row.status)
    if status is AuthorizationStatus.ACCEPTED and row.expiry is not None and row.expiry <= now:
        status = AuthorizationStatus.EXPIRED
    return Authorization(status, row.expiry, row.parent_id_token)


def token_presented(session: Session, e: ev.TokenPresented, config) -> Authorization:
    return authorize(session, e.id_token, e.received_at, config)


def charger_notified(session: Session, e: ev.ChargerNotified, config) -> None:
    session.add(ChargerEventRow(charger_id=e.charger_id, kind=e.action, evse_id=e.evse_id,
                                payload=e.payload, received_at=e.received_at))


def charging_needs_reported(session: Session, e: ev.ChargingNeedsReported, config) -> None:
    session.add(ChargerEventRow(charger_id=e.charger_id, kind="NotifyEVChargingNeeds",
                                evse_id=e.evse_id, payload=e.needs.as_json(),
                                received_at=e.received_at))


def security_incident(session: Session, e: ev.SecurityIncident, config) -> None:
    log.warning("%s: security: %s: %s", e.charger_id, e.kind, e.detail)
    session.add(ChargerEventRow(charger_id=e.charger_id, kind="security",
                                payload={"kind": e.kind, "detail": e.detail},
                                received_at=e.received_at))


def connection_changed(session: Session, e: ev.ConnectionChanged, config) -> None:
    if not e.connected and session.get(ChargerRow, e.charger_id) is None:
        return  # removed from the registry while connected: do not bring it back
    row = _charger(session, e.charger_id, e.received_at)
    row.connected = e.connected
    row.last_seen = e.received_at
    if e.protocol:
        row.protocol = e.protocol
    if e.remote:
        row.remote_address = e.remote
