"""Login and logout."""

from __future__ import annotations

import logging
import math

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from csms.throttle import AuthThrottle
from csms.web.console import auth
from csms.web.console.render import DB, page
from csms.web.writes import write

log = logging.getLogger(__name__)
router = APIRouter()


def _throttle(request: Request) -> AuthThrottle:
    """The same rule as chargers' Basic auth: per (username, client network) with backoff, so
    an attacker elsewhere cannot lock the admin out (csms/throttle.py)."""
    state = request.app.state
    if not hasattr(state, "login_throttle"):
        settings = state.services.settings
        state.login_throttle = AuthThrottle(settings.auth_failures_per_minute,
                                            settings.auth_backoff_max_s)
    return state.login_throttle


def _safe_next(target: str | None) -> str:
    # Only local paths: never redirect to another site after login.
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, session: DB, next: str | None = None):
    return page(request, "login.html", None, next=_safe_next(next), error=False)


@router.post("/login", dependencies=[Depends(auth.check_csrf)])
async def login(request: Request, username: str = Form(...), password: str = Form(...),
                next: str = Form("/")):
    throttle = _throttle(request)
    user = username.strip()[:64]
    address = request.client.host if request.client else "unknown"
    wait_s = throttle.retry_after_s(user, address)
    if wait_s > 0:
        log.info("console: login for %r from %s refused for %.0f s: failed attempts", user,
                 address, wait_s)
        response = page(request, "login.html", None, next=_safe_next(next), error=True,
                        status_code=429)
        response.headers["Retry-After"] = str(max(1, math.ceil(wait_s)))
        return response
    # PBKDF2 in a reader thread of its own session; the login row through the store's writer.
    row = await request.app.state.services.worker.read(auth.authenticate, user, password)
    if row is None:
        throttle.failed(user, address)
        log.warning("console: failed login for %r from %s", user, address)
        return page(request, "login.html", None, next=_safe_next(next), error=True,
                    status_code=401)
    throttle.succeeded(user, address)
    response = RedirectResponse(_safe_next(next), status_code=303)
    token = await write(request, auth.start_session, row.id)
    response.set_cookie(auth.SESSION_COOKIE, token, httponly=True,
                        samesite="lax", secure=request.url.scheme == "https",
                        max_age=auth.SESSION_MAX_AGE_S)
    return response


@router.post("/logout", dependencies=[Depends(auth.check_csrf)])
async def logout(request: Request):
    token = request.cookies.get(auth.SESSION_COOKIE)
    if token:
        await write(request, auth.end_session, token)  # revoked server-side
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE)
    return response
