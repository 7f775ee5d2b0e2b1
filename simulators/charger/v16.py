"""OCPP 1.6J charger: the ``ocpp.v16`` charge-point side over the neutral ``SimCharger``."""

from __future__ import annotations

import asyncio
import logging

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result

from simulators.charger.base import WIRE_LOG, SimCharger
from simulators.charger.link import OutMsg
from simulators.charger.model import Evse, Tx, readings
from simulators.clock import iso
from simulators.smart.profiles import from_v16

log = logging.getLogger(__name__)
_CONFIG_RO = {"NumberOfConnectors", "ChargeProfileMaxStackLevel", "MaxChargingProfilesInstalled",
              "ChargingScheduleMaxPeriods", "ChargingScheduleAllowedChargingRateUnit",
              "SupportedFeatureProfiles", "ConnectorPhaseRotation"}
_UNITS = {"Current": ("A",), "Power": ("W",), "Current,Power": ("A", "W")}


def sampled_values(evse: Evse, context: str) -> list[dict]:
    """The meter's readings as 1.6 sampledValue (values are strings)."""
    out = []
    for r in readings(evse, context):
        value = str(int(r.value)) if r.unit == "Wh" else f"{r.value:.1f}"
        sv = {"value": value, "context": context, "measurand": r.measurand, "unit": r.unit}
        if r.phase:
            sv["phase"] = r.phase
        if r.location:
            sv["location"] = r.location
        out.append(sv)
    return out


class CP16(ChargePoint):
    """Routes CSMS requests to the simulator."""

    sim: Charger16

    async def _slow(self) -> None:
        if self.sim.faults.answer_delay_s:
            await asyncio.sleep(self.sim.faults.answer_delay_s)

    @on("RemoteStartTransaction")
    async def remote_start(self, id_tag, connector_id=None, charging_profile=None, **_):
        await self._slow()
        evse = self.sim.remote_start_target(connector_id)
        if evse is None or (charging_profile is not None
                            and charging_profile["charging_profile_purpose"] != "TxProfile"):
            return call_result.RemoteStartTransaction(status="Rejected")
        evse.pending_profile = charging_profile
        self.sim.remote_start(evse, id_tag)
        return call_result.RemoteStartTransaction(status="Accepted")

    @on("RemoteStopTransaction")
    async def remote_stop(self, transaction_id, **_):
        await self._slow()
        for evse in self.sim.evses:
            if evse.tx is not None and evse.tx.csms_id == str(transaction_id):
                self.sim.request_stop(evse, "Remote")
                return call_result.RemoteStopTransaction(status="Accepted")
        return call_result.RemoteStopTransaction(status="Rejected")

    @on("SetChargingProfile")
    async def set_profile(self, connector_id, cs_charging_profiles, **_):
        await self._slow()
        profile = from_v16(connector_id, cs_charging_profiles, self.sim.local.now())
        ok, reason = self.sim.install_profile(profile)
        if not ok:
            log.info("%s: SetChargingProfile %s rejected: %s", self.sim.id, profile.id, reason)
            return call_result.SetChargingProfile(status="Rejected")
        return call_result.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    async def clear_profile(self, id=None, connector_id=None, charging_profile_purpose=None,
                            stack_level=None, **_):
        await self._slow()
        from simulators.smart.profiles import _PURPOSE_IN

        purpose = _PURPOSE_IN.get(charging_profile_purpose) if charging_profile_purpose else None
        n = self.sim.clear_profiles(id, connector_id, purpose, stack_level)
        return call_result.ClearChargingProfile(status="Accepted" if n else "Unknown")

    @on("GetCompositeSchedule")
    async def composite(self, connector_id, duration, charging_rate_unit=None, **_):
        await self._slow()
        if connector_id > len(self.sim.evses) or connector_id < 0:
            return call_result.GetCompositeSchedule(status="Rejected")
        unit = charging_rate_unit or ("A" if self.sim.type.kind == "AC" else "W")
        if unit not in self.sim.store.rules.allowed_units:
            return call_result.GetCompositeSchedule(status="Rejected")
        start = self.sim.local.now().replace(microsecond=0)
        periods = self.sim.composite_periods(connector_id, start, duration, unit)
        schedule = {"duration": duration, "start_schedule": iso(start), "charging_rate_unit": unit,
                    "charging_schedule_period": [{"start_period": o, "limit": v, "number_phases": n}
                                                 for o, v, n in periods]}
        return call_result.GetCompositeSchedule(status="Accepted", connector_id=connector_id,
                                                schedule_start=iso(start),
                                                charging_schedule=schedule)

    @on("GetConfiguration")
    async def get_configuration(self, key=None, **_):
        await self._slow()
        conf = self.sim.configuration()
        wanted = key or list(conf)
        known = [{"key": k, "readonly": k in _CONFIG_RO, "value": conf[k]} for k in wanted if k in conf]
        unknown = [k for k in wanted if k not in conf]
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on("ChangeConfiguration")
    async def change_configuration(self, key, value, **_):
        await self._slow()
        return call_result.ChangeConfiguration(status=self.sim.change_configuration(key, value))

    @on("Reset")
    async def reset(self, type, **_):
        await self._slow()
        self.sim.spawn(self.sim.reset("HardReset" if type == "Hard" else "SoftReset"))
        return call_result.Reset(status="Accepted")

    @on("UnlockConnector")
    async def unlock(self, connector_id, **_):
        await self._slow()
        if not 1 <= connector_id <= len(self.sim.evses):
            return call_result.UnlockConnector(status="NotSupported")
        evse = self.sim.evses[connector_id - 1]
        if evse.tx is not None:
            self.sim.request_stop(evse, "UnlockCommand")
        return call_result.UnlockConnector(status="Unlocked")

    @on("ChangeAvailability")
    async def change_availability(self, connector_id, type, **_):
        await self._slow()
        return call_result.ChangeAvailability(
            status=self.sim.change_availability(connector_id, type == "Operative"))

    @on("TriggerMessage")
    async def trigger(self, requested_message, connector_id=None, **_):
        await self._slow()
        ok = self.sim.trigger(requested_message, connector_id)
        return call_result.TriggerMessage(status="Accepted" if ok else "NotImplemented")

    @on("DataTransfer")
    async def data_transfer(self, vendor_id, **_):
        return call_result.DataTransfer(status="UnknownVendorId")


