"""Scenario JSON -> arrays, and the KPI formulas, on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from csms.charging import schedule
from csms.evaluate.metrics import kpis
from csms.evaluate.scenario import scenario_from_dict, to_problem


def scenario(sessions, **site):
    return {"name": "t", "start": "2019-06-12T00:00:00+01:00", "period_s": 900, "periods": 96,
            "site": {"capacity_kw": 50.0, "tariff": "onee-default", **site},
            "sessions": sessions}


@pytest.mark.parametrize(("arrival", "departure", "periods"), [
    ("00:10", "01:00", [1, 2, 3]),     # 00:00-00:15 is not entirely inside
    ("00:00", "00:30", [0, 1]),
    ("00:00", "00:29", [0]),
    ("00:05", "00:20", []),            # no whole period
    ("23:45", "23:59", []),
])
def test_session_draws_only_in_whole_periods(arrival, departure, periods):
    s = {"id": "a", "arrival": f"2019-06-12T{arrival}:00+01:00",
         "departure": f"2019-06-12T{departure}:00+01:00", "energy_kwh": 5.0}
    p = to_problem(scenario_from_dict(scenario([s])))
    assert list(np.nonzero(p.available[0])[0]) == periods


def test_utc_offsets_are_respected():
    # 23:00Z on the 11th is 00:00 local (+01:00) on the 12th: period 0.
    s = {"id": "a", "arrival": "2019-06-11T23:00:00+00:00",
         "departure": "2019-06-11T23:30:00+00:00", "energy_kwh": 1.0}
    p = to_problem(scenario_from_dict(scenario([s])))
    assert list(np.nonzero(p.available[0])[0]) == [0, 1]


def test_naive_times_are_rejected():
    s = {"id": "a", "arrival": "2019-06-12T08:00:00", "departure": "2019-06-12T09:00:00",
         "energy_kwh": 1.0}
    with pytest.raises(ValueError, match="offset"):
        scenario_from_dict(scenario([s]))


def test_default_tariff_bands_in_local_time():
    p = to_problem(scenario_from_dict(scenario([])))
    hour = np.arange(96) / 4
    assert np.all(p.peak_mask == ((hour >= 18) & (hour < 21)))
    assert p.price_mad_per_kwh[19 * 4] == pytest.approx(1.85)
    assert p.price_mad_per_kwh[23 * 4] == pytest.approx(0.95)
    assert p.price_mad_per_kwh[12 * 4] == pytest.approx(1.35)


def test_cost_and_kpis_by_hand():
    # One 7 kW car 19:00-20:00 (peak, 1.85) needing 7 kWh, base 3 kW all day, PV 2 kW all day.
    s = {"id": "a", "arrival": "2019-06-12T19:00:00+01:00",
         "departure": "2019-06-12T20:00:00+01:00", "energy_kwh": 7.0, "max_kw": 7.0}
    p = to_problem(scenario_from_dict(scenario([s], base_load_kw=[3.0] * 96, pv_kw=[2.0] * 96)))
    k = kpis(p, schedule(p, "uncontrolled").power_kw)
    prices = p.price_mad_per_kwh
    bill = float(np.sum(prices * 1.0) * 0.25) + 7.0 * 1.85     # 1 kW net all day + the car
    assert k["cost_mad"] == pytest.approx(bill)
    assert k["ev_cost_mad"] == pytest.approx(7.0 * 1.85)
    assert k["mad_per_kwh"] == pytest.approx(1.85)
    assert k["peak_kw"] == pytest.approx(8.0)
    assert k["pv_self_consumption_pct"] == pytest.approx(100.0)
    assert k["energy_delivered_kwh"] == pytest.approx(7.0)


@pytest.mark.parametrize(("floor_kwh", "band_import_kwh"), [(0.0, 10.0), (20.0, 1.0)])
def test_a_v2g_battery_covers_the_evening_peak_band(floor_kwh, band_import_kwh):
    # Base 5 kW; peak band 18-21 h local (15 kWh of base load). A V2G car (7 kW both ways)
    # from 17 to 23 h wants 5 kWh net. Without a floor it can only give back the 5 kWh it took
    # before 18 h: 10 kWh imported. With 20 kWh in its battery it gives 14 (what 21-23 h at
    # 7 kW can put back, on top of the 5 taken before the band): 1 kWh imported.
    s = {"id": "v", "arrival": "2019-06-12T17:00:00+01:00",
         "departure": "2019-06-12T23:00:00+01:00", "energy_kwh": 5.0, "max_kw": 7.0,
         "v2g": True, "discharge_max_kw": 7.0, "energy_floor_kwh": floor_kwh}
    p = to_problem(scenario_from_dict(scenario([s], base_load_kw=5.0)))
    assert p.energy_floor_kwh.tolist() == [floor_kwh]
    power = schedule(p, "grid_support").power_kw
    band = np.maximum(p.site_import_kw(power), 0.0)[p.peak_mask].sum() * p.period_h
    assert band == pytest.approx(band_import_kwh, abs=1e-5)
    assert power.sum() * p.period_h == pytest.approx(5.0, abs=1e-6)
