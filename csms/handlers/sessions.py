"""Transactions and meter values: never lose, never double-count.

- 1.6 StartTransaction is de-duplicated on its business key (charger, connector, idTag, start
  time, meterStart): a replay returns the transactionId already given.
- 2.0.1 TransactionEvent is de-duplicated on (transactionId, seqNo).
- A transaction named by a charger that does not own it changes nothing and is recorded as a
  security incident (the adapter still answers as the spec allows).
- Energy = stop register - start register; a register that goes backwards is flagged and its
  energy left unknown rather than silently used.
"""

from __future__ import annotations

import uuid

from sqlmodel import Session, func, select

from csms.domain import events as ev
from csms.domain.model import MeterSample, Protocol
from csms.domain.results import SessionResult
from csms.handlers import plausibility
from csms.handlers.chargers import authorize, security_incident
from csms.store.tables import MeterSampleRow, SessionRow, TransactionEventRow
from csms.store.worker import defer_insert

SAMPLES = MeterSampleRow.__table__


def session_started(session: Session, e: ev.SessionStarted, config) -> SessionResult:
    auth = authorize(session, e.id_token, e.received_at, config) if e.id_token else None
    if e.transaction_ref is None:
        return _start_v16(session, e, auth)
    row = _find(session, e.charger_id, e.transaction_ref)
    if row is None:
        reconcile_evse(session, e.charger_id, e.evse_id or 0, e.timestamp, "new_transaction")
        row = _new_session(session, e, Protocol.V201, e.transaction_ref)
    if not _take_event(session, row, e.seq_no, "Started", e.trigger, e.timestamp,
                       e.received_at):
        return SessionResult(row.id, auth, duplicate=True)
    if row.started_at is None or e.timestamp < row.started_at:
        row.started_at = e.timestamp
        if e.meter_start_wh is not None:
            # The Started's register is the start, even when an Updated arrived before it.
            row.meter_start_wh = e.meter_start_wh
    if e.id_token and not row.id_token:
        row.id_token = e.id_token
    _add_samples(session, row, e.charger_id, e.evse_id, e.connector_id, e.samples,
                 e.received_at)
    return SessionResult(row.id, auth)


def _start_v16(session: Session, e: ev.SessionStarted, auth) -> SessionResult:
    existing = session.exec(select(SessionRow).where(
        SessionRow.charger_id == e.charger_id, SessionRow.protocol == Protocol.V16.value,
        SessionRow.connector_id == e.connector_id, SessionRow.id_token == e.id_token,
        SessionRow.started_at == e.timestamp,
        SessionRow.meter_start_wh == e.meter_start_wh)).first()
    if existing is not None:
        return SessionResult(existing.id, auth, duplicate=True)
    reconcile_evse(session, e.charger_id, e.evse_id or 0, e.timestamp, "new_transaction")
    row = _new_session(session, e, Protocol.V16, None)
    return SessionResult(row.id, auth)


RECONCILED = "Reconciled"


def reconcile_evse(session: Session, charger_id: str, evse_id: int, at, why: str,
                   protocol: Protocol | None = None) -> list[SessionRow]:
    """Close the sessions the charger left active on an EVSE it now says is free (a new
    transaction started there, or - 1.6 - the connector is Available): a reboot or a lost
    StopTransaction must not leave a session active forever. Each is ended at ``at`` (charger
    time) on its last register, with stop_reason "Reconciled" and the flag
    ``reconciled_<why>``; a real stop arriving later still replaces this one."""
    query = select(SessionRow).where(SessionRow.charger_id == charger_id,
                                     SessionRow.evse_id == evse_id,
                                     SessionRow.active == True)  # noqa: E712
    if protocol is not None:
        query = query.where(SessionRow.protocol == protocol.value)
    closed = []
    for row in session.exec(query).all():
        last_activity = max(t for t in (row.started_at, row.last_register_at) if t is not None) \
            if (row.started_at or row.last_register_at) else None
        if at is None or last_activity is None or last_activity > at:
            continue  # the "free" news is older than the session's own data: keep it
        row.active = False
        row.stopped_at, row.stop_reason = at, RECONCILED
        row.meter_flags = plausibility.add_flag(row.meter_flags, f"reconciled_{why}")
        if row.protocol == Protocol.V16.value:
            row.meter_stop_wh = row.last_register_wh
        _update_energy(row)
        closed.append(row)
    return closed


def _new_session(session: Session, e: ev.SessionStarted | ev.SessionUpdated | ev.SessionEnded,
                 protocol: Protocol, ref: str | None) -> SessionRow:
    meter_start = getattr(e, "meter_start_wh", None)
    row = SessionRow(charger_id=e.charger_id, protocol=protocol.value,
                     transaction_ref=ref or f"pending-{uuid.uuid4().hex}"[:36],
                     evse_id=e.evse_id or 0,
                     connector_id=e.connector_id, id_token=e.id_token,
                     started_at=e.timestamp if isinstance(e, ev.SessionStarted) else None,
                     started_received_at=e.received_at, meter_start_wh=meter_start,
                     last_register_wh=meter_start)
    session.add(row)
    session.flush()  # assigns the id, which is the 1.6 transactionId
    if ref is None:
        row.transaction_ref = str(row.id)
    return row