class Charger16(SimCharger):
    calls = call
    protocol = "1.6"
    subprotocol = "ocpp1.6"

    def make_cp(self, ws):
        cp = CP16(self.id, ws, response_timeout=30, logger=WIRE_LOG)
        cp.sim = self
        return cp

    def configuration(self) -> dict[str, str]:
        units = {v: k for k, v in _UNITS.items()}[self.store.rules.allowed_units]
        return {
            "HeartbeatInterval": str(int(self.heartbeat_interval_s)),
            "MeterValueSampleInterval": str(int(self.meter_interval_s)),
            "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import,"
                                      "Current.Import,Voltage" + (",SoC" if self.type.kind == "DC" else ""),
            "NumberOfConnectors": str(len(self.evses)),
            "ChargeProfileMaxStackLevel": str(self.store.rules.max_stack_level),
            "MaxChargingProfilesInstalled": str(self.store.rules.max_profiles),
            "ChargingScheduleMaxPeriods": str(self.store.rules.max_periods),
            "ChargingScheduleAllowedChargingRateUnit": units,
            "SupportedFeatureProfiles": "Core,SmartCharging,RemoteTrigger",
            # 1.6 section 9.1: per connector; NotApplicable for one-phase and DC chargers.
            "ConnectorPhaseRotation": ",".join(
                f"{e.id}.{self.phase_rotation if self.type.kind == 'AC' and self.type.phases == 3 else 'NotApplicable'}"
                for e in self.evses),
            "AuthorizeRemoteTxRequests": "false",
            "LocalAuthorizeOffline": "true",
        }

    def change_configuration(self, key: str, value: str) -> str:
        if key not in self.configuration():
            return "NotSupported"
        if key in _CONFIG_RO:
            return "Rejected"
        try:
            if key == "HeartbeatInterval":
                self.heartbeat_interval_s = float(value)
            elif key == "MeterValueSampleInterval":
                self.meter_interval_s = float(value)
        except ValueError:
            return "Rejected"
        return "Accepted"

    def boot_call(self):
        return call.BootNotification(
            charge_point_vendor="csms-sim", charge_point_model=f"sim-{self.type.name}",
            charge_point_serial_number=self.id, firmware_version="1.0")

    def authorize_call(self, id_tag: str):
        return call.Authorize(id_tag=id_tag)

    def authorization_status(self, resp) -> str:
        return resp.id_tag_info["status"]

    def on_status(self, evse: Evse, old: str) -> None:
        ts = iso(self.local.now())
        status = evse.status
        self.send(OutMsg(lambda: call.StatusNotification(
            connector_id=evse.id, error_code="NoError", status=status, timestamp=ts)))

    def on_tx_started(self, evse: Evse) -> None:
        tx = evse.tx

        def started(resp) -> None:
            tx.csms_id = str(resp.transaction_id)
            self._ledger(tx).remote_tx_id = tx.csms_id
            if evse.tx is tx:
                self.install_pending_profile(evse, from_v16)
            if resp.id_tag_info["status"] != "Accepted" and evse.tx is tx:
                self.request_stop(evse, "DeAuthorized")
        self.send(OutMsg(lambda: call.StartTransaction(
            connector_id=evse.id, id_tag=tx.id_tag, meter_start=tx.meter_start_wh,
            timestamp=iso(tx.started_at)), started, transactional=True))

    def on_meter(self, evse: Evse) -> None:
        tx = evse.tx
        ts = iso(self.local.now())
        values = sampled_values(evse, "Sample.Periodic")

        def build():
            if tx is not None and tx.csms_id is None:
                return None  # the start never got a transaction id: nothing to attach to
            return call.MeterValues(connector_id=evse.id, transaction_id=
                                    int(tx.csms_id) if tx else None,
                                    meter_value=[{"timestamp": ts, "sampled_value": values}])
        self.send(OutMsg(build, transactional=tx is not None))

    def on_tx_ended(self, evse: Evse, tx: Tx) -> None:
        values = sampled_values(evse, "Transaction.End")

        def build():
            if tx.csms_id is None:
                log.warning("%s: StopTransaction for %s dropped: start was never accepted",
                            self.id, tx.local_id)
                return None
            return call.StopTransaction(
                meter_stop=tx.meter_stop_wh, timestamp=iso(tx.stopped_at),
                transaction_id=int(tx.csms_id), reason=tx.stop_reason, id_tag=tx.id_tag,
                transaction_data=[{"timestamp": iso(tx.stopped_at), "sampled_value": values}])
        self.send(OutMsg(build, transactional=True))

    # -- requests from the CSMS ---------------------------------------------------------------
    def trigger(self, message: str, connector_id: int | None) -> bool:
        evses = [e for e in self.evses if not connector_id or e.id == connector_id]
        if message == "Heartbeat":
            self.send(self.heartbeat_msg())
        elif message == "StatusNotification":
            for e in evses:
                self.on_status(e, e.status)
        elif message == "MeterValues":
            for e in evses:
                self.on_meter(e)
        elif message == "BootNotification":
            self.spawn(self.boot())
        else:
            return False
        return True

    async def reset(self, reason: str) -> None:
        await asyncio.sleep(0.05)  # let the answer leave first
        for evse in self.evses:
            if evse.tx is not None:
                self.request_stop(evse, reason)
        await asyncio.sleep(0.05)
        self.drop_link(0.2)

