"""OCPP 2.1 adapter: the 2.0.1 adapter plus what 2.1 adds for chargers (V2X, DER, streams).

Checked against the 2.1 JSON schemas of the ``ocpp`` library: every message the 2.0.1 adapter
handles keeps its required fields in 2.1 (TransactionEvent, MeterValues, NotifyEVChargingNeeds,
... are supersets; ``idToken.type`` became a free string, signed meter values need fewer fields),
and every response we build is valid in both. What 2.1 adds and we use:

- NotifyEVChargingNeeds may carry ``v2xChargingParameters`` (``maxDischargePower``,
  ``evMinV2XEnergyRequest``, ...) and ``availableEnergyTransfer`` (``DC_BPT``/``AC_BPT``: the EV
  can discharge); it is parsed like in 2.0.1 into ``ChargingNeeds``
  (``csms.ocpp.charging_needs``) and read by ``csms.control.v2g``;
- SetChargingProfile periods with ``operationMode`` / ``setpoint`` / ``dischargeLimit``
  (built in ``csms.ocpp.profiles``);
- new charger-initiated notifications (DER alarms, priority charging, settlements, periodic
  event streams over the new SEND message type) are kept as records.
"""

from __future__ import annotations

from ocpp.v21.enums import Action

from csms.domain.model import Protocol
from csms.ocpp.v201 import V201Adapter

KNOWN_ACTIONS = frozenset(a.value for a in Action)

# 2.1 charger-initiated messages kept as records, acknowledged with an empty response.
_RECORDED_21 = ("NotifyDERAlarm", "NotifyDERStartStop", "ReportDERControl",
                "NotifyPriorityCharging", "NotifySettlement", "BatterySwap",
                "ClosePeriodicEventStream", "NotifyPeriodicEventStream")


class V21Adapter(V201Adapter):
    version = Protocol.V21

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.routes.update({action: self.notification(action) for action in _RECORDED_21})
