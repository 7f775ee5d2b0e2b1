"""Charger security through the API: password rotation and certificates.

``POST /chargers/{id}/password`` sends a new Basic-auth password to a connected charger (1.6
ChangeConfiguration AuthorizationKey, 2.0.1 SetVariables SecurityCtrlr.BasicAuthPassword); the
old one is accepted until the charger confirms. Certificate messages themselves (InstallCertificate,
DeleteCertificate, GetInstalledCertificateIds, ExtendedTriggerMessage / TriggerMessage for
SignChargePointCertificate / SignChargingStationCertificate) go through the command API.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from sqlmodel import select

from csms.domain.commands import CommandError
from csms.ocpp.commands import OUTGOING, password_of
from csms.passwords import NotConnected
from csms.store.tables import ChargerCertificateRow, ChargerRow
from csms.web.bounds import Limit
from csms.web.deps import DB, Admin, Viewer
from csms.web.schemas import CertificateOut, ChargerOut, CommandOut, PasswordChange

router = APIRouter(prefix="/api/v1", tags=["security"])


@router.post("/chargers/{charger_id}/password", response_model=CommandOut, status_code=202,
             dependencies=[Admin])
async def change_password(request: Request, charger_id: str, body: PasswordChange):
    services = request.app.state.services
    exists = await services.worker.run(lambda s: s.get(ChargerRow, charger_id) is not None)
    if not exists:
        raise HTTPException(404, f"charger {charger_id!r} not found")
    try:
        return await services.passwords.rotate(charger_id, body.password)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    except NotConnected:
        raise HTTPException(409, f"charger {charger_id!r} is not connected; a password is "
                                 "changed on a connected charger") from None


@router.get("/chargers/{charger_id}/certificates", response_model=list[CertificateOut],
            dependencies=[Viewer])
def charger_certificates(charger_id: str, session: DB):
    if session.get(ChargerRow, charger_id) is None:
        raise HTTPException(404, f"charger {charger_id!r} not found")
    return session.exec(select(ChargerCertificateRow)
                        .where(ChargerCertificateRow.charger_id == charger_id)
                        .order_by(ChargerCertificateRow.id.desc())).all()


@router.get("/certificates", response_model=list[CertificateOut], dependencies=[Viewer])
def certificates(session: DB, limit: Limit = 500):
    """Every charger certificate, soonest to expire first."""
    return session.exec(select(ChargerCertificateRow)
                        .order_by(ChargerCertificateRow.not_after)
                        .limit(max(1, min(limit, 5000)))).all()


# -- used by /chargers (csms/web/api_chargers.py) ----------------------------------------------
def latest_certificates(session, charger_ids: list[str]) -> dict[str, ChargerCertificateRow]:
    """The newest certificate row of each charger."""
    out: dict[str, ChargerCertificateRow] = {}
    if not charger_ids:
        return out
    rows = session.exec(select(ChargerCertificateRow)
                        .where(ChargerCertificateRow.charger_id.in_(charger_ids))
                        .order_by(ChargerCertificateRow.id))
    for row in rows:
        out[row.charger_id] = row
    return out


def secured(request: Request, out: ChargerOut, row: ChargerRow,
            certificate: ChargerCertificateRow | None) -> ChargerOut:
    link = request.app.state.services.gateway.links.get(row.id)
    return out.model_copy(update={
        # A password always means at least Basic auth (rows from before profiles).
        "security_profile": max(row.security_profile or 0, 1 if row.password_hash else 0),
        "password_pending": row.password_pending_hash is not None,
        "connected_tls": link.tls if link else None,
        "certificate": CertificateOut(**certificate.model_dump()) if certificate else None})


async def password_command(request: Request, charger_id: str, action: str, params: dict):
    """A raw password-setting command (the command API) run as a password rotation."""
    from csms.store.tokens import role_of

    services = request.app.state.services
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    if await services.worker.run(role_of, token) != "admin":
        raise HTTPException(403, "changing a charger's password needs the admin role")
    protocol = services.gateway.protocol(charger_id)
    if protocol is not None and action not in OUTGOING.get(protocol, ()):
        raise HTTPException(422, f"{action} is not an OCPP {protocol} action")
    try:
        return await services.passwords.rotate(charger_id, password_of(action, params))
    except (CommandError, ValueError) as exc:
        raise HTTPException(422, str(exc)) from None
    except NotConnected:  # recorded like any command to an offline charger
        return await services.passwords.record_offline(charger_id, action, params)
