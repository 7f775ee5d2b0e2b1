"""Expected (forecast) sessions: room for the cars to come, never at a present car's expense."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csms.charging import Problem, online_schedule, schedule
from csms.charging.expected import FutureDemand, with_expected
from csms.charging.policies import controlled_power
from tests.charging.strategies import problems

SPREADING = ["peak_shaving", "valley_filling"]


def one_hour(avail, energy, max_kw, cap, **kw) -> Problem:
    return Problem(period_s=3600.0, available=np.array(avail, bool), energy_kwh=energy,
                   max_kw=max_kw, capacity_kw=cap, **kw)


# A wants 14 kWh over 4 h; B (7 kW) arrives at hour 2 wanting 14 kWh; the site allows 7 kW.
TWO_CARS = dict(avail=[[1, 1, 1, 1], [0, 0, 1, 1]], energy=[14.0, 14.0], max_kw=[7.0, 7.0],
                cap=7.0)
B_EXPECTED = FutureDemand(arrival_period=[2], departure_period=[4], energy_kwh=[14.0],
                          max_kw=[7.0], cars=[1.0])


@pytest.mark.parametrize("policy", SPREADING)
def test_without_a_forecast_spreading_leaves_the_next_car_short(policy):
    # A is spread over its stay, then B arrives and both share 7 kW: 21 kWh instead of 28.
    p = one_hour(**TWO_CARS)
    assert online_schedule(p, policy).power_kw.sum() == pytest.approx(21.0, abs=0.3)


@pytest.mark.parametrize("policy", SPREADING)
def test_a_forecast_of_the_next_car_gets_every_kwh_delivered(policy):
    p = one_hour(**TWO_CARS)
    result = online_schedule(p, policy, future=B_EXPECTED)
    np.testing.assert_allclose(result.power_kw, [[7, 7, 0, 0], [0, 0, 7, 7]], atol=1e-6)


@pytest.mark.parametrize("policy", SPREADING + ["load_balancing", "price_optimization"])
def test_the_forecast_never_takes_a_present_cars_energy(policy):
    # A is alone and may leave after hour 2; a huge forecast wants the whole site from hour 0.
    p = one_hour([[1, 1, 0, 0]], [14.0], [7.0], cap=7.0)
    crowd = FutureDemand([0], [4], [1000.0], [100.0], [10.0])
    np.testing.assert_allclose(controlled_power(p, policy, crowd), [[7, 7, 0, 0]], atol=1e-6)


def test_expected_sessions_are_appended_clipped_and_marked():
    p = one_hour([[1, 1, 1]], [5.0], [7.0], cap=10.0, priority=[0.0],
                 constraint_matrix=[[1.0]], constraint_limits_kw=[[8.0]])
    future = FutureDemand([1, 5, 2], [9, 9, 3], [4.0, 4.0, 0.0], [7.0, 7.0, 7.0], [1, 1, 1])
    ext = with_expected(p, future)
    # The second starts after the horizon, the third wants nothing: both dropped.
    assert ext.n_sessions == 2
    assert ext.available[1].tolist() == [False, True, True]
    assert ext.expected.tolist() == [False, True]
    assert ext.priority.tolist() == [0.0, 1.0]
    assert ext.constraint_matrix.tolist() == [[1.0, 0.0]]


def test_future_after_a_period_keeps_later_arrivals_counted_from_it():
    future = FutureDemand([1, 3, 5], [4, 6, 8], [1.0, 2.0, 3.0], [7.0] * 3, [1.0] * 3)
    ahead = future.after(3)
    assert ahead.arrival_period.tolist() == [2]
    assert ahead.departure_period.tolist() == [5]
    assert ahead.energy_kwh.tolist() == [3.0]


SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(problems(v2g=False), st.sampled_from(SPREADING + ["price_optimization"]),
       st.integers(0, 2**31 - 1))
def test_any_forecast_keeps_the_present_cars_energy_and_the_limits(problem, policy, seed):
    rng = np.random.default_rng(seed)
    f = int(rng.integers(1, 5))
    start = rng.integers(0, problem.n_periods, f)
    future = FutureDemand(start, start + rng.integers(1, problem.n_periods + 1, f),
                          rng.uniform(0, 50, f), rng.uniform(0, 30, f), np.ones(f))
    plain = schedule(problem, policy)
    with_future = schedule(problem, policy, future=future)
    p, power = problem, with_future.power_kw
    delivered = power.sum() * p.period_h
    best = plain.power_kw.sum() * p.period_h
    assert delivered == pytest.approx(best, rel=1e-6, abs=1e-5)
    assert np.all(power.sum(axis=0) <= p.ev_capacity_kw + 1e-5)
    assert np.all(power[~p.available] == 0)
    if p.constraint_matrix.shape[0]:
        assert np.all(p.constraint_matrix @ power <= p.constraint_limits_kw + 1e-5)
