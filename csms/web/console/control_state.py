"""What the control loop (csms/control) says about each EVSE: the limit it sent, the binding
constraint, what the charger draws and whether it obeys. Read lazily: the console works (and
falls back to the outbox and the what-if run) on a store without that table."""

from __future__ import annotations

from sqlmodel import Session, select

from csms.domain.model import ProfilePurpose

MAX_ROWS = 200


def _table():
    try:
        from csms.store.tables import SmartChargingStateRow
    except ImportError:  # an older store without the control loop's table
        return None
    return SmartChargingStateRow


def limits(session: Session) -> list | None:
    """Rows (charger_id, evse_id, limit_w, why, measured_w, obeying, accepted), or None."""
    row = _table()
    if row is None:
        return None
    rows = session.exec(select(row).where(row.purpose == ProfilePurpose.TX).order_by(
        row.charger_id, row.evse_id).limit(MAX_ROWS)).all()
    return [(r.charger_id, r.evse_id, r.limit_w, r.why, r.measured_w, r.obeying, r.accepted)
            for r in rows]


def disobeying(session: Session, limit: int, chargers=None
               ) -> list[tuple[str, float | None, float | None]]:
    """(charger_id, measured_w, limit_w) of EVSEs the control loop flagged as not obeying;
    ``chargers``: a subquery of the charger ids to look at (all when None)."""
    row = _table()
    if row is None:
        return []
    query = select(row).where(row.obeying == False)  # noqa: E712
    if chargers is not None:
        query = query.where(row.charger_id.in_(chargers))
    return [(r.charger_id, r.measured_w, r.limit_w) for r in session.exec(
        query.order_by(row.charger_id).limit(limit)).all()]
