"""Store operations of the control loop (each runs in the store worker: ``fn(session, ...)``)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import select

from csms.ocpp.profiles import Capabilities
from csms.store.tables import (
    ChargerCapabilityRow,
    ChargerEventRow,
    ChargerRow,
    SessionRow,
    SiteLoadRow,
    SiteRow,
    SmartChargingStateRow,
)

log = logging.getLogger(__name__)


def save_capabilities(session, charger_id: str, caps: Capabilities, now: datetime) -> None:
    row = session.get(ChargerCapabilityRow, charger_id)
    if row is None:
        row = ChargerCapabilityRow(charger_id=charger_id, protocol=caps.protocol, probed_at=now)
        session.add(row)
    row.protocol, row.rate_units = caps.protocol, ",".join(caps.rate_units)
    row.max_stack_level, row.max_periods = caps.max_stack_level, caps.max_periods
    row.max_profiles, row.evses = caps.max_profiles, caps.evses
    row.probed, row.probed_at = caps.probed, now


def get_state(session, charger_id: str, evse_id: int) -> SmartChargingStateRow | None:
    return session.get(SmartChargingStateRow, (charger_id, evse_id))


def states(session, charger_ids: list[str]) -> dict[tuple[str, int], SmartChargingStateRow]:
    if not charger_ids:
        return {}
    rows = session.exec(select(SmartChargingStateRow).where(
        SmartChargingStateRow.charger_id.in_(charger_ids))).all()
    return {(r.charger_id, r.evse_id): r for r in rows}


def upsert_state(session, charger_id: str, evse_id: int, fields: dict, now: datetime
                 ) -> SmartChargingStateRow:
    row = session.get(SmartChargingStateRow, (charger_id, evse_id))
    if row is None:
        row = SmartChargingStateRow(charger_id=charger_id, evse_id=evse_id, updated_at=now)
        session.add(row)
    for key, value in fields.items():
        setattr(row, key, value)
    row.updated_at = now
    return row


def flag_disobedience(session, charger_id: str, evse_id: int, limit_w: float,
                      measured_w: float, now: datetime) -> None:
    """A charger accepted a limit and draws more: flag it and keep a record operators see."""
    session.add(ChargerEventRow(charger_id=charger_id, kind="smart_charging", evse_id=evse_id,
                                payload={"kind": "limit_ignored", "limit_w": limit_w,
                                         "measured_w": measured_w},
                                received_at=now))


def record_load(session, row: SiteLoadRow) -> None:
    session.add(row)


def site_of(session, charger_id: str) -> int | None:
    row = session.get(ChargerRow, charger_id)
    return row.site_id if row is not None else None


def site_ids(session) -> list[int]:
    return list(session.exec(select(SiteRow.id).order_by(SiteRow.id)).all())


def session_active(session, session_id: int) -> bool:
    row = session.get(SessionRow, session_id)
    return row is not None and bool(row.active)
