"""/chargers and /chargers/{id}: status, live readings, profiles, message log, commands."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from sqlmodel import select

from csms import clock
from csms.commands import recent
from csms.domain.charger_facts import charger_class, default_rating_w
from csms.domain.commands import CommandError
from csms.domain.model import CommandState
from csms.sites import live
from csms.store.tables import ChargerRow, CommandRow, ConnectorRow, SessionRow
from csms.web.console import auth, profiles, svg
from csms.web.console.render import DB, LOCAL_TZ, CurrentUser, page

log = logging.getLogger(__name__)
router = APIRouter()
LIST_LIMIT = 500
TRIGGER_MESSAGES = ("BootNotification", "Heartbeat", "MeterValues", "StatusNotification")


@router.get("/chargers")
def chargers_page(request: Request, session: DB, user: CurrentUser, q: str = ""):
    query = select(ChargerRow).order_by(ChargerRow.id).limit(LIST_LIMIT)
    if q:
        query = query.where(ChargerRow.id.contains(q))
    rows = session.exec(query).all()
    ids = [r.id for r in rows]
    statuses: dict[str, list[str]] = {}
    for cid, _evse, status in session.execute(
            select(ConnectorRow.charger_id, ConnectorRow.evse_id, ConnectorRow.status)
            .where(ConnectorRow.charger_id.in_(ids), ConnectorRow.evse_id > 0)
            .order_by(ConnectorRow.charger_id, ConnectorRow.evse_id)):
        statuses.setdefault(cid, []).append(status)
    power_w: dict[str, float] = {}
    for (cid, _), r in live.live_readings(session, clock.now(),
                                          measurands=("Power.Active.Import",)).items():
        power_w[cid] = power_w.get(cid, 0.0) + (r.power_w or 0.0)
    return page(request, "chargers.html", user, "chargers", blocks=("table",), rows=rows,
                statuses=statuses, power_w=power_w, q=q, limit=LIST_LIMIT,
                classes={r.id: charger_class(r.charger_type, r.max_power_w) for r in rows})


def _charger(session, charger_id: str) -> ChargerRow:
    row = session.get(ChargerRow, charger_id)
    if row is None:
        raise HTTPException(404, f"charger {charger_id!r} not found")
    return row


def _schedule_chart(title: str, installed: list[CommandRow], now: datetime):
    """The limit of the newest installed profile over the next 24 h, per 15 min (kW)."""
    if not installed:
        return None
    ps = profiles.periods(installed[0].payload, installed[0].sent_at or installed[0].created_at)
    start = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    times = [start + timedelta(minutes=15 * k) for k in range(96)]
    values = [limit_w / 1000 if (limit_w := profiles.limit_at(ps, t)) is not None else None
              for t in times]
    labels = [t.astimezone(LOCAL_TZ).strftime("%H:%M") for t in times]  # the page's time base
    return svg.line_chart(title, labels, [("limit kW", values)], unit="kW")


@router.get("/chargers/{charger_id}")
def charger_page(request: Request, charger_id: str, session: DB, user: CurrentUser):
    from csms.web.console.i18n import translate
    from csms.web.console.render import lang_of

    row = _charger(session, charger_id)
    now = clock.now()
    connectors = session.exec(select(ConnectorRow).where(ConnectorRow.charger_id == charger_id)
                              .order_by(ConnectorRow.evse_id, ConnectorRow.connector_id)).all()
    readings = live.live_readings(session, now, charger_id)
    active = session.exec(select(SessionRow).where(SessionRow.charger_id == charger_id,
                                                   SessionRow.active == True)  # noqa: E712
                          .order_by(SessionRow.id.desc())).all()
    commands = recent(session, charger_id, control=False)
    control = recent(session, charger_id, control=True, limit=10)
    installed = profiles.installed(session, charger_id)
    frames = list(request.app.state.services.gateway.frame_logs.get(charger_id, ()))[-50:]
    capabilities = session.exec(select(CommandRow).where(
        CommandRow.charger_id == charger_id, CommandRow.state == CommandState.ACCEPTED,
        CommandRow.action.in_(("GetConfiguration", "GetBaseReport", "GetVariables")))
        .order_by(CommandRow.id.desc()).limit(1)).first()
    lang = lang_of(request, user)
    return page(request, "charger.html", user, "chargers", blocks=("live", "outbox", "log"),
                c=row, connectors=connectors, readings=readings, active_sessions=active,
                commands=commands, control_commands=control, installed=installed,
                frames=reversed(frames), charger_class=charger_class(row.charger_type,
                                                                     row.max_power_w),
                default_rating_w=default_rating_w(row.charger_type),
                capabilities=capabilities, triggers=TRIGGER_MESSAGES,
                online=charger_id in request.app.state.services.gateway.links,
                chart=_schedule_chart(translate(lang, "composite"), installed, now),
                frame_time=clock.at_wall)


def _params(action: str, form: dict) -> dict:
    """Form fields -> neutral command parameters (empty fields dropped)."""
    p = {k: v for k, v in form.items() if k not in ("csrf_token", "action") and v != ""}
    for key in ("connector_id", "evse_id"):
        if key in p:
            p[key] = int(p[key])
    if action == "change_availability":
        p["operative"] = p.get("operative") == "true"
    return p


@router.post("/chargers/{charger_id}/commands", dependencies=[Depends(auth.check_csrf)])
async def send_command(request: Request, charger_id: str, user: CurrentUser, session: DB,
                       action: str = Form(...)):
    auth.require_role(user, "operator")
    _charger(session, charger_id)
    services = request.app.state.services
    form = dict(await request.form())
    error = None
    try:
        await services.commands.submit(charger_id, action, _params(action, form),
                                       source="console", role=user.role)
    except (CommandError, ValueError) as exc:
        error = str(exc)
    log.info("%s: console user %s sent %s", charger_id, user.username, action)
    c = _charger(session, charger_id)
    return page(request, "charger.html", user, "chargers", blocks=("outbox",), c=c,
                commands=recent(session, charger_id, control=False),
                control_commands=recent(session, charger_id, control=True, limit=10),
                command_error=error)
