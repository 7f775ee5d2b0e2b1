"""Online plans fill the site now before they plan the horizon (``Problem.now_first``).

The case is the demo day's at 08:00 (docs/demo-day, traced plan by plan): a one-phase car on
L1 that cannot get all it wants before it leaves, three-phase cars that the plan can serve
later, and L1 at its limit. Maximising the horizon's energy alone keeps L1 for the one-phase
car and leaves L2 and L3 idle now; the cars the plan counted on serving later then leave, or
new ones fill the later periods, so that capacity is lost.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from csms.charging import Problem
from csms.charging.policies import controlled_power
from csms.control.planner import now_first_import_kw

PERIODS = 24  # 6-min periods: 2.4 h


def _site(now_first: bool) -> Problem:
    # Car 0: one phase on L1, 7.36 kW, leaves after 10 periods (1 h) wanting more than it can
    # get there. Cars 1-5: three phases, 11 kW, the whole 2.4 h, each wanting 20 kWh.
    n = 6
    available = np.ones((n, PERIODS), bool)
    available[0, 10:] = False
    third = np.full(n - 1, 1 / 3)
    phase_rows = np.array([[1.0, *third], [0.0, *third], [0.0, *third]])  # L1, L2, L3
    return Problem(period_s=360.0, available=available,
                   energy_kwh=np.array([10.0] + [20.0] * (n - 1)),
                   max_kw=np.array([7.36] + [11.0] * (n - 1)),
                   capacity_kw=np.full(PERIODS, 54.0),
                   phases=np.array([1] + [3] * (n - 1)),
                   constraint_matrix=phase_rows,
                   constraint_limits_kw=np.full((3, PERIODS), 18.0),
                   constraint_names=("phase_L1", "phase_L2", "phase_L3"),
                   priority=np.linspace(0.0, 1.0, n), now_first=now_first)


PERIOD_H = 0.1


def test_the_first_period_takes_all_the_phases_allow():
    power = controlled_power(_site(True), "load_balancing")
    # L1 is the bottleneck: a kW of it gives 3 kW of site power through three-phase cars and
    # 1 kW through the one-phase car, so the site takes its 54 kW now, all three-phase.
    assert power[:, 0].sum() == pytest.approx(54.0, abs=1e-3)
    assert power[0, 0] == pytest.approx(0.0, abs=1e-3)


def test_without_it_the_horizon_plan_leaves_the_site_idle_now():
    """The plan ``now_first`` replaces online (the offline oracle keeps it: it knows every
    car, so its horizon is the truth): the one-phase car, short of energy, keeps its 7.36 kW
    of L1 and the three-phase cars share the 10.64 kW left of it: 39.3 kW of 54."""
    power = controlled_power(_site(False), "load_balancing")
    assert power[0, 0] == pytest.approx(7.36, abs=1e-3)
    assert power[:, 0].sum() == pytest.approx(7.36 + 3 * (18.0 - 7.36), abs=1e-3)


def test_the_horizon_energy_is_still_maximised_after_the_first_period():
    with_now = controlled_power(_site(True), "load_balancing")
    horizon = controlled_power(_site(False), "load_balancing")
    # The three-phase cars get everything either way; the one-phase car loses what the first
    # period gave them, no more.
    assert with_now[1:].sum() * PERIOD_H == pytest.approx(100.0, abs=1e-3)
    assert horizon[1:].sum() * PERIOD_H == pytest.approx(100.0, abs=1e-3)
    lost_kwh = (horizon[0].sum() - with_now[0].sum()) * PERIOD_H
    assert lost_kwh == pytest.approx(7.36 * PERIOD_H, abs=1e-3)


def _bounded(policy: str, now_kw: float, floor_kw: float) -> np.ndarray:
    problem = replace(_site(True), now_first_import_kw=now_kw, peak_floor_kw=floor_kw)
    return controlled_power(problem, policy)


def test_peak_shaving_fills_now_up_to_the_days_peak_so_far():
    """The same site under peak shaving, with 50 kW already drawn today: a lower import now
    lowers no peak, so the plan takes the 50 kW now (the horizon plan alone: 39.3), and no
    more (the bound), though the phases would let it take 54."""
    power = _bounded("peak_shaving", 50.0, 50.0)
    assert power[:, 0].sum() == pytest.approx(50.0, abs=1e-3)
    horizon = controlled_power(replace(_site(False), peak_floor_kw=50.0), "peak_shaving")
    assert horizon[:, 0].sum() == pytest.approx(7.36 + 3 * (18.0 - 7.36), abs=1e-3)


def test_the_bound_holds_for_the_first_stage_only():
    """With 20 kW drawn so far today the site still needs more than that to deliver what it
    can: the stages after the first may raise the first period's import beyond the bound."""
    bounded = _bounded("peak_shaving", 20.0, 20.0)
    assert bounded[:, 0].sum() > 20.0 + 1.0
    assert bounded[1:].sum() * PERIOD_H == pytest.approx(100.0, abs=1e-3)


@pytest.mark.parametrize(("policy", "price", "peak", "floor", "expected"), [
    ("load_balancing", [1.0, 1.0], [False, False], -np.inf, np.inf),
    ("peak_shaving", [1.0, 1.0], [False, False], 42.0, 42.0),
    ("peak_shaving", [1.0, 1.0], [False, False], -np.inf, None),   # nothing drawn yet today
    ("valley_filling", [1.0, 1.0], [False, False], 42.0, 42.0),
    ("price_optimization", [1.0, 1.0], [False, False], 42.0, np.inf),
    ("price_optimization", [1.5, 1.0], [False, False], 42.0, None),  # cheaper later
    ("grid_support", [1.0, 1.0], [True, False], 42.0, None),          # peak band now
    ("grid_support", [1.0, 1.5], [False, True], 42.0, np.inf),
    ("renewable_integration", [1.0, 1.0], [False, False], 42.0, None),
])
def test_which_policies_fill_now_first_and_how_far(policy, price, peak, floor, expected):
    got = now_first_import_kw(policy, floor, np.array(price), np.array(peak))
    assert got == expected
