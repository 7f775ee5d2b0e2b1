"""Which registered vehicle a session is charging.

A session names whoever started it by one string, its id token. That is the driver's token
(an RFID card, an app) on 1.6 and on most 2.0.1 chargers; a 2.0.1 / 2.1 charger that knows the
car itself sends the car's identity in the same field: the EV's MAC address (EVCCID) as an
idToken of type ``MacAddress`` (Autocharge) or the ISO 15118 contract id as type ``eMAID``
(Plug & Charge). So a session is matched first to the vehicle linked to its id token, else to
the vehicle whose EV identity it is (compared in ``normalise_ev_id``'s spelling).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, or_, select

from csms.fleet.registry import normalise_ev_id
from csms.store.tables import SessionRow, VehicleRow


def vehicles_for_sessions(session: Session, rows: Iterable[SessionRow]
                          ) -> dict[int, VehicleRow]:
    """Session id -> the vehicle it charges, for those with one (one query for all)."""
    rows = [r for r in rows if r.id_token]
    if not rows:
        return {}
    tokens = {r.id_token for r in rows}
    ev_ids = {normalise_ev_id(t) for t in tokens} - {""}
    found = session.exec(select(VehicleRow).where(or_(
        VehicleRow.id_token.in_(tokens), VehicleRow.ev_id.in_(ev_ids)))).all()
    by_token = {v.id_token: v for v in found if v.id_token}
    by_ev_id = {v.ev_id: v for v in found if v.ev_id}
    out = {}
    for r in rows:
        vehicle = by_token.get(r.id_token) or by_ev_id.get(normalise_ev_id(r.id_token))
        if vehicle is not None:
            out[r.id] = vehicle
    return out


def vehicle_for_session(session: Session, row: SessionRow) -> VehicleRow | None:
    """The vehicle ``row`` is charging: by its id token, else by the EV identity; None when
    the session names no registered vehicle."""
    return vehicles_for_sessions(session, [row]).get(row.id)


def sessions_of_vehicles(session: Session, vehicles: Iterable[VehicleRow]
                         ) -> dict[int, SessionRow]:
    """Vehicle id -> its active session, for the vehicles charging now."""
    mine = {v.id for v in vehicles if v.id_token or v.ev_id}
    if not mine:
        return {}
    # All active sessions with a token: at most one per EVSE, and an EV identity can only be
    # compared after normalising the token, which SQL cannot do portably.
    active = session.exec(select(SessionRow).where(
        SessionRow.active == True, SessionRow.id_token != None)  # noqa: E711, E712
        .order_by(SessionRow.id)).all()
    by_session = vehicles_for_sessions(session, active)
    return {v.id: s for s in active if (v := by_session.get(s.id)) is not None and v.id in mine}
