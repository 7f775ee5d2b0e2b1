"""REST API bearer tokens: `csms token create` prints a token once and stores its hash."""

from __future__ import annotations

from sqlmodel import Session, select

from csms import clock, security
from csms.settings import load
from csms.store.db import create_engine
from csms.store.migrate import upgrade
from csms.store.tables import ApiTokenRow


def create_token(session: Session, name: str, role: str) -> str:
    token = security.new_api_token()
    session.add(ApiTokenRow(name=name, role=role, token_hash=security.hash_api_token(token),
                            created_at=clock.now()))
    return token


def role_of(session: Session, token: str) -> str | None:
    row = session.exec(select(ApiTokenRow).where(
        ApiTokenRow.token_hash == security.hash_api_token(token),
        ApiTokenRow.revoked == False)).first()  # noqa: E712 (SQL expression)
    return row.role if row else None


def create_cli(args) -> int:
    url = args.database_url or load().database_url
    upgrade(url)  # idempotent: a fresh database gets its schema first
    engine = create_engine(url)
    with Session(engine) as session:
        token = create_token(session, args.name, args.role)
        session.commit()
    engine.dispose()
    print(f"API token for {args.name!r} (role {args.role}); shown once, store it safely:")
    print(token)
    return 0
