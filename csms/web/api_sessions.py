"""/api/v1/sessions: transactions as the chargers reported them, CSV export, meter values."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException
from sqlmodel import select

from csms.store.tables import MeterSampleRow, SessionRow
from csms.web.bounds import MAX_SAMPLES_PAGE, Id, Limit, Offset, SampleLimit
from csms.web.csv_export import MAX_CSV_ROWS, csv_response
from csms.web.deps import DB, Viewer
from csms.web.schemas import MeterValueOut, SessionOut

router = APIRouter(prefix="/api/v1", tags=["sessions"])
CSV_FIELDS = list(SessionOut.model_fields)


def session_out(row: SessionRow) -> SessionOut:
    return SessionOut(**row.model_dump(exclude={"transaction_ref"}),
                      transaction_id=row.transaction_ref)


def _query(charger_id: str | None, active: bool | None, since: datetime | None,
           until: datetime | None):
    query = select(SessionRow)
    if charger_id is not None:
        query = query.where(SessionRow.charger_id == charger_id)
    if active is not None:
        query = query.where(SessionRow.active == active)
    if since is not None:
        query = query.where(SessionRow.started_at >= since)
    if until is not None:
        query = query.where(SessionRow.started_at < until)
    return query.order_by(SessionRow.id)


@router.get("/sessions", response_model=list[SessionOut], dependencies=[Viewer])
def list_sessions(session: DB, charger_id: str | None = None, active: bool | None = None,
                  since: datetime | None = None, until: datetime | None = None,
                  limit: Limit = 1000, offset: Offset = 0):
    rows = session.exec(_query(charger_id, active, since, until).offset(offset).limit(limit))
    return [session_out(r) for r in rows]


@router.get("/sessions.csv", dependencies=[Viewer])
def sessions_csv(session: DB, charger_id: str | None = None, active: bool | None = None,
                 since: datetime | None = None, until: datetime | None = None):
    rows = session.exec(_query(charger_id, active, since, until).limit(MAX_CSV_ROWS + 1))
    return csv_response(CSV_FIELDS, (session_out(r).model_dump(mode="json") for r in rows),
                        "sessions.csv")


@router.get("/sessions/{session_id}", response_model=SessionOut, dependencies=[Viewer])
def get_session(session_id: Id, session: DB):
    row = session.get(SessionRow, session_id)
    if row is None:
        raise HTTPException(404, f"session {session_id} not found")
    return session_out(row)


@router.get("/sessions/{session_id}/meter-values", response_model=list[MeterValueOut],
            dependencies=[Viewer])
def meter_values(session_id: Id, session: DB, measurand: str | None = None,
                 limit: SampleLimit = MAX_SAMPLES_PAGE, offset: Offset = 0):
    if session.get(SessionRow, session_id) is None:
        raise HTTPException(404, f"session {session_id} not found")
    query = select(MeterSampleRow).where(MeterSampleRow.session_id == session_id)
    if measurand:
        query = query.where(MeterSampleRow.measurand == measurand)
    rows = session.exec(query.order_by(MeterSampleRow.timestamp, MeterSampleRow.id)
                        .offset(offset).limit(limit))
    return [MeterValueOut(**r.model_dump()) for r in rows]
