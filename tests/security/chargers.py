"""Test chargers (the ``ocpp`` library's charge-point side) that answer the security messages
and keep what they received, for 1.6 (security whitepaper) and 2.0.1."""

from __future__ import annotations

import asyncio

from ocpp.routing import on
from ocpp.v16 import ChargePoint as CP16
from ocpp.v16 import call_result as r16
from ocpp.v201 import ChargePoint as CP201
from ocpp.v201 import call_result as r201

HASH = {"hash_algorithm": "SHA256", "issuer_name_hash": "a" * 64,
        "issuer_key_hash": "b" * 64, "serial_number": "1f"}


class _Recorder:
    def _setup(self) -> None:
        self.received: asyncio.Queue = asyncio.Queue()
        self.password_status = "Accepted"  # answer to the password change

    async def next(self, action: str, timeout_s: float = 5.0) -> dict:
        while True:
            got_action, payload = await asyncio.wait_for(self.received.get(), timeout_s)
            if got_action == action:
                return payload


class SecureCharger16(CP16, _Recorder):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._setup()

    @on("CertificateSigned")
    async def certificate_signed(self, certificate_chain: str, **_):
        self.received.put_nowait(("CertificateSigned", {"certificate_chain": certificate_chain}))
        return r16.CertificateSigned(status="Accepted")

    @on("InstallCertificate")
    async def install_certificate(self, certificate_type, certificate, **_):
        self.received.put_nowait(("InstallCertificate", {"certificate_type": certificate_type}))
        return r16.InstallCertificate(status="Accepted")

    @on("DeleteCertificate")
    async def delete_certificate(self, certificate_hash_data, **_):
        self.received.put_nowait(("DeleteCertificate", certificate_hash_data))
        return r16.DeleteCertificate(status="Accepted")

    @on("GetInstalledCertificateIds")
    async def get_installed(self, certificate_type, **_):
        self.received.put_nowait(("GetInstalledCertificateIds", {}))
        return r16.GetInstalledCertificateIds(status="Accepted", certificate_hash_data=[HASH])

    @on("ExtendedTriggerMessage")
    async def extended_trigger(self, requested_message, **_):
        self.received.put_nowait(("ExtendedTriggerMessage", {"message": requested_message}))
        return r16.ExtendedTriggerMessage(status="Accepted")

    @on("ChangeConfiguration")
    async def change_configuration(self, key, value, **_):
        self.received.put_nowait(("ChangeConfiguration", {"key": key, "value": value}))
        return r16.ChangeConfiguration(status=self.password_status)


class SecureCharger201(CP201, _Recorder):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._setup()

    @on("CertificateSigned")
    async def certificate_signed(self, certificate_chain: str, **kwargs):
        self.received.put_nowait(("CertificateSigned", {"certificate_chain": certificate_chain,
                                                        **kwargs}))
        return r201.CertificateSigned(status="Accepted")

    @on("InstallCertificate")
    async def install_certificate(self, certificate_type, certificate, **_):
        self.received.put_nowait(("InstallCertificate", {"certificate_type": certificate_type}))
        return r201.InstallCertificate(status="Accepted")

    @on("DeleteCertificate")
    async def delete_certificate(self, certificate_hash_data, **_):
        self.received.put_nowait(("DeleteCertificate", certificate_hash_data))
        return r201.DeleteCertificate(status="Accepted")

    @on("GetInstalledCertificateIds")
    async def get_installed(self, **_):
        self.received.put_nowait(("GetInstalledCertificateIds", {}))
        return r201.GetInstalledCertificateIds(status="Accepted", certificate_hash_data_chain=[
            {"certificate_type": "CSMSRootCertificate", "certificate_hash_data": HASH}])

    @on("TriggerMessage")
    async def trigger(self, requested_message, **_):
        self.received.put_nowait(("TriggerMessage", {"message": requested_message}))
        return r201.TriggerMessage(status="Accepted")

    @on("SetVariables")
    async def set_variables(self, set_variable_data, **_):
        self.received.put_nowait(("SetVariables", {"data": set_variable_data}))
        return r201.SetVariables(set_variable_result=[{
            "attribute_status": self.password_status,
            "component": d["component"], "variable": d["variable"]}
            for d in set_variable_data])


CHARGERS = {"1.6": SecureCharger16, "2.0.1": SecureCharger201}
