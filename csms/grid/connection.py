"""A site's grid connection: voltage level, transformer rating and the source impedance.

The point of common coupling (PCC) is modelled as a Thevenin source: an ideal three-phase source
at ``source_voltage_pu`` behind an impedance Z = R + jX per phase, with
``|Z| = V_nominal^2 / S_sc`` (S_sc the three-phase short-circuit power at the PCC) and X/R.
For an LV site fed through a distribution transformer and a cable, :func:`lv_feeder` adds the
upstream network, transformer and feeder impedances in series and returns the PCC's S_sc and X/R.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

NOMINAL_V = {"LV": 400.0, "MV": 22_000.0, "HV": 60_000.0}  # Morocco's levels (line-to-line)
# Defaults when the operator knows only the level (documented in docs/energy-model.md).
DEFAULT_SHORT_CIRCUIT_MVA = {"LV": 12.0, "MV": 250.0, "HV": 1500.0}
DEFAULT_X_OVER_R = {"LV": 3.0, "MV": 5.0, "HV": 10.0}
DEFAULT_TRANSFORMER_KVA = {"LV": 630.0, "MV": 5_000.0, "HV": 20_000.0}


@dataclass(frozen=True)
class GridConnection:
    """Electrical data of one site connection (all voltages line-to-line)."""

    voltage_level: str = "LV"
    nominal_v: float | None = None  # default from the level: 400 V, 22 kV, 60 kV
    transformer_kva: float | None = None  # LV: kVA of the feeding transformer; MV/HV: 5-50 MVA
    short_circuit_mva: float | None = None  # three-phase short-circuit power at the PCC
    x_over_r: float | None = None
    source_voltage_pu: float = 1.0  # no-load voltage at the PCC (upstream regulation / taps)
    base_power_factor: float = 0.95  # of the site's base load, lagging
    charger_rated_current_a: float = 32.0  # per phase, of one AC charger
    charger_thd_at_rated_pct: float = 5.0  # current THD of a charger at rated current
    charger_thd_exponent: float = 1.0  # THD ~ (I_rated / I)^exponent: harmonic amps ~ constant
    charger_thd_max_pct: float = 60.0
    base_load_thd_pct: float = 8.0  # current THD of the aggregated base load
    pv_thd_pct: float = 3.0  # current THD of PV inverters (IEEE 1547 limit is 5 % TDD)
    background_voltage_thd_pct: float = 1.5  # distortion already present upstream
    harmonic_order_effective: float = 5.0  # dominant order used for the harmonic impedance
    harmonic_summation_exponent: float = 1.4  # IEC 61000-3-6 alpha for 5 <= h <= 10

    def __post_init__(self) -> None:
        level = str(self.voltage_level).upper()
        if level not in NOMINAL_V:
            raise ValueError(f"voltage_level must be 'LV', 'MV' or 'HV', got {self.voltage_level!r}")
        object.__setattr__(self, "voltage_level", level)
        for name, table in (("nominal_v", NOMINAL_V), ("short_circuit_mva", DEFAULT_SHORT_CIRCUIT_MVA),
                            ("x_over_r", DEFAULT_X_OVER_R), ("transformer_kva", DEFAULT_TRANSFORMER_KVA)):
            if getattr(self, name) is None:
                object.__setattr__(self, name, table[level])
        for name in ("nominal_v", "transformer_kva", "short_circuit_mva", "x_over_r",
                     "source_voltage_pu", "charger_rated_current_a", "harmonic_order_effective",
                     "harmonic_summation_exponent"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"GridConnection.{name} must be a positive number, got {value!r}")
        if not 0 < self.base_power_factor <= 1:
            raise ValueError(f"base_power_factor must be in (0, 1], got {self.base_power_factor!r}")
        if level == "LV" and self.nominal_v > 1000:
            raise ValueError(f"an LV connection has nominal_v <= 1000 V, got {self.nominal_v}")
        if level != "LV" and self.nominal_v <= 1000:
            raise ValueError(f"a {level} connection has nominal_v > 1000 V, got {self.nominal_v}")

    @property
    def impedance_ohm(self) -> complex:
        """Per-phase source impedance R + jX (ohm)."""
        z_ohm = self.nominal_v**2 / (self.short_circuit_mva * 1e6)
        r_ohm = z_ohm / math.sqrt(1.0 + self.x_over_r**2)
        return complex(r_ohm, r_ohm * self.x_over_r)

    @property
    def rated_current_a(self) -> float:
        """Rated phase current of the transformer at the PCC voltage."""
        return self.transformer_kva * 1e3 / (math.sqrt(3) * self.nominal_v)


def lv_feeder(transformer_kva: float = 630.0, uk_pct: float = 4.0, ur_pct: float = 1.0,
              upstream_short_circuit_mva: float = 250.0, upstream_x_over_r: float = 5.0,
              feeder_r_ohm: float = 0.0, feeder_x_ohm: float = 0.0, nominal_v: float = 400.0,
              **kwargs) -> GridConnection:
    """LV connection behind an MV network, a distribution transformer and a feeder cable.

    ``uk_pct``/``ur_pct``: transformer short-circuit voltage and its resistive part (IEC 60076-5
    gives uk = 4 % up to 630 kVA, 6 % above). Feeder R, X per phase in ohm (cable length x ohm/km).
    """
    if not 0 <= ur_pct < uk_pct:
        raise ValueError(f"need 0 <= ur_pct < uk_pct, got ur={ur_pct}, uk={uk_pct}")
    z_base_ohm = nominal_v**2 / (transformer_kva * 1e3)
    z_tr = complex(ur_pct / 100.0, math.sqrt(uk_pct**2 - ur_pct**2) / 100.0) * z_base_ohm
    z_up_abs = nominal_v**2 / (upstream_short_circuit_mva * 1e6)
    r_up = z_up_abs / math.sqrt(1 + upstream_x_over_r**2)
    z_total = complex(r_up, r_up * upstream_x_over_r) + z_tr + complex(feeder_r_ohm, feeder_x_ohm)
    return GridConnection(
        voltage_level="LV", nominal_v=nominal_v, transformer_kva=transformer_kva,
        short_circuit_mva=nominal_v**2 / abs(z_total) / 1e6,
        x_over_r=z_total.imag / z_total.real, **kwargs)
