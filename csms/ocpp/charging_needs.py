"""NotifyEVChargingNeeds (2.0.1 K17 / 2.1) as the neutral ``ChargingNeeds`` fact.

The one place that reads the message's ``chargingNeeds`` (ISO 15118 parameters): the 2.0.1 and
2.1 adapters call ``parse`` and the rest of the CSMS reads the typed fact. OCPP units are
already SI (A, V, W, Wh, %); the departure becomes an aware UTC datetime (a timestamp no charger
lived through is a PropertyConstraintViolation, like every other timestamp).
"""

from __future__ import annotations

from csms.domain.charging_needs import ChargingNeeds
from csms.ocpp.common import parse_time

# EnergyTransferModeEnumType values: the AC phases each asks for, and the bidirectional (V2X)
# ones of 2.1.
AC_PHASES = {"AC_single_phase": 1, "AC_two_phase": 2, "AC_three_phase": 3}
BIDIRECTIONAL = frozenset({"AC_BPT", "AC_BPT_DER", "DC_BPT", "DC_ACDP_BPT"})


def _number(parameters: dict, key: str) -> float | None:
    value = parameters.get(key)
    return None if value is None else float(value)


def parse(payload: dict, unique_id: str = "-1") -> ChargingNeeds:
    """The typed fact of a NotifyEVChargingNeeds payload (``chargingNeeds`` and all in it)."""
    needs = payload.get("chargingNeeds") or {}
    ac = needs.get("acChargingParameters") or {}
    dc = needs.get("dcChargingParameters") or {}
    v2x = needs.get("v2xChargingParameters") or {}
    requested = needs.get("requestedEnergyTransfer")
    available = tuple(needs.get("availableEnergyTransfer") or ())
    # The energy asked for: the AC parameters' when the EV sent them, else the DC ones'.
    energy = _number(ac if ac else dc, "energyAmount")
    return ChargingNeeds(
        requested_transfer=requested,
        available_transfers=available,
        departure=parse_time(needs.get("departureTime"), unique_id),
        energy_wh=energy,
        ac_phases=AC_PHASES.get(requested),
        ac_min_current_a=_number(ac, "evMinCurrent"),
        ac_max_current_a=_number(ac, "evMaxCurrent"),
        ac_max_voltage_v=_number(ac, "evMaxVoltage"),
        dc_max_power_w=_number(dc, "evMaxPower"),
        dc_max_current_a=_number(dc, "evMaxCurrent"),
        dc_max_voltage_v=_number(dc, "evMaxVoltage"),
        capacity_wh=_number(dc, "evEnergyCapacity"),
        soc_pct=_number(dc, "stateOfCharge"),
        bidirectional=bool({requested, *available} & BIDIRECTIONAL),
        max_discharge_w=_number(v2x, "maxDischargePower"),
        min_v2x_energy_wh=_number(v2x, "evMinV2XEnergyRequest"),
        target_energy_wh=_number(v2x, "evTargetEnergyRequest"),
        target_soc_pct=_number(v2x, "targetSoC"),
    )
