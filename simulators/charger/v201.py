"""OCPP 2.0.1 charger: the ``ocpp.v201`` charge-point side over the neutral ``SimCharger``.

Transactions start when the EV is connected and the driver authorized (TxStartPoint
PowerPathClosed); charging-state changes and periodic meter values go in TransactionEvent
Updated; ISO 15118 EVs announce departure time and energy with NotifyEVChargingNeeds.
"""

from __future__ import annotations

import asyncio
import logging

from ocpp.routing import on
from ocpp.v201 import ChargePoint, call, call_result

from simulators.charger.base import WIRE_LOG, SimCharger
from simulators.charger.link import OutMsg
from simulators.charger.model import AVAILABLE, FAULTED, UNAVAILABLE, Evse, Tx, readings
from simulators.clock import iso
from simulators.smart.profiles import _PURPOSE_IN, from_v201

log = logging.getLogger(__name__)
_CONNECTOR = {AVAILABLE: "Available", UNAVAILABLE: "Unavailable", FAULTED: "Faulted"}
_STOP = {"EVDisconnected": ("EVDisconnected", "EVCommunicationLost"),
         "Remote": ("Remote", "RemoteStop"), "Local": ("Local", "StopAuthorized"),
         "PowerLoss": ("PowerLoss", "AbnormalCondition"), "Reboot": ("Reboot", "ResetCommand"),
         "HardReset": ("ImmediateReset", "ResetCommand"),
         "SoftReset": ("ImmediateReset", "ResetCommand"),
         "UnlockCommand": ("Other", "UnlockCommand"), "DeAuthorized": ("DeAuthorized", "Deauthorized"),
         "Other": ("Other", "AbnormalCondition")}
_CHARGING_STATE = {"Charging": "Charging", "SuspendedEV": "SuspendedEV",
                   "SuspendedEVSE": "SuspendedEVSE", "Preparing": "EVConnected",
                   "Finishing": "EVConnected"}


def connector_status(status: str) -> str:
    return _CONNECTOR.get(status, "Occupied")


def meter_value(evse: Evse, ts: str, context: str) -> dict:
    """The meter's readings as one 2.0.1 MeterValue (numbers with a unitOfMeasure)."""
    values = []
    for r in readings(evse, context):
        sv = {"value": int(r.value) if r.unit == "Wh" else r.value, "context": context,
              "measurand": r.measurand, "unit_of_measure": {"unit": r.unit}}
        if r.phase:
            sv["phase"] = r.phase
        if r.location:
            sv["location"] = r.location
        values.append(sv)
    return {"timestamp": ts, "sampled_value": values}


