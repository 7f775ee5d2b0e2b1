"""/api/v1/chargers: registry CRUD with live connection state and status per connector."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request, Response
from sqlmodel import select

from csms import clock, security
from csms.domain.charger_facts import OPERATOR, charger_class
from csms.domain.clock_offset import clock_alert
from csms.sites.service import set_electrical
from csms.store.tables import ChargerEventRow, ChargerRow, ConnectorRow
from csms.web.api_security import latest_certificates
from csms.web.api_security import secured as _secured
from csms.web.bounds import Limit
from csms.web.deps import DB, Admin, Viewer
from csms.web.schemas import ChargerCreate, ChargerOut, ChargerUpdate, ConnectorOut
from csms.web.writes import write

router = APIRouter(prefix="/api/v1/chargers", tags=["chargers"])


def charger_out(request: Request, row: ChargerRow, connectors: list[ConnectorRow]) -> ChargerOut:
    link = request.app.state.services.gateway.links.get(row.id)
    return ChargerOut(
        **row.model_dump(exclude={"password_hash", "connected", "protocol", "last_seen"}),
        connected=link is not None, protocol=link.protocol if link else row.protocol,
        last_seen=clock.now() if link else row.last_seen, has_password=bool(row.password_hash),
        connectors=[ConnectorOut(**c.model_dump()) for c in connectors],
        charger_class=charger_class(row.charger_type, row.max_power_w),
        clock_alert=clock_alert(row.clock_offset_s))


def _get(session, charger_id: str) -> ChargerRow:
    row = session.get(ChargerRow, charger_id)
    if row is None:
        raise HTTPException(404, f"charger {charger_id!r} not found")
    return row


def _connectors(session, charger_ids: list[str]) -> dict[str, list[ConnectorRow]]:
    out: dict[str, list[ConnectorRow]] = {cid: [] for cid in charger_ids}
    rows = session.exec(select(ConnectorRow).where(ConnectorRow.charger_id.in_(charger_ids))
                        .order_by(ConnectorRow.evse_id, ConnectorRow.connector_id))
    for c in rows:
        out[c.charger_id].append(c)
    return out


@router.get("", response_model=list[ChargerOut], dependencies=[Viewer])
def list_chargers(request: Request, session: DB, connected: bool | None = None):
    rows = session.exec(select(ChargerRow).order_by(ChargerRow.id)).all()
    links = request.app.state.services.gateway.links
    if connected is not None:
        rows = [r for r in rows if (r.id in links) == connected]
    conns = _connectors(session, [r.id for r in rows])
    certs = latest_certificates(session, [r.id for r in rows])
    return [_secured(request, charger_out(request, r, conns[r.id]), r, certs.get(r.id))
            for r in rows]


@router.post("", response_model=ChargerOut, status_code=201, dependencies=[Admin])
async def create_charger(request: Request, body: ChargerCreate):
    generated = None
    password = body.password
    # Asking for profile 0 (no authentication) is the operator's explicit word, like the flag.
    unauthenticated = body.allow_unauthenticated or (body.security_profile == 0
                                                     and password is None)
    if password is None and not unauthenticated and body.security_profile != 3:
        password = generated = security.generate_charger_password()
    password_hash = await _hash_first(password)

    def create(session, now) -> ChargerRow:
        if session.get(ChargerRow, body.id) is not None:
            raise HTTPException(409, f"charger {body.id!r} already exists")
        if isinstance(password_hash, HTTPException):
            raise password_hash
        row = ChargerRow(id=body.id, description=body.description, registered_at=now,
                         password_hash=password_hash, allow_unauthenticated=unauthenticated)
        set_electrical(row, charger_type=body.charger_type, max_power_w=body.max_power_w)
        session.add(row)
        _set_profile(row, body.security_profile)
        session.flush()
        return row

    row = await write(request, create, clock.now())
    out = _secured(request, charger_out(request, row, []), row, None)
    out.generated_password = generated
    return out


@router.get("/{charger_id}", response_model=ChargerOut, dependencies=[Viewer])
def get_charger(request: Request, charger_id: str, session: DB):
    row = _get(session, charger_id)
    return _secured(request, charger_out(request, row, _connectors(session, [row.id])[row.id]),
                    row, latest_certificates(session, [row.id]).get(row.id))


@router.patch("/{charger_id}", response_model=ChargerOut, dependencies=[Admin])
async def update_charger(request: Request, charger_id: str, body: ChargerUpdate):
    services = request.app.state.services
    password_hash = await _hash_first(body.password) \
        if "password" in body.model_fields_set else None
    row = await write(request, _update, charger_id, body, password_hash)
    if "security_profile" in body.model_fields_set:
        # A connection made under a lower profile ends; the charger reconnects with the new one.
        await services.gateway.enforce_profile(row.id, row.security_profile)

    def details(session):
        return _connectors(session, [row.id])[row.id], latest_certificates(session, [row.id])
    connectors, certificates = await services.worker.read(details)
    return _secured(request, charger_out(request, row, connectors), row,
                    certificates.get(row.id))


def _update(session, charger_id: str, body: ChargerUpdate,
            password_hash: str | HTTPException | None):
    row = _get(session, charger_id)
    if "password" in body.model_fields_set:
        if isinstance(password_hash, HTTPException):
            raise password_hash
        row.password_hash = password_hash
        row.password_pending_hash = row.password_pending_at = None
        if body.password is None and row.security_profile == 1 \
                and "security_profile" not in body.model_fields_set:
            row.security_profile = 0  # removing the password removes Basic auth
    _set_profile(row, body.security_profile if "security_profile" in body.model_fields_set
                 else row.security_profile)
    if body.allow_unauthenticated is not None:
        row.allow_unauthenticated = body.allow_unauthenticated
    if row.security_profile == 0 and not row.password_hash \
            and "security_profile" in body.model_fields_set:
        row.allow_unauthenticated = True  # profile 0 asked for explicitly
    if "description" in body.model_fields_set:
        row.description = body.description
    if {"charger_type", "max_power_w"} & body.model_fields_set:
        set_electrical(
            row, clear=True,
            charger_type=body.charger_type if "charger_type" in body.model_fields_set
            else (row.charger_type if row.charger_type_source == OPERATOR else None),
            max_power_w=body.max_power_w if "max_power_w" in body.model_fields_set
            else (row.max_power_w if row.max_power_source == OPERATOR else None))
    session.flush()
    return row


@router.delete("/{charger_id}", status_code=204, dependencies=[Admin])
async def delete_charger(request: Request, charger_id: str):
    services = request.app.state.services

    def delete(session) -> bool:
        row = session.get(ChargerRow, charger_id)
        if row is not None:
            session.delete(row)
        return row is not None

    if not await services.worker.run(delete):
        raise HTTPException(404, f"charger {charger_id!r} not found")
    # A removed charger must not stay connected (it would be re-registered by its messages).
    await services.gateway.disconnect(charger_id, "charger removed from the registry")
    return Response(status_code=204)


@router.get("/{charger_id}/events", dependencies=[Viewer])
def charger_events(charger_id: str, session: DB, kind: str | None = None, limit: Limit = 100):
    _get(session, charger_id)
    query = select(ChargerEventRow).where(ChargerEventRow.charger_id == charger_id)
    if kind:
        query = query.where(ChargerEventRow.kind == kind)
    rows = session.exec(query.order_by(ChargerEventRow.id.desc()).limit(min(limit, 1000)))
    return [r.model_dump() for r in rows]


@router.get("/{charger_id}/messages", dependencies=[Viewer])
def charger_messages(request: Request, charger_id: str, session: DB, limit: Limit = 100):
    """The last OCPP frames exchanged with this charger (kept in memory, newest last)."""
    _get(session, charger_id)
    frames = list(request.app.state.services.gateway.frame_logs.get(charger_id, ()))
    return [{"at_s": f.at_s, "direction": f.direction, "text": f.text}
            for f in frames[-min(limit, 200):]]


async def _hash_first(password: str | None) -> str | HTTPException | None:
    """The hash, made before the write job so that neither the event loop nor the writer
    thread waits for PBKDF2; a refused password as the HTTPException the job raises after
    its 404 / 409 checks (the order of the answers stays)."""
    try:
        return await asyncio.to_thread(_hash, password)
    except HTTPException as exc:
        return exc


def _hash(password: str | None) -> str | None:
    if password is None:
        return None
    try:
        security.validate_charger_password(password)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return security.hash_password(password)


def _set_profile(row: ChargerRow, profile: int | None) -> None:
    """Security profile rules: Basic needs a password (profiles 1, 2); a password alone means
    profile 1; profile 3 authenticates by certificate and keeps any password it had."""
    if profile is None:
        profile = 1 if row.password_hash else 0
    if profile == 0 and row.password_hash:
        profile = 1  # a registered password is always checked
    if profile in (1, 2) and not row.password_hash:
        raise HTTPException(422, f"security profile {profile} uses HTTP Basic auth: set a "
                                 "password (16-40 characters) too")
    row.security_profile = profile

