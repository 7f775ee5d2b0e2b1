"""Charger certificate signing: SignCertificate in, CertificateSigned out (OCPP 1.6 security
whitepaper section 4.6 / use case "Update Charge Point certificate", 2.0.1 A02 and A03).

The charger sends a CSR; we answer Accepted only when the CA will sign it (valid signature, CN =
identity, key strong enough, O as required), then send CertificateSigned with the chain through
the command outbox, so it is recorded like any other command. The call is made after the
SignCertificate answer went out: the gateway never awaits a CALL to the charger inside the
handler of the charger's CALL (docs/architecture.md, "One outstanding CALL").
"""

from __future__ import annotations

import asyncio
import logging

from csms import clock
from csms.certificates import CertificateAuthority, CsrRejected
from csms.domain import events as ev
from csms.domain.model import Protocol
from csms.store.tables import ChargerCertificateRow

log = logging.getLogger(__name__)

CHARGER_CERTIFICATE = {Protocol.V16: "ChargePointCertificate"}  # 2.0.1 and 2.1 name it differently
DEFAULT_CERTIFICATE = "ChargingStationCertificate"


def _set_state(session, certificate_id: int, state: str, now) -> None:
    row = session.get(ChargerCertificateRow, certificate_id)
    if row is not None:
        row.state, row.updated_at = state, now


class CertificateDesk:
    def __init__(self, ca: CertificateAuthority | None, dispatch, commands, worker,
                 require_org: str | None = None) -> None:
        self.ca, self.dispatch, self.commands, self.worker = ca, dispatch, commands, worker
        self.require_org = require_org
        self._tasks: set[asyncio.Task] = set()

    async def request(self, charger_id: str, version: str, csr: str,
                      certificate_type: str | None) -> bool:
        kind = certificate_type or CHARGER_CERTIFICATE.get(version, DEFAULT_CERTIFICATE)
        now = clock.now()
        try:
            if self.ca is None:
                raise CsrRejected("no CA configured (csms serve --ca-cert/--ca-key)")
            if kind == "V2GCertificate":
                raise CsrRejected("V2G certificates are signed by the V2G PKI, not this CA")
            # Validity is checked by peers against their own clocks: real time, not demo time.
            signed = self.ca.sign_csr(csr, charger_id, clock.wall_now(), self.require_org)
        except CsrRejected as exc:
            await self.dispatch(ev.ChargerNotified(charger_id, now, "SignCertificate", {
                "certificateType": kind, "status": "Rejected", "reason": str(exc)}))
            if self.ca is not None:
                await self.dispatch(ev.SecurityIncident(charger_id, now, "csr_rejected",
                                                        str(exc)))
            return False
        info = signed.info
        certificate_id = await self.dispatch(ev.CertificateIssued(
            charger_id, now, kind, signed.chain_pem, info.sha256_hex, info.subject, info.issuer,
            info.serial_hex, info.not_before, info.not_after))
        await self.dispatch(ev.ChargerNotified(charger_id, now, "SignCertificate", {
            "certificateType": kind, "status": "Accepted", "serial": info.serial_hex}))
        log.info("%s: CSR signed (serial %s, valid until %s)", charger_id, info.serial_hex,
                 info.not_after.isoformat())
        task = asyncio.create_task(self._deliver(charger_id, version, kind, signed.chain_pem,
                                                 certificate_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _deliver(self, charger_id: str, version: str, kind: str, chain_pem: str,
                       certificate_id: int) -> None:
        await asyncio.sleep(0)  # the SignCertificate answer goes out first
        payload = {"certificateChain": chain_pem}
        if version != Protocol.V16:
            payload["certificateType"] = kind
        row = await self.commands.submit(charger_id, "CertificateSigned", payload,
                                         source="certificates", wait=True)
        state = {"accepted": "accepted", "rejected": "rejected", "offline": "unconfirmed",
                 "timeout": "unconfirmed"}.get(row.state, "error")
        await self.worker.run(_set_state, certificate_id, state, clock.now())
        log.info("%s: CertificateSigned -> %s", charger_id, row.state)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
