"""Request dependencies: a database session per request and bearer-token roles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from csms.domain.model import Role
from csms.store.tokens import role_of

_bearer = HTTPBearer(auto_error=False, description="token from `csms token create`")
_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


def db(request: Request) -> Iterator[Session]:
    with Session(request.app.state.services.engine, expire_on_commit=False) as session:
        yield session


DB = Annotated[Session, Depends(db)]


def _role(request: Request, session: DB,
          creds: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Role:
    if creds is None:
        raise HTTPException(401, "missing bearer token (Authorization: Bearer <token>)",
                            headers={"WWW-Authenticate": "Bearer"})
    role = role_of(session, creds.credentials)
    if role is None:
        raise HTTPException(401, "invalid, revoked or expired API token",
                            headers={"WWW-Authenticate": "Bearer"})
    return Role(role)


def require(minimum: Role):
    def check(role: Role = Depends(_role)) -> Role:
        if _RANK[role] < _RANK[minimum]:
            raise HTTPException(403, f"this needs the {minimum.value} role; token has "
                                     f"{role.value}")
        return role
    return Depends(check)


Viewer = require(Role.VIEWER)
Operator = require(Role.OPERATOR)
Admin = require(Role.ADMIN)