def session_updated(session: Session, e: ev.SessionUpdated, config) -> SessionResult:
    auth = authorize(session, e.id_token, e.received_at, config) if e.id_token else None
    row = _owned(session, e)
    if row is None:
        return SessionResult(None, auth, owned=False)
    if not _take_event(session, row, e.seq_no, "Updated", e.trigger, e.timestamp,
                       e.received_at):
        return SessionResult(row.id, auth, duplicate=True)
    if e.charging_state:
        row.charging_state = e.charging_state
    if e.id_token and not row.id_token:
        row.id_token = e.id_token
    _add_samples(session, row, e.charger_id, row.evse_id, row.connector_id, e.samples,
                 e.received_at)
    return SessionResult(row.id, auth)


def session_ended(session: Session, e: ev.SessionEnded, config) -> SessionResult:
    auth = authorize(session, e.id_token, e.received_at, config) if e.id_token else None
    row = _owned(session, e)
    if row is None:
        return SessionResult(None, auth, owned=False)
    if row.protocol == Protocol.V16.value:
        if not row.active and row.stop_reason != RECONCILED:  # a replayed StopTransaction
            return SessionResult(row.id, auth, duplicate=True)
    elif not _take_event(session, row, e.seq_no, "Ended", None, e.timestamp, e.received_at):
        return SessionResult(row.id, auth, duplicate=True)
    _add_samples(session, row, e.charger_id, row.evse_id, row.connector_id, e.samples,
                 e.received_at)
    row.active = False
    row.stopped_at, row.stopped_received_at = e.timestamp, e.received_at
    row.stop_reason = e.reason
    if row.meter_flags:  # the real stop replaces a reconciliation
        row.meter_flags = [f for f in row.meter_flags if not f.startswith("reconciled_")] \
            or None
    if row.protocol == Protocol.V16.value:
        flag = plausibility.register_flag(e.meter_stop_wh)
        row.meter_flags = plausibility.add_flag(row.meter_flags, flag)
        if flag is None and e.meter_stop_wh is not None and row.last_register_wh is not None \
                and e.meter_stop_wh < row.last_register_wh:
            row.register_non_monotonic = True
        row.meter_stop_wh = e.meter_stop_wh if e.meter_stop_wh is not None \
            else row.last_register_wh
    # 2.0.1: the Ended's register is one of its samples (added above); the session ends on the
    # latest register in the charger's time, which a late Updated can still move.
    _update_energy(row)
    return SessionResult(row.id, auth)


def meter_values_reported(session: Session, e: ev.MeterValuesReported, config) -> SessionResult:
    row = None
    if e.transaction_ref is not None:
        row = _owned(session, e)
    _add_samples(session, row, e.charger_id, e.evse_id, e.connector_id, e.samples,
                 e.received_at)
    return SessionResult(row.id if row else None, owned=row is not None or
                         e.transaction_ref is None)


def _find(session: Session, charger_id: str, ref: str) -> SessionRow | None:
    return session.exec(select(SessionRow).where(SessionRow.charger_id == charger_id,
                                                 SessionRow.transaction_ref == ref)).first()


def _owned(session: Session, e) -> SessionRow | None:
    """The sending charger's session for ``e.transaction_ref``, or None (recorded if the
    transaction belongs to another charger, which is a security incident)."""
    row = _find(session, e.charger_id, e.transaction_ref)
    if row is not None:
        evse_id = getattr(e, "evse_id", None)
        if evse_id not in (None, 0) and row.evse_id not in (0, evse_id):
            security_incident(session, ev.SecurityIncident(
                e.charger_id, e.received_at, "evse_mismatch",
                f"transaction {e.transaction_ref} is on EVSE {row.evse_id}, message names "
                f"EVSE {evse_id}"), None)
        return row
    others = session.exec(select(SessionRow.charger_id).where(
        SessionRow.transaction_ref == e.transaction_ref,
        SessionRow.charger_id != e.charger_id)).first()
    if others is not None:
        security_incident(session, ev.SecurityIncident(
            e.charger_id, e.received_at, "foreign_transaction",
            f"{type(e).__name__} names transaction {e.transaction_ref} of another charger"), None)
        return None
    if getattr(e, "seq_no", None) is not None:
        # 2.0.1 (events carry a seqNo): the Started event never reached us; keep the data.
        return _new_session(session, e, Protocol.V201, e.transaction_ref)
    return None


