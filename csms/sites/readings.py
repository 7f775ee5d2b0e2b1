"""What the store knows of a site's chargers and active sessions, read in a few batched queries.

The control loop reads a site every run (and again after it learned something): one query per
kind of fact for all sessions, not one per session (22 sessions cost ~160 queries and ~100 ms on
SQLite that way, at 240x that was minutes between runs of the loop).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from csms.domain.charging_needs import ChargingNeeds
from csms.domain.model import ENERGY_REGISTER as REGISTER
from csms.store.tables import (
    ChargerCapabilityRow,
    ChargerEventRow,
    ChargerRow,
    ConnectorRow,
    MeterSampleRow,
    SessionRow,
)

DRAWING_A = 0.5  # a phase carrying more than this is one the EV draws on
HISTORY_SESSIONS = 10  # an id token's past sessions that estimate its next one


def evse_ids(session: Session, charger_ids: list[str]) -> dict[str, set[int]]:
    """Charger -> the EVSE ids (> 0) it reported a status for."""
    out: dict[str, set[int]] = defaultdict(set)
    if not charger_ids:
        return out
    for charger_id, evse_id in session.exec(select(ConnectorRow.charger_id, ConnectorRow.evse_id)
                                            .where(ConnectorRow.charger_id.in_(charger_ids),
                                                   ConnectorRow.evse_id > 0).distinct()).all():
        out[charger_id].add(evse_id)
    return out


def capabilities(session: Session, charger_ids: list[str]) -> dict[str, ChargerCapabilityRow]:
    if not charger_ids:
        return {}
    return {r.charger_id: r for r in session.exec(select(ChargerCapabilityRow).where(
        ChargerCapabilityRow.charger_id.in_(charger_ids))).all()}


def latest_power(session: Session, session_ids: list[int], since: datetime
                 ) -> dict[int, tuple[float, datetime, datetime]]:
    """Session -> (W, charger timestamp, received at) of its latest whole-EVSE
    Power.Active.Import received since ``since`` (our clock)."""
    out: dict[int, tuple[float, datetime, datetime]] = {}
    if not session_ids:
        return out
    rows = session.exec(select(
        MeterSampleRow.session_id, MeterSampleRow.value,
        MeterSampleRow.timestamp, MeterSampleRow.received_at).where(
        MeterSampleRow.session_id.in_(session_ids), MeterSampleRow.received_at >= since,
        MeterSampleRow.measurand == "Power.Active.Import", MeterSampleRow.phase == None)  # noqa: E711
        .order_by(MeterSampleRow.timestamp)).all()
    for sid, value, ts, received in rows:  # ascending: the last one taken wins
        out[sid] = (value, ts, received)  # W: units are normalised at the OCPP edge
    return out


def latest_soc(session: Session, session_ids: list[int]) -> dict[int, float]:
    """Session id -> its latest SoC reading (%), in one query (the index on (session_id,
    timestamp) finds each latest)."""
    if not session_ids:
        return {}
    m, latest = MeterSampleRow, aliased(MeterSampleRow)
    newest = (select(sa.func.max(latest.timestamp)).where(
        latest.session_id == m.session_id, latest.measurand == "SoC").scalar_subquery())
    rows = session.exec(select(m.session_id, m.value).where(
        m.session_id.in_(session_ids), m.measurand == "SoC", m.timestamp == newest)).all()
    return {sid: value for sid, value in rows}


def drawing_phases(session: Session, session_ids: list[int], since: datetime
                   ) -> dict[int, int]:
    """Session -> phases the EV drew on the last time it drew at all (per-phase
    Current.Import above 0.5 A). Not only the latest sample: a one-phase car paused at 0 A is
    still a one-phase car. Recent samples in one query; older ones only for the sessions that
    did not draw recently."""
    out: dict[int, int] = {}
    if not session_ids:
        return out
    drawing = (MeterSampleRow.measurand == "Current.Import", MeterSampleRow.phase != None,  # noqa: E711
               MeterSampleRow.value > DRAWING_A)
    latest: dict[int, tuple[datetime, set[str]]] = {}
    for sid, ts, phase in session.exec(select(
            MeterSampleRow.session_id, MeterSampleRow.timestamp, MeterSampleRow.phase).where(
            MeterSampleRow.session_id.in_(session_ids), MeterSampleRow.received_at >= since,
            *drawing)).all():
        seen = latest.get(sid)
        if seen is None or ts > seen[0]:
            latest[sid] = (ts, {phase[:2]})
        elif ts == seen[0]:
            seen[1].add(phase[:2])
    for sid in session_ids:
        if sid not in latest:
            last = session.exec(select(MeterSampleRow.timestamp).where(
                MeterSampleRow.session_id == sid, *drawing)
                .order_by(MeterSampleRow.timestamp.desc()).limit(1)).first()
            if last is not None:
                phases = session.exec(select(MeterSampleRow.phase).where(
                    MeterSampleRow.session_id == sid, MeterSampleRow.timestamp == last,
                    *drawing)).all()
                latest[sid] = (last, {p[:2] for p in phases})
    return {sid: len(p) for sid, (_, p) in latest.items() if p}


NEEDS_KIND = "NotifyEVChargingNeeds"  # the charger_events rows holding ChargingNeeds.as_json()


def needs_of(row: ChargerEventRow) -> ChargingNeeds:
    """The typed fact a NotifyEVChargingNeeds row holds (rows stored before it was typed were
    converted by the migration 0012)."""
    return ChargingNeeds.from_json(row.payload)


def latest_charging_needs(session: Session, s: SessionRow) -> ChargingNeeds | None:
    """The latest charging needs the EV of session ``s`` reported on its EVSE since it started."""
    row = session.exec(select(ChargerEventRow).where(
        ChargerEventRow.charger_id == s.charger_id, ChargerEventRow.kind == NEEDS_KIND,
        ChargerEventRow.evse_id == s.evse_id,
        ChargerEventRow.received_at >= s.started_received_at)
        .order_by(ChargerEventRow.received_at.desc())).first()
    return None if row is None else needs_of(row)


def charging_needs(session: Session, active: list[SessionRow]
                   ) -> dict[int, ChargingNeeds]:
    """Session -> the charging needs of the latest NotifyEVChargingNeeds on its EVSE since it
    started (2.0.1 / 2.1)."""
    out: dict[int, ChargingNeeds] = {}
    if not active:
        return out
    since = min(s.started_received_at for s in active)
    by_evse = {(s.charger_id, s.evse_id): s for s in active}
    rows = session.exec(select(ChargerEventRow).where(
        ChargerEventRow.charger_id.in_(list({s.charger_id for s in active})),
        ChargerEventRow.kind == NEEDS_KIND, ChargerEventRow.received_at >= since)
        .order_by(ChargerEventRow.received_at)).all()
    for ev in rows:  # ascending: the latest wins
        s = by_evse.get((ev.charger_id, ev.evse_id))
        if s is not None and ev.received_at >= s.started_received_at:
            out[s.id] = needs_of(ev)
    return out


SITE_HISTORY_SESSIONS = 200


def token_history(session: Session, tokens: set[str]) -> dict[str, list[SessionRow]]:
    """Id token -> its last finished sessions with energy, stop and start (newest first)."""
    out: dict[str, list[SessionRow]] = defaultdict(list)
    if not tokens:
        return out
    rows = session.exec(select(SessionRow).where(
        SessionRow.id_token.in_(list(tokens)), SessionRow.active == False,  # noqa: E712
        SessionRow.energy_wh != None).order_by(SessionRow.id.desc())).all()  # noqa: E711
    for r in rows:
        if r.started_at and r.stopped_at and len(out[r.id_token]) < HISTORY_SESSIONS:
            out[r.id_token].append(r)
    return out


def site_history(session: Session, charger_ids: list[str], limit: int = SITE_HISTORY_SESSIONS
                 ) -> list[tuple[str, float, float]]:
    """(charger, energy Wh, stay s) of the last ``limit`` finished sessions on these chargers
    (stay on the charger's own clock: both ends come from it)."""
    if not charger_ids:
        return []
    rows = session.exec(select(SessionRow.charger_id, SessionRow.energy_wh,
                               SessionRow.started_at, SessionRow.stopped_at).where(
        SessionRow.charger_id.in_(charger_ids), SessionRow.active == False,  # noqa: E712
        SessionRow.energy_wh != None, SessionRow.started_at != None,  # noqa: E711
        SessionRow.stopped_at != None).order_by(SessionRow.id.desc()).limit(limit)).all()  # noqa: E711
    return [(c, float(e), (b - a).total_seconds()) for c, e, a, b in rows]


def phases_ever_drawn(session: Session, session_ids: list[int]) -> dict[int, int]:
    """Session id -> how many phases it ever drew on (per-phase Current.Import samples)."""
    if not session_ids:
        return {}
    rows = session.exec(select(MeterSampleRow.session_id, MeterSampleRow.phase).where(
        MeterSampleRow.session_id.in_(session_ids), MeterSampleRow.measurand == "Current.Import",
        MeterSampleRow.phase != None, MeterSampleRow.value > DRAWING_A)  # noqa: E711
        .distinct()).all()
    phases: dict[int, set[str]] = {}
    for sid, phase in rows:
        phases.setdefault(sid, set()).add(phase[:2])
    return {sid: len(p) for sid, p in phases.items()}


def energy_since(session: Session, cutoffs: dict[int, datetime],
                 meter_start_wh: dict[int, float | None]) -> dict[int, float]:
    """Session id -> Wh its register gained after ``cutoffs[id]`` (on the charger's clock): the
    highest plausible register after it less the highest up to it, or the session's meterStart
    when there is none (at most one reading interval too much). For the sessions that were
    charging across midnight; one query for all of them."""
    if not cutoffs:
        return {}
    m = MeterSampleRow
    wh = m.value  # Wh: units are normalised at the OCPP edge
    cutoff = sa.case(*((m.session_id == sid, at) for sid, at in cutoffs.items()))
    rows = session.exec(select(
        m.session_id, sa.func.max(sa.case((m.timestamp > cutoff, wh))),
        sa.func.max(sa.case((m.timestamp <= cutoff, wh)))).where(
        m.session_id.in_(list(cutoffs)), m.measurand == REGISTER, m.flag == None,  # noqa: E711
        sa.or_(m.phase == None, m.phase == "")).group_by(m.session_id)).all()  # noqa: E711
    out = dict.fromkeys(cutoffs, 0.0)
    for sid, after, before in rows:
        before = before if before is not None else meter_start_wh.get(sid)
        if after is not None and before is not None:
            out[sid] = max(0.0, after - before)
    return out


def soc_trend(session: Session, site_id: int, start: datetime, step_s: int, steps: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """((T,) mean SoC % the site's cars reported per step from ``start``, NaN where none did;
    (T,) how many sessions reported in the step). Measured: what the EVs sent, aggregated in
    SQL; nothing is estimated for cars that report no SoC (1.6 AC chargers rarely do). Steps
    of 15 min or more: the chargers' timestamps are used as sent (an offset of minutes moves a
    reading by less than a step)."""
    from csms.sites.load import step_bucket

    m = MeterSampleRow
    bucket = step_bucket(session, m.timestamp, start.timestamp(), step_s).label("bucket")
    rows = session.execute(
        select(bucket, sa.func.avg(m.value), sa.func.count(sa.distinct(m.session_id)))
        .join(ChargerRow, ChargerRow.id == m.charger_id)
        .where(ChargerRow.site_id == site_id, m.measurand == "SoC", m.flag.is_(None),
               m.session_id.is_not(None), m.timestamp >= start,
               m.timestamp < start + timedelta(seconds=step_s * steps))
        .group_by(bucket)).all()
    mean, cars = np.full(steps, np.nan), np.zeros(steps, int)
    for k, avg, n in rows:
        if k is not None and 0 <= int(k) < steps:
            mean[int(k)], cars[int(k)] = float(avg), int(n)
    return mean, cars
