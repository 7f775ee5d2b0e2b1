"""/certificates and the charger page's security card: profile, connection, certificate state
and expiry, security events; an admin can send a new Basic password to a connected charger."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, Request

from csms.passwords import NotConnected
from csms.store.tables import ChargerRow
from csms.web.console import auth, security
from csms.web.console.i18n import translate
from csms.web.console.render import DB, CurrentUser, lang_of, page

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/certificates")
def certificates_page(request: Request, session: DB, user: CurrentUser):
    return page(request, "certificates.html", user, "certificates",
                certs=security.certificates(session), events=security.events(session))


def _card(request: Request, session, user, charger_id: str, **extra):
    row = session.get(ChargerRow, charger_id)
    if row is None:
        raise HTTPException(404, f"charger {charger_id!r} not found")
    certs = security.certificates(session, charger_id)
    newest = max(certs, key=lambda v: v.row.id) if certs else None
    profile = max(row.security_profile or 0, 1 if row.password_hash else 0)
    return page(request, "charger_security.html", user, "chargers", c=row, profile=profile,
                link=request.app.state.services.gateway.links.get(charger_id), cert=newest,
                events=security.events(session, charger_id, limit=20), **extra)


@router.get("/chargers/{charger_id}/security")
def charger_security(request: Request, charger_id: str, session: DB, user: CurrentUser):
    return _card(request, session, user, charger_id)


@router.post("/chargers/{charger_id}/password", dependencies=[Depends(auth.check_csrf)])
async def rotate_password(request: Request, charger_id: str, session: DB, user: CurrentUser):
    auth.require_role(user, "admin")
    message = error = None
    try:
        await request.app.state.services.passwords.rotate(charger_id)  # a random password
        message = translate(lang_of(request, user), "password_sent")
        log.info("%s: console user %s sent a new Basic password", charger_id, user.username)
    except NotConnected:
        error = f"charger {charger_id!r} is not connected"
    session.expire_all()
    return _card(request, session, user, charger_id, message=message, error=error)
