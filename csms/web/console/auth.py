"""Console authentication: users with roles, server-side sessions and CSRF tokens.

The session cookie holds a random 256-bit token; the store keeps its SHA-256 with the user and
an expiry (``console_sessions``), so logout revokes it on the server, a password change or a
disabled user ends every session of that user, and a copied cookie dies with them. CSRF uses a
random per-browser nonce cookie; the token in every form (field ``csrf_token``) and htmx request
(header ``X-CSRF-Token``) is HMAC(secret, nonce), so a page on another origin cannot forge it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import HTTPException, Request
from sqlalchemy import delete
from sqlmodel import Session, select

from csms import clock, security
from csms.store.tables import ConsoleSessionRow, UserRow

log = logging.getLogger(__name__)

SESSION_COOKIE = "csms_session"
NONCE_COOKIE = "csms_nonce"
SESSION_MAX_AGE_S = 12 * 3600
# Human passwords get a slow KDF (charger passwords are long random secrets and use 1000).
USER_PBKDF2_ITERATIONS = 200_000
RANK = {"viewer": 0, "operator": 1, "admin": 2}
ROLES = tuple(RANK)


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    lang: str

    def can(self, minimum: str) -> bool:
        return RANK.get(self.role, -1) >= RANK[minimum]


class LoginRequired(Exception):
    """Raised by page dependencies; the app turns it into a redirect to /login."""


def secret(request: Request) -> str:
    state = request.app.state
    if not getattr(state, "console_secret", None):
        configured = request.app.state.services.settings.secret_key
        state.console_secret = configured or secrets.token_urlsafe(32)
    return state.console_secret


def hash_user_password(password: str) -> str:
    return security.hash_password(password, iterations=USER_PBKDF2_ITERATIONS)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user_id: int) -> str:
    """A new login for the user ``user_id``: the cookie value (returned once; only its hash is
    stored). A job of the store's writer (no commit)."""
    token = secrets.token_urlsafe(32)
    now = clock.wall_now()  # sessions live in real time, also under a demo clock
    session.add(ConsoleSessionRow(token_hash=_token_hash(token), user_id=user_id,
                                  created_at=now,
                                  expires_at=now + timedelta(seconds=SESSION_MAX_AGE_S)))
    # Expired sessions of anyone are dropped here, so the table never grows without bound.
    session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at <= now))
    return token


def end_session(session: Session, token: str) -> None:
    """A logout: the login of cookie ``token`` ends. A job of the store's writer (no commit)."""
    session.execute(delete(ConsoleSessionRow).where(
        ConsoleSessionRow.token_hash == _token_hash(token)))


def end_sessions_of(session: Session, user_id: int) -> None:
    """Every session of a user ends (a new password, a disabled account). No commit."""
    session.execute(delete(ConsoleSessionRow).where(ConsoleSessionRow.user_id == user_id))


def current_user(request: Request, session: Session) -> User | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    login = session.exec(select(ConsoleSessionRow).where(
        ConsoleSessionRow.token_hash == _token_hash(token))).first()
    if login is None or login.expires_at <= clock.wall_now():
        return None
    row = session.get(UserRow, login.user_id)
    if row is None or row.disabled:
        return None
    return User(row.id, row.username, row.role, row.lang)


def authenticate(session: Session, username: str, password: str) -> UserRow | None:
    row = session.exec(select(UserRow).where(UserRow.username == username)).first()
    if row is None or row.disabled:
        # Same cost as a real check, so timing does not reveal which usernames exist.
        security.verify_password(password, _DUMMY_HASH)
        return None
    return row if security.verify_password(password, row.password_hash) else None


_DUMMY_HASH = security.hash_password("not-a-user-password", iterations=USER_PBKDF2_ITERATIONS)


def nonce(request: Request) -> str:
    """The browser's CSRF nonce (new ones are set as a cookie by the middleware)."""
    value = request.cookies.get(NONCE_COOKIE) or getattr(request.state, "new_nonce", None)
    if not value:
        value = secrets.token_urlsafe(24)
        request.state.new_nonce = value
    return value


def csrf_token(request: Request) -> str:
    return hmac.new(secret(request).encode(), nonce(request).encode(), "sha256").hexdigest()


async def check_csrf(request: Request) -> None:
    """Every state-changing console request must carry the token of this browser's nonce."""
    sent = request.headers.get("x-csrf-token")
    if not sent:
        form = await request.form()
        sent = form.get("csrf_token")
    cookie = request.cookies.get(NONCE_COOKIE)
    if not sent or not cookie or not hmac.compare_digest(str(sent), csrf_token(request)):
        log.warning("console: CSRF check failed for %s %s", request.method, request.url.path)
        raise HTTPException(403, "CSRF token missing or invalid; reload the page")


def require_role(user: User, minimum: str) -> None:
    if not user.can(minimum):
        raise HTTPException(403, f"this needs the {minimum} role; you are {user.role}")