class CP201(ChargePoint):
    sim: Charger201

    async def _slow(self) -> None:
        if self.sim.faults.answer_delay_s:
            await asyncio.sleep(self.sim.faults.answer_delay_s)

    @on("RequestStartTransaction")
    async def request_start(self, id_token, remote_start_id, evse_id=None, charging_profile=None,
                            **_):
        await self._slow()
        evse = self.sim.remote_start_target(evse_id)
        if evse is None or (charging_profile is not None
                            and charging_profile["charging_profile_purpose"] != "TxProfile"):
            return call_result.RequestStartTransaction(status="Rejected")
        evse.pending_profile = charging_profile
        self.sim.remote_start(evse, id_token["id_token"])
        return call_result.RequestStartTransaction(status="Accepted")

    @on("RequestStopTransaction")
    async def request_stop(self, transaction_id, **_):
        await self._slow()
        for evse in self.sim.evses:
            if evse.tx is not None and evse.tx.csms_id == transaction_id:
                self.sim.request_stop(evse, "Remote")
                return call_result.RequestStopTransaction(status="Accepted")
        return call_result.RequestStopTransaction(status="Rejected")

    @on("SetChargingProfile")
    async def set_profile(self, evse_id, charging_profile, **_):
        await self._slow()
        profile = from_v201(evse_id, charging_profile, self.sim.local.now())
        ok, reason = self.sim.install_profile(profile)
        if not ok:
            log.info("%s: SetChargingProfile %s rejected: %s", self.sim.id, profile.id, reason)
            return call_result.SetChargingProfile(status="Rejected",
                                                  status_info={"reason_code": reason})
        return call_result.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    async def clear_profile(self, charging_profile_id=None, charging_profile_criteria=None, **_):
        await self._slow()
        c = charging_profile_criteria or {}
        purpose = c.get("charging_profile_purpose")
        n = self.sim.clear_profiles(charging_profile_id, c.get("evse_id"),
                                    _PURPOSE_IN.get(purpose) if purpose else None,
                                    c.get("stack_level"))
        return call_result.ClearChargingProfile(status="Accepted" if n else "Unknown")

    @on("GetChargingProfiles")
    async def get_profiles(self, request_id, charging_profile, evse_id=None, **_):
        await self._slow()
        purpose = charging_profile.get("charging_profile_purpose")
        found = self.sim.store.select(charging_profile.get("charging_profile_id"), evse_id,
                                      _PURPOSE_IN.get(purpose) if purpose else None,
                                      charging_profile.get("stack_level"))
        if not found:
            return call_result.GetChargingProfiles(status="NoProfiles")
        by_evse: dict[int, list] = {}
        for p in found:
            by_evse.setdefault(p.evse_id, []).append(p.raw)
        items = list(by_evse.items())
        for i, (eid, raws) in enumerate(items):
            report = call.ReportChargingProfiles(
                request_id=request_id, charging_limit_source="CSO", evse_id=eid,
                charging_profile=raws, tbc=True if i < len(items) - 1 else None)
            self.sim.send_after_answer(OutMsg(lambda report=report: report))
        return call_result.GetChargingProfiles(status="Accepted")

    @on("GetCompositeSchedule")
    async def composite(self, duration, evse_id, charging_rate_unit=None, **_):
        await self._slow()
        unit = charging_rate_unit or ("A" if self.sim.type.kind == "AC" else "W")
        if evse_id > len(self.sim.evses) or evse_id < 0 or \
                unit not in self.sim.store.rules.allowed_units:
            return call_result.GetCompositeSchedule(status="Rejected")
        start = self.sim.local.now().replace(microsecond=0)
        periods = self.sim.composite_periods(evse_id, start, duration, unit)
        schedule = {"evse_id": evse_id, "duration": duration, "schedule_start": iso(start),
                    "charging_rate_unit": unit,
                    "charging_schedule_period": [{"start_period": o, "limit": v, "number_phases": n}
                                                 for o, v, n in periods]}
        return call_result.GetCompositeSchedule(status="Accepted", schedule=schedule)

    @on("GetVariables")
    async def get_variables(self, get_variable_data, **_):
        await self._slow()
        return call_result.GetVariables(
            get_variable_result=[self.sim.get_variable(d) for d in get_variable_data])

    @on("SetVariables")
    async def set_variables(self, set_variable_data, **_):
        await self._slow()
        return call_result.SetVariables(
            set_variable_result=[self.sim.set_variable(d) for d in set_variable_data])

    @on("Reset")
    async def reset(self, type, evse_id=None, **_):
        await self._slow()
        busy = any(e.tx for e in self.sim.evses)
        if type == "OnIdle" and busy:
            return call_result.Reset(status="Scheduled")
        self.sim.spawn(self.sim.reset("HardReset"))
        return call_result.Reset(status="Accepted")

    @on("UnlockConnector")
    async def unlock(self, evse_id, connector_id, **_):
        await self._slow()
        if not 1 <= evse_id <= len(self.sim.evses) or connector_id != 1:
            return call_result.UnlockConnector(status="UnknownConnector")
        evse = self.sim.evses[evse_id - 1]
        if evse.tx is not None:
            return call_result.UnlockConnector(status="OngoingAuthorizedTransaction")
        return call_result.UnlockConnector(status="Unlocked")

    @on("ChangeAvailability")
    async def change_availability(self, operational_status, evse=None, **_):
        await self._slow()
        evse_id = (evse or {}).get("id", 0)
        return call_result.ChangeAvailability(
            status=self.sim.change_availability(evse_id, operational_status == "Operative"))

    @on("TriggerMessage")
    async def trigger(self, requested_message, evse=None, **_):
        await self._slow()
        ok = self.sim.trigger(requested_message, (evse or {}).get("id"))
        return call_result.TriggerMessage(status="Accepted" if ok else "NotImplemented")

    @on("DataTransfer")
    async def data_transfer(self, vendor_id, **_):
        return call_result.DataTransfer(status="UnknownVendorId")


