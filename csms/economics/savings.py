"""Savings of a charging policy against the uncontrolled baseline, measured on the same sessions.

Never a fixed percentage: both grid-import series are priced by the same tariff over the same
periods, so the difference is what the policy changed (band shift, peak reduction).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from csms.tariff import Tariff

log = logging.getLogger(__name__)

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class PolicyCost:
    energy_kwh: float
    energy_cost_mad: float
    demand_charge_mad: float
    peak_kw: float
    by_band: dict  # {band: {"energy_kwh", "cost_mad"}}

    @property
    def total_mad(self) -> float:
        return self.energy_cost_mad + self.demand_charge_mad


@dataclass(frozen=True)
class Savings:
    baseline: PolicyCost
    policy: PolicyCost
    savings_mad: float
    savings_pct: float  # of the baseline total; 0 when the baseline costs nothing
    peak_reduction_kw: float
    energy_difference_kwh: float  # policy - baseline; should be ~0 for the same sessions


def policy_cost(tariff: Tariff, start: datetime, period_s: int, import_kw: np.ndarray
                ) -> PolicyCost:
    kw = np.asarray(import_kw, dtype=float)
    months = len(kw) * period_s / 86400.0 / DAYS_PER_MONTH
    peak_kw = float(kw.max()) if kw.size else 0.0
    return PolicyCost(
        energy_kwh=float(np.clip(kw, 0, None).sum() * period_s / 3600.0),
        energy_cost_mad=tariff.cost_mad(start, period_s, kw),
        demand_charge_mad=tariff.demand_charge_mad(max(peak_kw, 0.0), months),
        peak_kw=peak_kw,
        by_band=tariff.cost_by_band(start, period_s, kw),
    )


def savings_vs_baseline(tariff: Tariff, start: datetime, period_s: int,
                        baseline_import_kw: np.ndarray, policy_import_kw: np.ndarray,
                        energy_tolerance_pct: float = 1.0) -> Savings:
    """Compare two (T,) grid-import series of the same sessions and the same base load.

    Logs a warning when the energies differ by more than ``energy_tolerance_pct``: a policy that
    delivers less energy "saves" money by not charging, which is not a saving.
    """
    base = np.asarray(baseline_import_kw, dtype=float)
    pol = np.asarray(policy_import_kw, dtype=float)
    if base.shape != pol.shape or base.ndim != 1:
        raise ValueError(f"baseline and policy must be (T,) of the same length, got {base.shape} "
                         f"and {pol.shape}")
    b = policy_cost(tariff, start, period_s, base)
    p = policy_cost(tariff, start, period_s, pol)
    diff_kwh = p.energy_kwh - b.energy_kwh
    if b.energy_kwh > 0 and abs(diff_kwh) / b.energy_kwh * 100 > energy_tolerance_pct:
        log.warning("savings: policy imports %.1f kWh vs baseline %.1f kWh (%.1f %% apart): "
                    "not the same sessions served", p.energy_kwh, b.energy_kwh,
                    diff_kwh / b.energy_kwh * 100)
    saved = b.total_mad - p.total_mad
    return Savings(baseline=b, policy=p, savings_mad=saved,
                   savings_pct=saved / b.total_mad * 100 if b.total_mad > 0 else 0.0,
                   peak_reduction_kw=b.peak_kw - p.peak_kw, energy_difference_kwh=diff_kwh)
