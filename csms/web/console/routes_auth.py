"""Login and logout."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from csms.security import FailureLimiter
from csms.web.console import auth
from csms.web.console.render import DB, page

log = logging.getLogger(__name__)
router = APIRouter()
LOGIN_FAILURES_PER_MINUTE = 10  # per username and per client address


def _limiter(request: Request) -> FailureLimiter:
    state = request.app.state
    if not hasattr(state, "login_limiter"):
        state.login_limiter = FailureLimiter(LOGIN_FAILURES_PER_MINUTE)
    return state.login_limiter


def _safe_next(target: str | None) -> str:
    # Only local paths: never redirect to another site after login.
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, session: DB, next: str | None = None):
    return page(request, "login.html", None, next=_safe_next(next), error=False)


@router.post("/login", dependencies=[Depends(auth.check_csrf)])
def login(request: Request, session: DB, username: str = Form(...), password: str = Form(...),
          next: str = Form("/")):
    limiter = _limiter(request)
    keys = (f"user:{username.strip()[:64]}",
            f"addr:{request.client.host if request.client else 'unknown'}")
    if limiter.blocked(*keys):
        log.warning("console: login for %r refused: too many failed attempts", username[:64])
        return page(request, "login.html", None, next=_safe_next(next), error=True,
                    status_code=429)
    row = auth.authenticate(session, username.strip(), password)
    if row is None:
        limiter.fail(*keys)
        log.warning("console: failed login for %r", username[:64])
        return page(request, "login.html", None, next=_safe_next(next), error=True,
                    status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(auth.SESSION_COOKIE, auth.session_cookie(request, row), httponly=True,
                        samesite="lax", secure=request.url.scheme == "https",
                        max_age=auth.SESSION_MAX_AGE_S)
    return response


@router.post("/logout", dependencies=[Depends(auth.check_csrf)])
def logout():
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE)
    return response
