"""REST API bearer tokens: `csms token create` prints a token once and stores its hash."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from csms import clock, security
from csms.settings import load
from csms.store.db import create_engine
from csms.store.migrate import upgrade
from csms.store.tables import ApiTokenRow


def create_token(session: Session, name: str, role: str,
                 expires_in: timedelta | None = None) -> str:
    """A new token (returned once, stored hashed); ``expires_in`` None: until revoked."""
    token = security.new_api_token()
    now = clock.wall_now()  # credentials live in real time, also under a demo clock
    session.add(ApiTokenRow(name=name, role=role, token_hash=security.hash_api_token(token),
                            created_at=now, expires_at=now + expires_in if expires_in else None))
    return token


def role_of(session: Session, token: str) -> str | None:
    """The role of a valid token: known, not revoked, not expired."""
    row = session.exec(select(ApiTokenRow).where(
        ApiTokenRow.token_hash == security.hash_api_token(token),
        ApiTokenRow.revoked == False)).first()  # noqa: E712 (SQL expression)
    if row is None or (row.expires_at is not None and row.expires_at <= clock.wall_now()):
        return None
    return row.role


def create_cli(args) -> int:
    url = args.database_url or load().database_url
    upgrade(url)  # idempotent: a fresh database gets its schema first
    engine = create_engine(url)
    with Session(engine) as session:
        days = getattr(args, "expires_days", None)
        token = create_token(session, args.name, args.role,
                             timedelta(days=days) if days else None)
        session.commit()
    engine.dispose()
    until = f", expires in {days:g} days" if days else ""
    print(f"API token for {args.name!r} (role {args.role}{until}); shown once, store it "
          "safely:")
    print(token)
    return 0
