"""The control loop's limits now, per EVSE of a site: the limit it sent to each session in
progress, the binding constraint, what the EVSE draws and whether the charger obeys.

The smart-charging page and ``GET /api/v1/sites/{id}/limits`` both show ``limits_now``. Only
sessions in progress are listed: the loop's row for an EVSE outlives its session until the
next car plugs in, but a TxProfile ends with its transaction (OCPP 1.6 3.13.2, 2.0.1 K01), so
an EVSE without a car has no limit "now" and the operator would read a stale one as in force.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlmodel import Session, select

from csms.domain.model import ProfilePurpose
from csms.sites.live import site_chargers
from csms.store.tables import SessionRow, SmartChargingStateRow


@dataclass(frozen=True, kw_only=True)
class EvseLimit:
    charger_id: str
    evse_id: int
    session_id: int
    limit_w: float | None  # as power, whatever unit went on the wire
    limit: float | None  # as sent, in ``unit``
    unit: str | None  # A (per phase) | W
    why: str | None  # the binding constraint (csms.charging.why)
    measured_w: float | None
    obeying: bool
    accepted: bool | None  # None: not answered yet
    readback_ok: bool | None  # the charger's composite schedule agrees (None: not read back)
    lease_until: datetime | None

    def as_json(self) -> dict:
        out = asdict(self)
        out["lease_until"] = self.lease_until.isoformat() if self.lease_until else None
        return out


def limits_now(session: Session, site_id: int | None, limit: int | None = None
               ) -> list[EvseLimit]:
    """The TxProfile limits of the sessions in progress on the site's chargers (every site's
    when ``site_id`` is None), by charger and EVSE; at most ``limit`` rows."""
    st, s = SmartChargingStateRow, SessionRow
    query = (select(st).join(s, s.id == st.session_id)
             .where(st.purpose == ProfilePurpose.TX, s.active == True,  # noqa: E712
                    s.charger_id == st.charger_id, st.charger_id.in_(site_chargers(site_id)))
             .order_by(st.charger_id, st.evse_id))
    if limit is not None:
        query = query.limit(limit)
    return [EvseLimit(charger_id=r.charger_id, evse_id=r.evse_id, session_id=r.session_id,
                      limit_w=r.limit_w, limit=r.limit_value, unit=r.limit_unit, why=r.why,
                      measured_w=r.measured_w, obeying=r.obeying, accepted=r.accepted,
                      readback_ok=r.readback_ok, lease_until=r.lease_until)
            for r in session.exec(query).all()]


def disobeying(session: Session, site_id: int | None, limit: int
               ) -> list[tuple[str, float | None, float | None]]:
    """(charger_id, measured_w, limit_w) of the site's EVSEs the control loop flagged as not
    obeying (``csms.control.verify``), by charger; at most ``limit``."""
    st = SmartChargingStateRow
    return [(r.charger_id, r.measured_w, r.limit_w) for r in session.exec(
        select(st).where(st.obeying == False,  # noqa: E712
                         st.charger_id.in_(site_chargers(site_id)))
        .order_by(st.charger_id).limit(limit)).all()]
