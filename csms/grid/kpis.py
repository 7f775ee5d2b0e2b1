"""Grid KPI thresholds of the brief and a violation summary over KPI series.

Sources: frequency 50 +- 0.1 Hz (brief; continental Europe synchronous area); voltage +- 5 % as
the planning target (EN 50160 allows +- 10 % for 95 % of 10-min means); voltage THD 8 % at
<= 1 kV and 5 % at 1-69 kV (IEEE 519-2014 table 1); power factor > 0.95 (brief); voltage
unbalance < 3 % of negative- over positive-sequence voltage (brief; EN 50160 gives 2 %, up to
3 % in some areas); transformer loading <= 100 % of rating.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class KpiThresholds:
    frequency_nominal_hz: float = 50.0
    frequency_tolerance_hz: float = 0.1
    voltage_deviation_max_pct: float = 5.0  # planning target
    voltage_deviation_en50160_pct: float = 10.0  # statutory limit, for reference
    voltage_thd_max_lv_pct: float = 8.0  # IEEE 519-2014, bus voltage <= 1 kV
    voltage_thd_max_mv_pct: float = 5.0  # IEEE 519-2014, 1 kV < V <= 69 kV (22 and 60 kV)
    power_factor_min: float = 0.95
    voltage_unbalance_max_pct: float = 3.0
    transformer_loading_max_pct: float = 100.0

    def voltage_thd_max_pct(self, nominal_v: float) -> float:
        """IEEE 519 voltage THD limit for a bus of this line-to-line nominal voltage."""
        if nominal_v <= 1000.0:
            return self.voltage_thd_max_lv_pct
        if nominal_v <= 69_000.0:
            return self.voltage_thd_max_mv_pct
        return 2.5 if nominal_v <= 161_000.0 else 1.5

    def as_dict(self) -> dict:
        return asdict(self)


KPI_THRESHOLDS = KpiThresholds()


def frequency_ok(frequency_hz: np.ndarray, thresholds: KpiThresholds = KPI_THRESHOLDS
                 ) -> np.ndarray:
    """(T,) bool: frequency within nominal +- tolerance."""
    f = np.asarray(frequency_hz, dtype=float)
    return np.abs(f - thresholds.frequency_nominal_hz) <= thresholds.frequency_tolerance_hz


def violation_shares(kpis, thresholds: KpiThresholds = KPI_THRESHOLDS) -> dict[str, float]:
    """Share of steps (0..1) violating each threshold, for a :class:`GridKpis`."""
    thd_max = thresholds.voltage_thd_max_pct(kpis.nominal_v)
    out = {
        "voltage": float(np.mean(np.abs(kpis.voltage_deviation_pct)
                                 > thresholds.voltage_deviation_max_pct)),
        "voltage_thd": float(np.mean(kpis.voltage_thd_pct > thd_max)),
        "power_factor": float(np.mean(kpis.power_factor < thresholds.power_factor_min)),
        "voltage_unbalance": float(np.mean(kpis.voltage_unbalance_pct
                                           > thresholds.voltage_unbalance_max_pct)),
        "transformer_loading": float(np.mean(kpis.transformer_loading_pct
                                             > thresholds.transformer_loading_max_pct)),
    }
    if kpis.frequency_hz is not None:
        out["frequency"] = float(np.mean(~frequency_ok(kpis.frequency_hz, thresholds)))
    return out
