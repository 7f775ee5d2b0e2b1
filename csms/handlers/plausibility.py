"""Plausibility of meter data: what no real meter reports is kept, flagged and not used.

A sample keeps its value as sent; its ``flag`` says why it is not believed. A session's
``meter_flags`` say why its energy is unknown. Bounds are physical, with a wide margin: a meter
register rolls over far below 10 GWh, megawatt charging (MCS) stays under 5 MW, and no single
charging session takes 2 MWh.
"""

from __future__ import annotations

from csms.domain.model import MeterSample

MAX_REGISTER_WH = 1e10
MAX_SESSION_ENERGY_WH = 2e6
# |value| beyond which a measurand is absurd, in the unit it is usually sent in.
MAX_MAGNITUDE = {"Power.Active.Import": 5e6, "Power.Active.Export": 5e6,
                 "Current.Import": 5e3, "Current.Export": 5e3, "Current.Offered": 5e3,
                 "Voltage": 2e3, "SoC": 100.0, "Frequency": 1e3}


def sample_flag(sample: MeterSample) -> str | None:
    """Why this sample is not plausible, or None."""
    energy_wh = sample.energy_wh
    if energy_wh is not None:
        if energy_wh < 0:
            return "negative"
        if energy_wh > MAX_REGISTER_WH:
            return "absurd"
        return None
    bound = MAX_MAGNITUDE.get(sample.measurand)
    if bound is None:
        return None
    value = sample.value  # in its base unit: the OCPP edge turns kW into W
    if sample.measurand == "SoC" and not 0.0 <= value <= bound:
        return "absurd"
    return "absurd" if abs(value) > bound else None


def register_flag(register_wh: float | None) -> str | None:
    """Why a meterStart / meterStop register is not plausible, or None."""
    if register_wh is None:
        return None
    if register_wh < 0:
        return "negative_register"
    if register_wh > MAX_REGISTER_WH:
        return "absurd_register"
    return None


def energy_flag(energy_wh: float | None) -> str | None:
    if energy_wh is not None and energy_wh > MAX_SESSION_ENERGY_WH:
        return "absurd_energy"
    return None


# Session flags that mean "this meter reports what no meter does" (the overview alerts on them);
# seq_gap, seq_reset and reconciled_* describe the messages, not the meter.
ALERT_FLAGS = frozenset({"negative_register", "absurd_register", "absurd_energy",
                         "implausible_samples"})


def add_flag(flags: list | None, flag: str | None) -> list | None:
    if flag is None or (flags and flag in flags):
        return flags
    return [*(flags or []), flag]
