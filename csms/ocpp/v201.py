"""OCPP 2.0.1 adapter: charger-initiated messages -> domain events -> 2.0.1 responses."""

from __future__ import annotations

from ocpp.v201.enums import Action

from csms.domain import events as ev
from csms.domain.model import Authorization, MeterSample, Protocol
from csms.ocpp import charging_needs
from csms.ocpp.common import (
    Adapter,
    format_time,
    in_base_unit,
    parse_time,
    sample_value,
    sampled_values,
)

KNOWN_ACTIONS = frozenset(a.value for a in Action)

# Charger-initiated messages we keep as records and acknowledge with an empty response.
_RECORDED = ("NotifyChargingLimit", "ReportChargingProfiles", "NotifyReport", "NotifyEvent",
             "FirmwareStatusNotification", "LogStatusNotification",
             "ClearedChargingLimit", "NotifyMonitoringReport", "NotifyCustomerInformation",
             "NotifyDisplayMessages", "PublishFirmwareStatusNotification")


def id_token_info(auth: Authorization | None) -> dict:
    info: dict = {"status": auth.status.value if auth else "Accepted"}
    if auth is not None and auth.expiry is not None:
        info["cacheExpiryDateTime"] = format_time(auth.expiry)
    if auth is not None and auth.parent_id_token:
        info["groupIdToken"] = {"idToken": auth.parent_id_token, "type": "Central"}
    return info


def samples(meter_values: list[dict], fallback) -> tuple[MeterSample, ...]:
    out = []
    for ts, sv in sampled_values(meter_values, fallback):
        unit = sv.get("unitOfMeasure") or {}
        value = sample_value(sv["value"], unit.get("multiplier", 0))
        if value is None:
            continue
        value, base = in_base_unit(value, unit.get("unit", "Wh"))
        out.append(MeterSample(
            ts, sv.get("measurand", "Energy.Active.Import.Register"), value,
            base, sv.get("phase"), sv.get("location"), sv.get("context")))
    return tuple(out)


def _register_wh(sample_list: tuple[MeterSample, ...]) -> float | None:
    values = [s.energy_wh for s in sample_list if s.energy_wh is not None]
    return values[-1] if values else None


class V201Adapter(Adapter):
    version = Protocol.V201

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.routes = {
            "BootNotification": self.boot_notification, "Heartbeat": self.heartbeat,
            "StatusNotification": self.status_notification, "Authorize": self.authorize,
            "TransactionEvent": self.transaction_event, "MeterValues": self.meter_values,
            "NotifyEVChargingNeeds": self.notify_ev_charging_needs,
            "DataTransfer": self.data_transfer,
            "SecurityEventNotification": self.security_event,
            "SignCertificate": self.sign_certificate,
            **{action: self.notification(action) for action in _RECORDED},
        }

    async def boot_notification(self, p: dict) -> dict:
        now = self.now()
        station = p["chargingStation"]
        result = await self.dispatch(ev.ChargerBooted(
            self.charger_id, now, station["vendorName"], station["model"],
            station.get("serialNumber"), station.get("firmwareVersion"), p.get("reason")))
        return {"currentTime": format_time(now), "interval": result.interval_s,
                "status": "Accepted" if result.accepted else "Rejected"}

    async def sign_certificate(self, p: dict) -> dict:
        return await self.sign_request(p["csr"], p.get("certificateType"))

    async def heartbeat(self, p: dict) -> dict:
        now = self.now()
        await self.dispatch(ev.HeartbeatReceived(self.charger_id, now))
        return {"currentTime": format_time(now)}

    async def status_notification(self, p: dict) -> dict:
        await self.dispatch(ev.StatusReported(
            self.charger_id, self.now(), p["evseId"], p["connectorId"], p["connectorStatus"],
            parse_time(p["timestamp"])))
        return {}

    async def authorize(self, p: dict) -> dict:
        token = p["idToken"]
        auth = await self.dispatch(ev.TokenPresented(self.charger_id, self.now(),
                                                     token["idToken"], token["type"]))
        return {"idTokenInfo": id_token_info(auth)}

    async def transaction_event(self, p: dict) -> dict:
        now = self.now()
        info = p["transactionInfo"]
        ref, seq_no, ts = info["transactionId"], p["seqNo"], parse_time(p["timestamp"])
        evse = p.get("evse") or {}
        token = (p.get("idToken") or {}).get("idToken")
        sample_list = samples(p.get("meterValue", []), ts)
        kind = p["eventType"]
        offline = bool(p.get("offline"))
        if kind == "Started":
            event = ev.SessionStarted(
                self.charger_id, now, evse.get("id", 0), evse.get("connectorId"), token, ts,
                _register_wh(sample_list), ref, seq_no, p["triggerReason"], sample_list,
                offline)
        elif kind == "Updated":
            event = ev.SessionUpdated(
                self.charger_id, now, ref, ts, seq_no, p["triggerReason"], evse.get("id"),
                evse.get("connectorId"), token, info.get("chargingState"), sample_list,
                offline)
        else:
            event = ev.SessionEnded(
                self.charger_id, now, ref, ts, _register_wh(sample_list),
                info.get("stoppedReason", "Local"), seq_no, token, evse.get("id"),
                evse.get("connectorId"), sample_list, offline)
        result = await self.dispatch(event)
        # TransactionEventResponse has no rejection: a foreign transaction is acknowledged,
        # changes nothing and was recorded as a security incident by the handler.
        if token and result.owned:
            return {"idTokenInfo": id_token_info(result.authorization)}
        return {}

    async def meter_values(self, p: dict) -> dict:
        now = self.now()
        await self.dispatch(ev.MeterValuesReported(
            self.charger_id, now, p["evseId"], None, None, samples(p["meterValue"], now)))
        return {}

    async def notify_ev_charging_needs(self, p: dict) -> dict:
        await self.dispatch(ev.ChargingNeedsReported(
            self.charger_id, self.now(), p["evseId"], charging_needs.parse(p)))
        return {"status": "Accepted"}
