"""Hypothesis invariants of every policy on random problems (oracle and online)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csms.charging import POLICIES, frequency_derate, online_schedule, schedule
from tests.charging.reference_lp import reference
from tests.charging.strategies import problems

TOL = 1e-5
CONTROLLED = [p for p in POLICIES if p != "uncontrolled"]
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_invariants(problem, result, policy: str) -> None:
    p, power = problem, result.power_kw
    assert power.shape == p.available.shape
    assert np.all(power[~p.available] == 0), "power outside the session window"
    upper = p.max_kw[:, None] * (frequency_derate(p.frequency_hz)[None, :]
                                 if policy == "grid_support" else 1.0)
    assert np.all(power <= upper + TOL)
    lower = -p.discharge_max_kw[:, None] if policy == "grid_support" else 0.0
    assert np.all(power >= lower - TOL)
    running = np.cumsum(power, axis=1) * p.period_h
    assert np.all(running <= p.energy_kwh[:, None] + TOL), "more than requested"
    assert np.all(running >= -TOL), "a V2G car gave more than it received"
    if policy != "uncontrolled":
        assert np.all(power.sum(axis=0) <= p.ev_capacity_kw + TOL), "site limit exceeded"
        if p.constraint_matrix.shape[0]:
            assert np.all(p.constraint_matrix @ power <= p.constraint_limits_kw + TOL)
    assert result.why.shape == power.shape
    assert np.all(result.why[~p.available] == "not_present")


@SETTINGS
@given(problems(), st.sampled_from(POLICIES))
def test_oracle_invariants(problem, policy):
    check_invariants(problem, schedule(problem, policy), policy)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_sessions=4, max_periods=8), st.sampled_from(POLICIES))
def test_online_invariants(problem, policy):
    check_invariants(problem, online_schedule(problem, policy), policy)


@SETTINGS
@given(problems(circuits=True, v2g=False), st.sampled_from(CONTROLLED))
def test_every_feasible_kwh_is_delivered(problem, policy):
    """Delivered energy equals the max-flow value of an independent dense LP."""
    result = schedule(problem, policy)
    delivered = result.power_kw.sum() * problem.period_h
    best, _ = reference(problem, "cost", frequency_response=policy == "grid_support")
    assert delivered == np.float64(best) or abs(delivered - best) <= 1e-5 * max(1.0, best)


@SETTINGS
@given(problems(v2g=True))
def test_v2g_never_leaves_a_car_short(problem):
    """Grid support with discharge still delivers the most energy the limits allow."""
    plain = schedule(problem, "price_optimization").power_kw.sum()
    v2g = schedule(problem, "grid_support")
    derated = problem.frequency_hz.min() < 49.9
    if not derated:
        assert v2g.power_kw.sum() >= plain - 1e-5 * max(1.0, plain)


@SETTINGS
@given(problems())
def test_uncontrolled_is_greedy_and_ignores_the_site(problem):
    power = schedule(problem, "uncontrolled").power_kw
    p = problem
    remaining = p.energy_kwh[:, None] - np.cumsum(power, axis=1) * p.period_h + power * p.period_h
    expected = np.where(p.available, np.minimum(p.max_kw[:, None], remaining / p.period_h), 0)
    np.testing.assert_allclose(power, expected, atol=1e-9)
