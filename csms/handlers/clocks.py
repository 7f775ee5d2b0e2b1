"""Every timestamp a charger sends bounds its clock offset (``csms.domain.clock_offset``).

One sample per message: its latest charger timestamp (a meter value list's newest sample, a
transaction event's timestamp, a status's). Transaction messages the charger says it queued
offline (2.0.1 ``offline``) carry old times and are skipped; a 1.6 replay is just a smaller lower
bound, which the estimator ignores. The estimate is stored on the charger's row (for the API,
the console and the control loop) when it moves by a second or more.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from csms.domain import events as ev
from csms.store.tables import ChargerRow
from csms.store.worker import defer_update

_STORE = (sa.update(ChargerRow.__table__)
          .where(ChargerRow.__table__.c.id == sa.bindparam("charger_id"))
          .values(clock_offset_s=sa.bindparam("clock_offset_s"),
                  clock_checked_at=sa.bindparam("clock_checked_at")))


def charger_time(e: ev.Event):
    """The latest time the charger itself wrote into ``e``, or None."""
    if getattr(e, "offline", False):
        return None
    times = [s.timestamp for s in getattr(e, "samples", ())]
    if isinstance(e, ev.StatusReported | ev.SessionStarted | ev.SessionUpdated
                  | ev.SessionEnded) and e.timestamp is not None:
        times.append(e.timestamp)
    return max(times) if times else None


def observe(session: Session, e: ev.Event, config) -> None:
    clocks = config.clocks
    if isinstance(e, ev.ChargerBooted):
        clocks.reset(e.charger_id)
        return
    at = charger_time(e)
    if at is not None:
        record(session, clocks, e.charger_id, at, e.received_at)


def record(session: Session, clocks, charger_id: str, charger_at, received_at) -> None:
    """One sample (also the charger's "now" from a GetCompositeSchedule answer)."""
    offset_s = clocks.observe(charger_id, charger_at, received_at)
    if offset_s is not None:
        defer_update(session, _STORE, ("clock", charger_id), {
            "charger_id": charger_id, "clock_offset_s": round(offset_s, 3),
            "clock_checked_at": received_at})
