"""Measured savings against the baseline and infrastructure payback."""

from __future__ import annotations

import copy
import logging
import math

import numpy as np
import pytest

from csms.economics import PaybackInputs, payback, payback_months, savings_vs_baseline
from csms.tariff import DEFAULT_TARIFF, Tariff
from tests.tariff.helpers import default_dict, local

START = local(2024, 1, 15, 0, 0)


def _day(hours_kw: dict[int, float]) -> np.ndarray:
    """(96,) quarter-hour series of one local day from {local hour: kW}."""
    kw = np.zeros(96)
    for hour, value in hours_kw.items():
        kw[4 * hour:4 * hour + 4] = value
    return kw


def test_shifting_peak_energy_to_off_peak_saves_the_price_difference():
    # 10 kW during 18-21 h (peak) moved to 01-04 h (off-peak): 30 kWh x (1.85 - 0.95) = 27 MAD.
    baseline = _day({18: 10, 19: 10, 20: 10})
    policy = _day({1: 10, 2: 10, 3: 10})
    s = savings_vs_baseline(DEFAULT_TARIFF, START, 900, baseline, policy)
    assert s.baseline.energy_cost_mad == pytest.approx(30 * 1.85)
    assert s.policy.energy_cost_mad == pytest.approx(30 * 0.95)
    assert s.savings_mad == pytest.approx(27.0)
    assert s.savings_pct == pytest.approx(27.0 / 55.5 * 100)
    assert s.energy_difference_kwh == pytest.approx(0.0)
    assert s.policy.by_band["offpeak"]["energy_kwh"] == pytest.approx(30.0)


def test_identical_series_save_nothing():
    kw = _day({h: 5.0 + h for h in range(24)})
    s = savings_vs_baseline(DEFAULT_TARIFF, START, 900, kw, kw)
    assert s.savings_mad == 0.0 and s.peak_reduction_kw == 0.0


def test_peak_shaving_counts_the_demand_charge():
    d = copy.deepcopy(default_dict())
    d["demand_charge_mad_per_kw_month"] = 50.0
    tariff = Tariff.from_dict(d)
    # Same energy and band (normal 10-12 h): 40 kW for 1 h vs 20 kW for 2 h.
    baseline = _day({10: 40.0})
    policy = _day({10: 20.0, 11: 20.0})
    s = savings_vs_baseline(tariff, START, 900, baseline, policy)
    months = 1 / (365.25 / 12)
    assert s.peak_reduction_kw == 20.0
    assert s.savings_mad == pytest.approx(50.0 * 20.0 * months)


def test_energy_mismatch_is_flagged(caplog):
    with caplog.at_level(logging.WARNING, logger="csms.economics.savings"):
        savings_vs_baseline(DEFAULT_TARIFF, START, 900, _day({10: 10}), _day({10: 5}))
    assert "not the same sessions" in caplog.text


def test_series_shapes_must_match():
    with pytest.raises(ValueError, match="same length"):
        savings_vs_baseline(DEFAULT_TARIFF, START, 900, np.zeros(4), np.zeros(5))


def test_payback_hand_case():
    # 4 x AC 22 kW: capex 4 x (25,000 + 15,000) = 160,000 MAD; opex = 100,000 x 5 % / 12
    # + 4 x 150 = 1,016.67 MAD/month; margin = 4,000 kWh x (3.0 - 1.3) - 1,016.67 = 5,783.33.
    result = payback(PaybackInputs(chargers={"ac22": 4}, energy_sold_kwh_per_month=4000,
                                   energy_cost_mad_per_kwh=1.3))
    assert result.capex_mad == 160_000
    assert result.opex_mad_per_month == pytest.approx(1016.667, abs=1e-3)
    assert result.months == pytest.approx(160_000 / 5783.333, rel=1e-6)
    assert payback_months(chargers={"ac22": 4}, energy_sold_kwh_per_month=4000,
                          energy_cost_mad_per_kwh=1.3) == pytest.approx(result.months)


def test_payback_never_when_selling_below_cost():
    assert payback_months(chargers={"dc50": 1}, energy_sold_kwh_per_month=10_000,
                          energy_cost_mad_per_kwh=1.35, selling_price_mad_per_kwh=1.2) == math.inf


def test_payback_shrinks_with_more_energy_sold():
    months = [payback_months(chargers={"ac7": 2, "dc50": 1}, energy_sold_kwh_per_month=e,
                             energy_cost_mad_per_kwh=1.2) for e in (5_000, 10_000, 20_000)]
    assert months[0] > months[1] > months[2]


def test_payback_validation():
    with pytest.raises(ValueError, match="unknown charger type"):
        payback_months(chargers={"ac99": 1}, energy_sold_kwh_per_month=1,
                       energy_cost_mad_per_kwh=1.0)
