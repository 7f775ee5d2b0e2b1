"""Commands to chargers through the outbox: POST returns 202 and the record; GET its state."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request

from csms.commands import recent
from csms.domain.commands import CommandError, CommandForbidden
from csms.domain.model import Role
from csms.store.tables import ChargerRow, CommandRow
from csms.web.bounds import Id
from csms.web.deps import DB, Operator, Viewer
from csms.web.schemas import CommandIn, CommandOut

router = APIRouter(prefix="/api/v1", tags=["commands"])


@router.post("/chargers/{charger_id}/commands", response_model=CommandOut, status_code=202)
async def send_command(request: Request, charger_id: str, body: CommandIn,
                       role: Role = Operator):
    services = request.app.state.services
    exists = await services.worker.run(lambda s: s.get(ChargerRow, charger_id) is not None)
    if not exists:
        raise HTTPException(404, f"charger {charger_id!r} not found")
    from csms.ocpp.commands import sets_password
    from csms.web.api_security import password_command

    if sets_password(body.action, body.params):
        # A raw AuthorizationKey / BasicAuthPassword change is a password rotation: hashed,
        # redacted in the outbox, the old password kept until the charger confirms.
        return await password_command(request, charger_id, body.action, body.params)
    try:
        return await services.commands.submit(charger_id, body.action, body.params,
                                              role=role.value)
    except CommandForbidden as exc:
        raise HTTPException(403, str(exc)) from None
    except CommandError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/chargers/{charger_id}/commands", response_model=list[CommandOut],
            dependencies=[Viewer])
def list_commands(charger_id: str, session: DB, limit: int = Query(100, ge=1, le=1000),
                  control: bool | None = Query(
                      None, description="true: only the smart-charging loop's commands; "
                      "false: only the others (API, console); absent: all")):
    return recent(session, charger_id, control=control, limit=limit)


@router.get("/commands/{command_id}", response_model=CommandOut, dependencies=[Viewer])
def get_command(command_id: Id, session: DB):
    row = session.get(CommandRow, command_id)
    if row is None:
        raise HTTPException(404, f"command {command_id} not found")
    return row
