"""OCPP 1.6J adapter: charger-initiated messages -> domain events -> 1.6 responses."""

from __future__ import annotations

from ocpp.v16.enums import Action

from csms.domain import events as ev
from csms.domain.model import Authorization, AuthorizationStatus, MeterSample, Protocol
from csms.ocpp.common import (
    Adapter,
    format_time,
    in_base_unit,
    parse_time,
    sample_value,
    sampled_values,
)

KNOWN_ACTIONS = frozenset(a.value for a in Action)
_RECORDED = ("DiagnosticsStatusNotification", "FirmwareStatusNotification",
             "LogStatusNotification", "SignedFirmwareStatusNotification")


def id_tag_info(auth: Authorization | None) -> dict:
    if auth is None:
        return {"status": "Accepted"}
    status = auth.status
    if status is AuthorizationStatus.UNKNOWN:
        status = AuthorizationStatus.INVALID  # 1.6 has no Unknown
    info: dict = {"status": status.value}
    if auth.expiry is not None:
        info["expiryDate"] = format_time(auth.expiry)
    if auth.parent_id_token:
        info["parentIdTag"] = auth.parent_id_token
    return info


def samples(meter_values: list[dict], fallback) -> tuple[MeterSample, ...]:
    out = []
    for ts, sv in sampled_values(meter_values, fallback):
        if sv.get("format") == "SignedData":
            continue  # signed blobs carry no plain number; the raw frame is in the log
        value = sample_value(sv["value"])
        if value is None:
            continue
        value, unit = in_base_unit(value, sv.get("unit", "Wh"))
        out.append(MeterSample(
            ts, sv.get("measurand", "Energy.Active.Import.Register"), value,
            unit, sv.get("phase"), sv.get("location"), sv.get("context")))
    return tuple(out)


class V16Adapter(Adapter):
    version = Protocol.V16

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.routes = {
            "BootNotification": self.boot_notification, "Heartbeat": self.heartbeat,
            "StatusNotification": self.status_notification, "Authorize": self.authorize,
            "StartTransaction": self.start_transaction,
            "StopTransaction": self.stop_transaction, "MeterValues": self.meter_values,
            "DataTransfer": self.data_transfer,
            # The 1.6 security whitepaper's messages (schemas shipped with the ocpp package).
            "SecurityEventNotification": self.security_event,
            "SignCertificate": self.sign_certificate,
            # Status reports, including the 1.6 security extension's, are kept as records.
            **{action: self.notification(action) for action in _RECORDED},
        }

    async def boot_notification(self, p: dict) -> dict:
        now = self.now()
        result = await self.dispatch(ev.ChargerBooted(
            self.charger_id, now, p["chargePointVendor"], p["chargePointModel"],
            p.get("chargePointSerialNumber") or p.get("chargeBoxSerialNumber"),
            p.get("firmwareVersion")))
        return {"status": "Accepted" if result.accepted else "Rejected",
                "currentTime": format_time(now), "interval": result.interval_s}

    async def sign_certificate(self, p: dict) -> dict:
        return await self.sign_request(p["csr"], None)

    async def heartbeat(self, p: dict) -> dict:
        now = self.now()
        await self.dispatch(ev.HeartbeatReceived(self.charger_id, now))
        return {"currentTime": format_time(now)}

    async def status_notification(self, p: dict) -> dict:
        now = self.now()
        connector_id = p["connectorId"]
        await self.dispatch(ev.StatusReported(
            self.charger_id, now, connector_id, connector_id, p["status"],
            parse_time(p.get("timestamp")), p.get("errorCode")))
        return {}

    async def authorize(self, p: dict) -> dict:
        auth = await self.dispatch(ev.TokenPresented(self.charger_id, self.now(), p["idTag"]))
        return {"idTagInfo": id_tag_info(auth)}

    async def start_transaction(self, p: dict) -> dict:
        now = self.now()
        result = await self.dispatch(ev.SessionStarted(
            self.charger_id, now, p["connectorId"], p["connectorId"], p["idTag"],
            parse_time(p["timestamp"]), float(p["meterStart"])))
        return {"transactionId": result.session_id, "idTagInfo": id_tag_info(result.authorization)}

    async def stop_transaction(self, p: dict) -> dict:
        now = self.now()
        result = await self.dispatch(ev.SessionEnded(
            self.charger_id, now, str(p["transactionId"]), parse_time(p["timestamp"]),
            float(p["meterStop"]), p.get("reason", "Local"), id_token=p.get("idTag"),
            samples=samples(p.get("transactionData", []), now)))
        # StopTransaction is always confirmed (1.6 section 6.50); a foreign transaction gets
        # idTagInfo Invalid and changed nothing.
        if not result.owned:
            return {"idTagInfo": {"status": "Invalid"}}
        if p.get("idTag"):
            return {"idTagInfo": id_tag_info(result.authorization)}
        return {}

    async def meter_values(self, p: dict) -> dict:
        now = self.now()
        tx = p.get("transactionId")
        connector_id = p["connectorId"]
        await self.dispatch(ev.MeterValuesReported(
            self.charger_id, now, connector_id, connector_id,
            str(tx) if tx is not None else None, samples(p["meterValue"], now)))
        return {}
