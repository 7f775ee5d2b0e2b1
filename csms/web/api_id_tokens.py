"""/api/v1/id-tokens: the authorization list (Accepted / Blocked / Expired / Invalid)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from sqlmodel import select

from csms import clock
from csms.store.tables import IdTokenRow
from csms.web.deps import DB, Operator, Viewer
from csms.web.schemas import IdTokenIn, IdTokenOut, IdTokenUpdate
from csms.web.writes import write

router = APIRouter(prefix="/api/v1/id-tokens", tags=["id-tokens"])


def _get(session, id_token: str) -> IdTokenRow:
    row = session.get(IdTokenRow, id_token)
    if row is None:
        raise HTTPException(404, f"id token {id_token!r} not found")
    return row


@router.get("", response_model=list[IdTokenOut], dependencies=[Viewer])
def list_tokens(session: DB):
    return session.exec(select(IdTokenRow).order_by(IdTokenRow.id_token)).all()


@router.post("", response_model=IdTokenOut, status_code=201, dependencies=[Operator])
async def create_token(request: Request, body: IdTokenIn):
    def create(session, now):
        if session.get(IdTokenRow, body.id_token) is not None:
            raise HTTPException(409, f"id token {body.id_token!r} already exists")
        row = IdTokenRow(**body.model_dump(), created_at=now)
        session.add(row)
        session.flush()
        return row

    return await write(request, create, clock.now())


@router.get("/{id_token}", response_model=IdTokenOut, dependencies=[Viewer])
def get_token(id_token: str, session: DB):
    return _get(session, id_token)


@router.patch("/{id_token}", response_model=IdTokenOut, dependencies=[Operator])
async def update_token(request: Request, id_token: str, body: IdTokenUpdate):
    def update(session):
        row = _get(session, id_token)
        for key in body.model_fields_set:
            setattr(row, key, getattr(body, key))
        session.flush()
        return row

    return await write(request, update)


@router.delete("/{id_token}", status_code=204, dependencies=[Operator])
async def delete_token(request: Request, id_token: str):
    await write(request, lambda session: session.delete(_get(session, id_token)))
    return Response(status_code=204)
