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

from csms.passwords import NotConnected
from csms.store.tables import ChargerCertificateRow, ChargerRow
from csms.web.deps import DB, Admin, Viewer
from csms.web.schemas import CertificateOut, CommandOut, PasswordChange

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
def certificates(session: DB, limit: int = 500):
    """Every charger certificate, soonest to expire first."""
    return session.exec(select(ChargerCertificateRow)
                        .order_by(ChargerCertificateRow.not_after)
                        .limit(max(1, min(limit, 5000)))).all()
