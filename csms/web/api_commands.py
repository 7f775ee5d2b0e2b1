"""Commands to chargers through the outbox: POST returns 202 and the record; GET its state."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from sqlmodel import select

from csms.domain.commands import OUTGOING, CommandError, password_of, sets_password
from csms.store.tables import ChargerRow, CommandRow
from csms.web.deps import DB, Operator, Viewer
from csms.web.schemas import CommandIn, CommandOut

router = APIRouter(prefix="/api/v1", tags=["commands"])


@router.post("/chargers/{charger_id}/commands", response_model=CommandOut, status_code=202,
             dependencies=[Operator])
async def send_command(request: Request, charger_id: str, body: CommandIn):
    services = request.app.state.services
    exists = await services.worker.run(lambda s: s.get(ChargerRow, charger_id) is not None)
    if not exists:
        raise HTTPException(404, f"charger {charger_id!r} not found")
    if sets_password(body.action, body.params):
        # A raw AuthorizationKey / BasicAuthPassword change is a password rotation: hashed,
        # redacted in the outbox, the old password kept until the charger confirms.
        return await _rotate_password(request, charger_id, body)
    try:
        return await services.commands.submit(charger_id, body.action, body.params)
    except CommandError as exc:
        raise HTTPException(422, str(exc)) from None


async def _rotate_password(request: Request, charger_id: str, body: CommandIn):
    from csms.passwords import NotConnected
    from csms.store.tokens import role_of

    services = request.app.state.services
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    if await services.worker.run(role_of, token) != "admin":
        raise HTTPException(403, "changing a charger's password needs the admin role")
    protocol = services.gateway.protocol(charger_id)
    if protocol is not None and body.action not in OUTGOING.get(protocol, ()):
        raise HTTPException(422, f"{body.action} is not an OCPP {protocol} action")
    try:
        return await services.passwords.rotate(charger_id, password_of(body.action,
                                                                       body.params))
    except (CommandError, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None
    except NotConnected:  # recorded like any command to an offline charger
        return await services.passwords.record_offline(charger_id, body.action, body.params)


@router.get("/chargers/{charger_id}/commands", response_model=list[CommandOut],
            dependencies=[Viewer])
def list_commands(charger_id: str, session: DB, limit: int = 100):
    query = (select(CommandRow).where(CommandRow.charger_id == charger_id)
             .order_by(CommandRow.id.desc()).limit(min(limit, 1000)))
    return session.exec(query).all()


@router.get("/commands/{command_id}", response_model=CommandOut, dependencies=[Viewer])
def get_command(command_id: int, session: DB):
    row = session.get(CommandRow, command_id)
    if row is None:
        raise HTTPException(404, f"command {command_id} not found")
    return row
