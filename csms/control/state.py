"""Store operations of the control loop (each runs in the store worker: ``fn(session, ...)``)."""

from __future__ import annotations

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import select

from csms.ocpp.profiles import Capabilities
from csms.store.tables import (
    ChargerCapabilityRow,
    ChargerEventRow,
    ChargerRow,
    ConnectorRow,
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
    row.composite = True  # asked again after each boot: firmware may have changed


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


def flag_readback(session, charger_id: str, evse_id: int, limit_w: float, got_w: float | None,
                  offset_s: float | None, mismatches: int, now: datetime) -> None:
    """The charger's composite schedule is not the limit it accepted: its readings teach
    nothing until a read-back agrees, and operators see a record."""
    upsert_state(session, charger_id, evse_id, {
        "readback_ok": False, "readback_mismatches": mismatches, "readback_got_w": got_w},
        now)
    session.add(ChargerEventRow(charger_id=charger_id, kind="smart_charging", evse_id=evse_id,
                                payload={"kind": "readback_mismatch", "limit_w": limit_w,
                                         "composite_w": got_w, "clock_offset_s": offset_s,
                                         "attempt": mismatches},
                                received_at=now))


def composite_unsupported(session, charger_id: str) -> None:
    row = session.get(ChargerCapabilityRow, charger_id)
    if row is not None and row.composite:
        log.info("%s: GetCompositeSchedule not supported: limits judged on the clock alone",
                 charger_id)
        row.composite = False


def clock_sample(session, clocks, charger_id: str, charger_now: datetime,
                 received_at: datetime) -> None:
    """A charger's "now" (GetCompositeSchedule): it replaces what its timestamps suggested."""
    from csms.handlers.clocks import record

    clocks.reset(charger_id)
    record(session, clocks, charger_id, charger_now, received_at)


def record_load(session, row: SiteLoadRow) -> None:
    session.add(row)


def day_peak_kw(session, site_id: int, since: datetime) -> float:
    """The site's highest import the loop counted since ``since`` (its local midnight), from
    its records: after a restart the day's peak is not forgotten (peak shaving would otherwise
    plan below a peak the day already had). -inf: none recorded."""
    peak = session.exec(select(sa.func.max(
        SiteLoadRow.measured_ev_kw + SiteLoadRow.base_kw - SiteLoadRow.pv_kw)).where(
        SiteLoadRow.site_id == site_id, SiteLoadRow.timestamp >= since)).first()
    return float("-inf") if peak is None else float(peak)


def boot_facts(session, charger_id: str) -> tuple[list[int], bool]:
    """(EVSE ids the charger reported a status for, whether none of our profiles was ever
    installed on it)."""
    evse_ids = sorted(session.exec(select(ConnectorRow.evse_id).where(
        ConnectorRow.charger_id == charger_id, ConnectorRow.evse_id > 0).distinct()).all())
    failsafe = session.get(SmartChargingStateRow, (charger_id, 0))
    return evse_ids or [1], failsafe is None or failsafe.limit_value is None


def site_of(session, charger_id: str) -> int | None:
    row = session.get(ChargerRow, charger_id)
    return row.site_id if row is not None else None


def site_ids(session) -> list[int]:
    return list(session.exec(select(SiteRow.id).order_by(SiteRow.id)).all())


def session_active(session, session_id: int) -> bool:
    row = session.get(SessionRow, session_id)
    return row is not None and bool(row.active)
