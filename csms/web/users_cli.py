"""`csms user add NAME --role admin|operator|viewer`: console users; the password is read from
stdin (one line), so it never appears in the process list or the shell history."""

from __future__ import annotations

import argparse
import sys

from sqlmodel import Session, select

from csms import clock
from csms.settings import load
from csms.store.db import create_engine
from csms.store.migrate import upgrade
from csms.store.tables import UserRow

MIN_PASSWORD_CHARS = 8


def add_parser(subparsers) -> None:
    user = subparsers.add_parser("user", help="console users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="add a user, or set the password and role of one; "
                                          "the password is read from stdin")
    add.add_argument("name")
    add.add_argument("--role", choices=["admin", "operator", "viewer"], default="viewer")
    add.add_argument("--lang", choices=["en", "fr"], default="en")
    add.add_argument("--database-url")
    add.set_defaults(handler="csms.web.users_cli:run")
    lst = user_sub.add_parser("list", help="list users")
    lst.add_argument("--database-url")
    lst.set_defaults(handler="csms.web.users_cli:run")


def upsert_user(session: Session, name: str, password: str, role: str, lang: str = "en"
                ) -> UserRow:
    from csms.web.console.auth import end_sessions_of, hash_user_password

    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(f"password must have at least {MIN_PASSWORD_CHARS} characters")
    row = session.exec(select(UserRow).where(UserRow.username == name)).first()
    if row is None:
        row = UserRow(username=name, password_hash="", created_at=clock.now())
    row.password_hash = hash_user_password(password)
    row.role, row.lang, row.disabled = role, lang, False
    session.add(row)
    if row.id is not None:
        end_sessions_of(session, row.id)  # a new password ends the old logins
    return row


def run(args: argparse.Namespace) -> int:
    url = args.database_url or load().database_url
    upgrade(url)
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            if args.user_command == "list":
                for row in session.exec(select(UserRow).order_by(UserRow.username)):
                    flags = ["disabled"] if row.disabled else []
                    print("\t".join([row.username, row.role, row.lang, *flags]))
                return 0
            password = sys.stdin.readline().rstrip("\r\n")
            try:
                upsert_user(session, args.name, password, args.role, args.lang)
            except ValueError as exc:
                print(f"csms user add: {exc}", file=sys.stderr)
                return 2
            session.commit()
    finally:
        engine.dispose()
    print(f"user {args.name!r} saved with role {args.role}")
    return 0
