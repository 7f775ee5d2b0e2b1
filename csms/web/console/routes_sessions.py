"""/sessions: filter, CSV export, and a session's power / SOC curves, energy and cost."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from sqlmodel import select

from csms import clock
from csms.domain.model import ENERGY_REGISTER as REGISTER
from csms.fleet.identify import vehicles_for_sessions
from csms.sites.economics import estimated_session_costs
from csms.sites.readings import latest_soc
from csms.store.tables import MeterSampleRow, SessionRow
from csms.tariff.session_cost import session_cost_mad
from csms.web.api_sessions import CSV_FIELDS, _query, session_out
from csms.web.bounds import Id
from csms.web.console import svg
from csms.web.console.i18n import translate
from csms.web.console.render import DB, LOCAL_TZ, CurrentUser, lang_of, page
from csms.web.console.site import current_site, tariff_of
from csms.web.csv_export import MAX_CSV_ROWS, csv_response

router = APIRouter()
PAGE_SIZE = 50
MAX_PAGE = 100_000


def _day(value: str | None, end: bool = False) -> datetime | None:
    """A local calendar date from a form field -> its UTC start (or the next day's, for ``to``)."""
    if not value:
        return None
    try:
        d = date.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"invalid date {value!r}; use YYYY-MM-DD") from None
    if end:
        d += timedelta(days=1)
    return datetime.combine(d, time(0), LOCAL_TZ).astimezone(UTC)


def _filters(charger_id: str, since: str, until: str, active: str):
    return (charger_id or None, True if active == "1" else None, _day(since), _day(until, True))


@router.get("/sessions")
def sessions_page(request: Request, session: DB, user: CurrentUser, charger_id: str = "",
                  since: str = "", until: str = "", active: str = "",
                  page_no: int = Query(1, alias="page", ge=1, le=MAX_PAGE)):
    query = _query(*_filters(charger_id, since, until, active))
    query = (query.order_by(None).order_by(SessionRow.id.desc())
             .offset((page_no - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1))
    rows = session.exec(query).all()
    more, rows = len(rows) > PAGE_SIZE, rows[:PAGE_SIZE]
    now = clock.now()
    durations = {r.id: ((r.stopped_at or now) - r.started_at).total_seconds()
                 if r.started_at else None for r in rows}
    filters = {"charger_id": charger_id, "since": since, "until": until, "active": active}
    kept = {k: v for k, v in filters.items() if v}
    return page(request, "sessions.html", user, "sessions", blocks=("table",), rows=rows,
                f=filters, qs=urlencode({**kept, "page": page_no}), filter_qs=urlencode(kept),
                page_no=page_no, more=more, durations=durations,
                soc=latest_soc(session, [r.id for r in rows]),
                costs=estimated_session_costs(tariff_of(current_site(session)), rows, now),
                vehicles=vehicles_for_sessions(session, rows))



@router.get("/sessions.csv")
def sessions_csv(session: DB, user: CurrentUser, charger_id: str = "", since: str = "",
                 until: str = "", active: str = ""):
    rows = session.exec(_query(*_filters(charger_id, since, until, active))
                        .limit(MAX_CSV_ROWS + 1))
    return csv_response(CSV_FIELDS, (session_out(r).model_dump(mode="json") for r in rows),
                        "sessions.csv")


@router.get("/sessions/{session_id}")
def session_page(request: Request, session_id: Id, session: DB, user: CurrentUser):
    row = session.get(SessionRow, session_id)
    if row is None:
        raise HTTPException(404, f"session {session_id} not found")
    samples = session.exec(select(MeterSampleRow).where(MeterSampleRow.session_id == session_id)
                           .order_by(MeterSampleRow.timestamp, MeterSampleRow.id)).all()
    registers = [(s.timestamp, s.value) for s in samples
                 if s.measurand == REGISTER and s.phase in (None, "")]
    if row.meter_start_wh is not None and row.started_at is not None:
        registers.insert(0, (row.started_at, row.meter_start_wh))
    registers.sort()
    cost = session_cost_mad(tariff_of(current_site(session)), [t for t, _ in registers],
                            [w for _, w in registers])
    power = {s.timestamp: s.value / 1000 for s in samples
             if s.measurand == "Power.Active.Import" and s.phase in (None, "")}
    soc = {s.timestamp: s.value for s in samples if s.measurand == "SoC"}
    times = sorted(set(power) | set(soc))
    lang = lang_of(request, user)
    chart = svg.line_chart(
        translate(lang, "power_curve"), [t.astimezone(LOCAL_TZ).strftime("%H:%M") for t in times],
        [(translate(lang, "power") + " kW", [power.get(t) for t in times]),
         (translate(lang, "soc") + " %", [soc.get(t) for t in times])], unit="kW / %") \
        if times else None
    return page(request, "session.html", user, "sessions", blocks=("live",), s=row, cost=cost,
                chart=chart, points=[(t, power.get(t), soc.get(t)) for t in times][-200:])