def _take_event(session: Session, row: SessionRow, seq_no: int | None, event_type: str,
                trigger: str | None, timestamp, received_at) -> bool:
    """Record a 2.0.1 TransactionEvent; False if it is a replay of one already taken.

    A replay is the same seqNo with the same eventType and timestamp. The same seqNo with other
    content is not a replay: a charger that rebooted mid-transaction numbers from 0 again
    (flag ``seq_reset``), and dropping its events would lose the transaction's end. Missing
    numbers (E.2: seqNo lets the CSMS see that messages are missing) flag ``seq_gap`` until
    they arrive."""
    if seq_no is None:
        return True
    taken = session.exec(select(TransactionEventRow.event_type, TransactionEventRow.timestamp)
                         .where(TransactionEventRow.session_id == row.id,
                                TransactionEventRow.seq_no == seq_no)).all()
    if (event_type, timestamp) in taken:
        return False
    if taken:
        row.meter_flags = plausibility.add_flag(row.meter_flags, "seq_reset")
    session.add(TransactionEventRow(session_id=row.id, seq_no=seq_no, event_type=event_type,
                                    trigger=trigger, timestamp=timestamp,
                                    received_at=received_at))
    previous = -1 if row.last_seq_no is None else row.last_seq_no
    row.last_seq_no = max(previous, seq_no)
    gapped = bool(row.meter_flags and "seq_gap" in row.meter_flags)
    # In order (the usual case) nothing can open or close a gap: no count query per event.
    if seq_no > previous + 1 or (gapped and not taken):
        numbers = session.exec(select(func.count(func.distinct(TransactionEventRow.seq_no)))
                               .where(TransactionEventRow.session_id == row.id)).one()
        if numbers < row.last_seq_no + 1:
            row.meter_flags = plausibility.add_flag(row.meter_flags, "seq_gap")
        elif gapped:
            row.meter_flags = [f for f in row.meter_flags if f != "seq_gap"] or None
    return True


def _add_samples(session: Session, row: SessionRow | None, charger_id: str, evse_id: int | None,
                 connector_id: int | None, samples: tuple[MeterSample, ...], received_at) -> None:
    if not samples:
        return
    session_id = row.id if row else None
    flags = [plausibility.sample_flag(s) for s in samples]
    for s, flag in zip(samples, flags, strict=True):
        # A re-sent reading (same meter, instant, measurand, phase, location) is skipped by
        # the unique index ux_samples_reading (insert-or-ignore).
        defer_insert(session, SAMPLES, {
            "charger_id": charger_id, "session_id": session_id, "evse_id": evse_id or 0,
            "connector_id": connector_id, "timestamp": s.timestamp, "received_at": received_at,
            "measurand": s.measurand, "value": s.value, "unit": s.unit, "phase": s.phase,
            "location": s.location, "context": s.context, "flag": flag},
            ignore_duplicates=True)
    if row is None:
        return
    if any(flags):
        row.meter_flags = plausibility.add_flag(row.meter_flags, "implausible_samples")
    registers = sorted((s.timestamp, s.energy_wh) for s, flag in zip(samples, flags,
                                                                     strict=True)
                       if s.energy_wh is not None and flag is None)
    for at, wh in registers:
        if row.meter_start_wh is None:
            row.meter_start_wh = wh
        if row.last_register_at is None or at >= row.last_register_at:
            # Later in the charger's time: the register must not have gone down.
            if row.last_register_wh is not None and wh < row.last_register_wh:
                row.register_non_monotonic = True
            row.last_register_wh, row.last_register_at = wh, at
        elif row.last_register_wh is not None and wh > row.last_register_wh:
            row.register_non_monotonic = True  # an earlier reading above a later one
    _update_energy(row)


def _update_energy(row: SessionRow) -> None:
    if row.protocol != Protocol.V16.value and not row.active:
        row.meter_stop_wh = row.last_register_wh
    end_wh = row.meter_stop_wh if row.meter_stop_wh is not None else row.last_register_wh
    if plausibility.register_flag(row.meter_stop_wh) is not None:
        # A flagged meterStop is kept as sent, not used: the energy is what the register
        # samples say, or unknown without any.
        end_wh = row.last_register_wh if row.last_register_at is not None else None
    start_flag = plausibility.register_flag(row.meter_start_wh)
    if start_flag is not None:
        row.meter_flags = plausibility.add_flag(row.meter_flags, start_flag)
        row.energy_wh = None
        return
    if row.meter_start_wh is None or end_wh is None or end_wh < row.meter_start_wh:
        row.energy_wh = None
        if end_wh is not None and row.meter_start_wh is not None:
            row.register_non_monotonic = True
        return
    energy_wh = end_wh - row.meter_start_wh
    flag = plausibility.energy_flag(energy_wh)
    row.meter_flags = plausibility.add_flag(row.meter_flags, flag)
    row.energy_wh = None if flag else energy_wh