# (component, variable) -> (attribute on the charger or a constant, read-only)
_VARIABLES = {
    ("OCPPCommCtrlr", "HeartbeatInterval"): ("heartbeat_interval_s", False),
    ("SampledDataCtrlr", "TxUpdatedInterval"): ("meter_interval_s", False),
    ("SmartChargingCtrlr", "Enabled"): ("true", True),
    ("SmartChargingCtrlr", "ProfileStackLevel"): ("rules.max_stack_level", True),
    ("SmartChargingCtrlr", "PeriodsPerSchedule"): ("rules.max_periods", True),
    ("SmartChargingCtrlr", "Entries"): ("rules.max_profiles", True),
    ("SmartChargingCtrlr", "RateUnit"): ("rules.allowed_units", True),
    ("AuthCtrlr", "LocalAuthorizeOffline"): ("true", True),
    ("TxCtrlr", "TxStartPoint"): ("PowerPathClosed", True),
    ("TxCtrlr", "TxStopPoint"): ("EVConnected,Authorized", True),
}


class Charger201(SimCharger):
    calls = call
    protocol = "2.0.1"
    subprotocol = "ocpp2.0.1"

    def make_cp(self, ws):
        cp = CP201(self.id, ws, response_timeout=30, logger=WIRE_LOG)
        cp.sim = self
        return cp

    def _variable(self, key: tuple[str, str]) -> str:
        source, _ = _VARIABLES[key]
        if source.startswith("rules."):
            v = getattr(self.store.rules, source[6:])
            return ",".join(v) if isinstance(v, tuple) else str(v)
        if hasattr(self, source):
            return str(int(getattr(self, source)))
        return source

    def device_model(self, component: dict, variable: str, attribute: str) -> str | None:
        """EVSE and Connector variables of the device model (2.0.1 part 2, appendix 3: EVSE
        ``Power`` - its maxLimit, read here as MaxSet - ``SupplyPhases``, 0 for DC, and
        ``PhaseRotation``; Connector ``ConnectorType``), or None when the charger has no such
        value."""
        evse_id = (component.get("evse") or {}).get("id")
        if evse_id is None or not 1 <= evse_id <= len(self.evses):
            return None
        evse = self.evses[evse_id - 1]
        dc = self.type.kind == "DC"
        if component["name"] == "EVSE":
            if variable == "Power":
                if attribute == "MaxSet":
                    return f"{self.type.max_power_w:.0f}"
                if attribute == "Actual":
                    return f"{max(0.0, evse.power_w):.0f}"
            if variable == "SupplyPhases" and attribute == "Actual":
                return "0" if dc else str(self.type.phases)
            if variable == "PhaseRotation" and attribute == "Actual" and not dc:
                # R, S, T: the grid's L1, L2, L3; x: a phase not connected ("Sxx": on L2).
                rotation = self.phase_rotation
                return rotation if self.type.phases == 3 else rotation[0] + "xx"
        if component["name"] == "Connector" and variable == "ConnectorType" \
                and attribute == "Actual":
            return "cCCS2" if dc else "sType2"
        return None

    def get_variable(self, d: dict) -> dict:
        key = (d["component"]["name"], d["variable"]["name"])
        out = {"component": d["component"], "variable": d["variable"]}
        attribute = d.get("attribute_type", "Actual")
        if key[0] in ("EVSE", "Connector"):
            value = self.device_model(d["component"], key[1], attribute)
            if value is None:
                return {**out, "attribute_status": "UnknownVariable"}
            return {**out, "attribute_status": "Accepted", "attribute_value": value,
                    **({"attribute_type": attribute} if attribute != "Actual" else {})}
        if attribute != "Actual":
            return {**out, "attribute_status": "NotSupportedAttributeType"}
        if key not in _VARIABLES:
            known = {c for c, _ in _VARIABLES}
            return {**out, "attribute_status": "UnknownVariable" if key[0] in known
                    else "UnknownComponent"}
        return {**out, "attribute_status": "Accepted", "attribute_value": self._variable(key)}

    def set_variable(self, d: dict) -> dict:
        key = (d["component"]["name"], d["variable"]["name"])
        out = {"component": d["component"], "variable": d["variable"]}
        if key not in _VARIABLES:
            known = {c for c, _ in _VARIABLES}
            return {**out, "attribute_status": "UnknownVariable" if key[0] in known
                    else "UnknownComponent"}
        source, readonly = _VARIABLES[key]
        if readonly:
            return {**out, "attribute_status": "Rejected"}
        try:
            setattr(self, source, float(d["attribute_value"]))
        except ValueError:
            return {**out, "attribute_status": "Rejected"}
        return {**out, "attribute_status": "Accepted"}

    def boot_call(self):
        return call.BootNotification(
            charging_station={"model": f"sim-{self.type.name}", "vendor_name": "csms-sim",
                              "serial_number": self.id, "firmware_version": "1.0"},
            reason=self._boot_reason)

    def authorize_call(self, id_tag: str):
        return call.Authorize(id_token={"id_token": id_tag, "type": "ISO14443"})

    def authorization_status(self, resp) -> str:
        return resp.id_token_info["status"]

    def on_status(self, evse: Evse, old: str) -> None:
        new_c = connector_status(evse.status)
        if old == "" or connector_status(old) != new_c:
            ts = iso(self.local.now())
            self.send(OutMsg(lambda: call.StatusNotification(
                timestamp=ts, connector_status=new_c, evse_id=evse.id, connector_id=1)))
        tx = evse.tx
        if old and tx is not None and evse.status in _CHARGING_STATE \
                and _CHARGING_STATE.get(old) != _CHARGING_STATE[evse.status]:
            self._tx_event(evse, tx, "Updated", "ChargingStateChanged",
                           charging_state=_CHARGING_STATE[evse.status])

    def _tx_event(self, evse: Evse, tx: Tx, event: str, trigger: str, *,
                  charging_state: str | None = None, meter: list | None = None,
                  stopped_reason: str | None = None, id_token: bool = False) -> None:
        seq_no = tx.seq_no
        tx.seq_no += 1
        ts = iso(self.local.now() if event != "Ended" else tx.stopped_at)
        offline = not self.connected.is_set() or None
        info = {"transaction_id": tx.local_id}
        if charging_state:
            info["charging_state"] = charging_state
        if stopped_reason:
            info["stopped_reason"] = stopped_reason
        kw = {"meter_value": meter, "offline": offline, "evse": {"id": evse.id, "connector_id": 1},
              "id_token": {"id_token": tx.id_tag, "type": "ISO14443"} if id_token else None,
              "number_of_phases_used": (evse.supply.phases if evse.supply.kind == "AC" else None)
              if event == "Started" else None}
        self.send(OutMsg(lambda: call.TransactionEvent(
            event_type=event, timestamp=ts, trigger_reason=trigger, seq_no=seq_no,
            transaction_info=info, **kw), transactional=True))

    def on_tx_started(self, evse: Evse) -> None:
        tx = evse.tx
        tx.csms_id = tx.local_id
        self._ledger(tx).remote_tx_id = tx.local_id
        if evse.pending_profile is not None:  # K05: the profile gets the new transaction's id
            evse.pending_profile = {**evse.pending_profile, "transaction_id": tx.local_id}
            self.install_pending_profile(evse, from_v201)
        ts = iso(tx.started_at)
        self._tx_event(evse, tx, "Started", "Authorized", charging_state="EVConnected",
                       meter=[meter_value(evse, ts, "Transaction.Begin")], id_token=True)
        ev = evse.ev
        if ev is not None and ev.requested_energy_wh is not None and evse.departure is not None:
            self._charging_needs(evse)

    def _charging_needs(self, evse: Evse) -> None:
        ev, departure = evse.ev, iso(evse.departure)
        if evse.supply.kind == "AC":
            phases = min(evse.supply.phases, ev.spec.ac_phases)
            mode = "AC_three_phase" if phases == 3 else "AC_single_phase"
            params = {"ac_charging_parameters": {
                "energy_amount": int(ev.requested_energy_wh), "ev_min_current": 6,
                "ev_max_current": int(ev.spec.ac_max_current_a), "ev_max_voltage": 400}}
        else:
            mode = "DC"
            params = {"dc_charging_parameters": {
                "ev_max_current": int(ev.spec.dc_max_power_w / ev.spec.dc_voltage_v),
                "ev_max_voltage": int(ev.spec.dc_voltage_v * 1.1),
                "energy_amount": int(ev.requested_energy_wh),
                "ev_max_power": int(ev.spec.dc_max_power_w),
                "state_of_charge": int(ev.soc_pct), "ev_energy_capacity": int(ev.spec.capacity_wh),
                "full_soc": int(ev.target_soc_pct)}}
        needs = {"requested_energy_transfer": mode, "departure_time": departure, **params}
        self.send(OutMsg(lambda: call.NotifyEVChargingNeeds(charging_needs=needs,
                                                            evse_id=evse.id)))

    def on_meter(self, evse: Evse) -> None:
        tx = evse.tx
        ts = iso(self.local.now())
        if tx is None:
            self.send(OutMsg(lambda: call.MeterValues(
                evse_id=evse.id, meter_value=[meter_value(evse, ts, "Sample.Periodic")])))
            return
        self._tx_event(evse, tx, "Updated", "MeterValuePeriodic",
                       meter=[meter_value(evse, ts, "Sample.Periodic")])

    def on_tx_ended(self, evse: Evse, tx: Tx) -> None:
        reason, trigger = _STOP.get(tx.stop_reason or "Other", ("Other", "AbnormalCondition"))
        ts = iso(tx.stopped_at)
        self._tx_event(evse, tx, "Ended", trigger, charging_state="EVConnected",
                       stopped_reason=reason, meter=[meter_value(evse, ts, "Transaction.End")])

    def trigger(self, message: str, evse_id: int | None) -> bool:
        evses = [e for e in self.evses if not evse_id or e.id == evse_id]
        if message == "Heartbeat":
            self.send(self.heartbeat_msg())
        elif message == "StatusNotification":
            for e in evses:
                self.on_status(e, "")
        elif message == "MeterValues":
            for e in evses:
                self.on_meter(e)
        elif message == "TransactionEvent":
            for e in evses:
                if e.tx is not None:
                    self._tx_event(e, e.tx, "Updated", "Trigger")
        elif message == "BootNotification":
            self.spawn(self.boot())
        else:
            return False
        return True

    async def reset(self, reason: str) -> None:
        await asyncio.sleep(0.05)
        for evse in self.evses:
            if evse.tx is not None:
                self.request_stop(evse, reason)
        await asyncio.sleep(0.05)
        self._boot_reason = "RemoteReset"
        self.drop_link(0.2)


