"""OCPP 2.1 V2G charger: the 2.0.1 simulator spoken as ``ocpp2.1``, plus bidirectional DC.

What 2.1 adds here (checked against the ``ocpp.v21`` schemas):
- NotifyEVChargingNeeds of a V2G car says ``requestedEnergyTransfer`` DC_BPT and carries
  ``v2xChargingParameters`` (``maxChargePower``, ``maxDischargePower``, ``evMinV2XEnergyRequest``:
  the energy to reach the car's minimum V2X state of charge, negative when above it);
- SetChargingProfile periods with ``operationMode`` CentralSetpoint and a negative ``setpoint``
  make the car discharge (bounded by ``dischargeLimit``); the export shows in the
  ``Energy.Active.Export.Register`` and ``Power.Active.Export`` meter values;
- the car protects its driver: it refuses to discharge at or below its minimum V2X state of
  charge, or when full power until departure could no longer bring it to the energy it asked
  for (its departure need).

The 2.0.1 messages are reused unchanged: every one we send is valid in 2.1 (the library
validates each against the 2.1 schema on this connection).
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

from ocpp.routing import on
from ocpp.v21 import call as call21
from ocpp.v21 import call_result as call_result21

from simulators.charger.link import OutMsg
from simulators.charger.model import Evse, Tx
from simulators.charger.v201 import CP201, Charger201
from simulators.clock import iso
from simulators.ev import EV, PHASE_VOLTAGE_V, Limit, dc_efficiency
from simulators.smart import composite
from simulators.smart.profiles import TX

log = logging.getLogger(__name__)

V2X_MIN_SOC_PCT = 40.0  # the car's own floor for V2X (ISO 15118-20 EVMinimumV2XEnergyRequest)
DEPARTURE_MARGIN = 0.9  # plan recharging at 90 % of full power: the car keeps some slack


class CP21(CP201):
    """The 2.0.1 handlers on an ``ocpp2.1`` connection (the library validates with 2.1)."""

    _call = call21
    _call_result = call_result21
    _ocpp_version = "2.1"
    sim: Charger21

    @on("GetCompositeSchedule")
    async def composite(self, duration, evse_id, charging_rate_unit=None, **kw):
        """2.0.1 composite, plus the discharge set-point in force now (2.1 period field)."""
        result = await super().composite(duration, evse_id, charging_rate_unit, **kw)
        if result.status == "Accepted" and evse_id > 0:
            evse = self.sim.evses[evse_id - 1]
            setpoint_w = self.sim.setpoint_w(evse, self.sim.clock.now())
            periods = result.schedule["charging_schedule_period"]
            if setpoint_w is not None and periods:
                unit = result.schedule["charging_rate_unit"]
                value = setpoint_w if unit == "W" else setpoint_w / (PHASE_VOLTAGE_V * 3)
                periods[0] = {**periods[0], "setpoint": round(value, 1),
                              "operation_mode": "CentralSetpoint"}
        return result


class Charger21(Charger201):
    protocol = "2.1"
    subprotocol = "ocpp2.1"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # 2.1 keeps the 2.0.1 install rules (K01: transaction ids, duplicate stack levels).
        self.store.rules.version = "2.0.1"
        self.refusals = 0  # discharge set-points the car refused (floor or departure need)
        self._start_wh: dict[int, float] = {}  # battery energy at the start, per EVSE

    def make_cp(self, ws):
        from simulators.charger.base import WIRE_LOG

        cp = CP21(self.id, ws, response_timeout=30, logger=WIRE_LOG)
        cp.sim = self
        return cp

    # -- what the car can give -----------------------------------------------------------
    @staticmethod
    def bidirectional(evse: Evse) -> bool:
        ev = evse.ev
        return (ev is not None and ev.spec.v2g and evse.supply.v2g
                and evse.supply.kind == "DC")

    def departure_need_wh(self, ev: EV, start_wh: float) -> float:
        """Battery energy the driver must have at departure: arrival + what they asked for."""
        want = ev.requested_energy_wh or 0.0
        return min(ev.spec.capacity_wh, start_wh + want)

    def may_discharge(self, evse: Evse, now: datetime) -> bool:
        ev = evse.ev
        if not self.bidirectional(evse) or ev.soc_pct <= V2X_MIN_SOC_PCT:
            return False
        if evse.departure is None:
            return True
        left_h = max(0.0, (evse.departure - now).total_seconds()) / 3600.0
        need_wh = self.departure_need_wh(ev, self._start_wh.get(evse.id, ev.battery_wh))
        recharge_w = min(evse.supply.max_power_w, ev.spec.dc_max_power_w) * dc_efficiency(1.0)
        return need_wh - ev.battery_wh < left_h * recharge_w * DEPARTURE_MARGIN

    # -- obeying discharge set-points ----------------------------------------------------
    def setpoint_w(self, evse: Evse, t: datetime) -> float | None:
        """The negative set-point (W) of the TxProfile period in force at ``t`` (the charger's
        clock), if any."""
        tx = evse.tx
        if tx is None or tx.csms_id is None:
            return None
        mine = [p for p in self.store.profiles if p.purpose == TX and p.evse_id == evse.id
                and p.transaction_id in (None, tx.csms_id)]
        for p in sorted(mine, key=lambda q: q.stack_level, reverse=True):
            period = composite.period_at(p, t, tx.started_at)
            if period is None:
                continue
            raws = p.raw["charging_schedule"][0]["charging_schedule_period"]
            raw = next((r for r in raws if int(r["start_period"]) == period.start_s), {})
            setpoint = raw.get("setpoint")
            if raw.get("operation_mode") != "CentralSetpoint" or setpoint is None \
                    or setpoint >= 0:
                return None
            if p.schedule.rate_unit == "A":
                setpoint *= PHASE_VOLTAGE_V * (period.number_phases or 3)
            floor = raw.get("discharge_limit")
            if floor is not None:
                floor_w = floor if p.schedule.rate_unit == "W" else \
                    floor * PHASE_VOLTAGE_V * (period.number_phases or 3)
                setpoint = max(setpoint, floor_w)
            return float(setpoint)
        return None

    def limit(self, evse: Evse, t: datetime) -> Limit | None:
        base = super().limit(evse, t)
        if self.faults.ignore_limits:
            return base
        setpoint = self.setpoint_w(evse, self.local.local(t))  # profiles: the charger's clock
        if setpoint is None:
            return base
        if not self.may_discharge(evse, t):
            self.refusals += 1
            return Limit(0.0, "W")  # hold: neither discharge nor charge against the profile
        return Limit(setpoint, "W")

    # -- messages ------------------------------------------------------------------------
    def on_tx_started(self, evse: Evse) -> None:
        if evse.ev is not None:
            self._start_wh[evse.id] = evse.ev.battery_wh
        super().on_tx_started(evse)

    def _charging_needs(self, evse: Evse) -> None:
        if not self.bidirectional(evse):
            super()._charging_needs(evse)
            return
        ev = evse.ev
        min_v2x_wh = (V2X_MIN_SOC_PCT - ev.soc_pct) / 100.0 * ev.spec.capacity_wh
        target_wh = ev.requested_energy_wh or 0.0
        need_wh = self.departure_need_wh(ev, self._start_wh.get(evse.id, ev.battery_wh))
        needs = {
            "requested_energy_transfer": "DC_BPT", "available_energy_transfer": ["DC", "DC_BPT"],
            "control_mode": "ScheduledControl", "departure_time": iso(evse.departure),
            "dc_charging_parameters": {
                "ev_max_current": int(ev.spec.dc_max_power_w / ev.spec.dc_voltage_v),
                "ev_max_voltage": int(ev.spec.dc_voltage_v * 1.1),
                "energy_amount": int(target_wh), "ev_max_power": int(ev.spec.dc_max_power_w),
                "state_of_charge": int(ev.soc_pct), "ev_energy_capacity": int(ev.spec.capacity_wh),
                "full_soc": int(ev.target_soc_pct)},
            "v2x_charging_parameters": {
                "max_charge_power": float(ev.spec.dc_max_power_w),
                "max_discharge_power": float(min(ev.spec.dc_max_power_w,
                                                 evse.supply.max_power_w)),
                "ev_min_v2x_energy_request": round(min_v2x_wh, 1),
                "ev_target_energy_request": round(target_wh, 1),
                "target_soc": min(100, math.ceil(need_wh / ev.spec.capacity_wh * 100.0))}}
        self.send(OutMsg(lambda: call21.NotifyEVChargingNeeds(charging_needs=needs,
                                                              evse_id=evse.id)))

    def _tx_event(self, evse: Evse, tx: Tx, event: str, trigger: str, *,
                  meter: list | None = None, **kw) -> None:
        """Every meter value also carries the export register (and power when periodic)."""
        if meter:
            for mv in meter:
                values = mv["sampled_value"]
                context = values[0]["context"]
                values.append({"value": int(evse.export_wh), "context": context,
                               "measurand": "Energy.Active.Export.Register",
                               "unit_of_measure": {"unit": "Wh"}})
                if context == "Sample.Periodic":
                    values.append({"value": round(max(0.0, -evse.power_w), 1),
                                   "context": context, "measurand": "Power.Active.Export",
                                   "unit_of_measure": {"unit": "W"}})
        super()._tx_event(evse, tx, event, trigger, meter=meter, **kw)
