"""Minimum-current allocation and the obedience / EV-limit verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csms.control.allocate import apply_minimums, lift_to_floor
from csms.control.verify import expired, judge, offered_w

MIN3 = 6 * 230 * 3  # 4140 W


@pytest.mark.parametrize("plan, budget, expected", [
    # 60 kW over 15 three-phase cars is 4 kW each (< 4.14 kW): 14 get the minimum and the
    # 2.04 kW left over go to the largest kept one, up to its max.
    ([4000.0] * 15, 60_000.0, [MIN3 + 2040.0] + [MIN3] * 13 + [0.0]),
    ([11_040.0, 11_040.0], 60_000.0, [11_040.0, 11_040.0]),        # under budget: as planned
    ([5000.0, 2000.0], 7000.0, [5000.0, 2000.0 * 0]),               # 2 kW dropped, 2 kW lost
    ([0.0, 0.0], 60_000.0, [0.0, 0.0]),                              # a policy holding back
])
def test_apply_minimums_table(plan, budget, expected):
    hi = np.full(len(plan), 11_040.0)
    got = apply_minimums(np.array(plan), np.full(len(plan), MIN3), hi, budget)
    if plan == [5000.0, 2000.0]:
        # 5 kW kept, 2 kW below the minimum: dropped; its 2 kW go to the kept car.
        expected = [7000.0, 0.0]
    np.testing.assert_allclose(got, expected)


def test_lift_to_floor_gives_needy_cars_their_minimum_while_there_is_room():
    # A policy holding back (all 0) on a 10 kW site: the two most urgent needy cars get
    # 4.14 kW each; the third does not fit (1.72 kW left); the car without need stays at 0.
    plan = np.zeros(4)
    floor = np.full(4, float(MIN3))
    needy = np.array([True, True, False, True])
    order = np.array([3, 2, 1, 0])  # most urgent first
    got = lift_to_floor(plan, floor, np.full(4, 11_040.0), needy, order, np.ones((1, 4)),
                        np.array([10_000.0]))
    np.testing.assert_allclose(got, [0.0, MIN3, 0.0, MIN3])


@given(st.lists(st.tuples(st.floats(0, 22_000), st.booleans(), st.sampled_from([0, 1, 2])),
                min_size=1, max_size=20), st.floats(0, 100_000), st.floats(0, 40_000))
def test_lift_to_floor_invariants(cars, site_cap_w, phase_cap_w):
    """Only needy cars at 0 move, to their floor; no row goes over its cap because of it."""
    plan = np.array([c[0] if c[0] >= MIN3 else 0.0 for c in cars])
    needy = np.array([c[1] for c in cars])
    rows = np.vstack([np.ones(len(cars)), [1.0 if c[2] == 1 else 0.0 for c in cars]])
    caps = np.array([site_cap_w, phase_cap_w])
    got = lift_to_floor(plan, np.full(len(cars), float(MIN3)), np.full(len(cars), 22_080.0),
                        needy, np.arange(len(cars)), rows, caps)
    moved = got != plan
    assert np.all(plan[moved] == 0.0) and np.all(needy[moved]) and np.all(got[moved] == MIN3)
    before, after = rows @ plan, rows @ got
    assert np.all((after <= caps + 1e-6) | (after == before))
    if moved.any():
        assert np.all(after <= np.maximum(caps, before) + 1e-6)


@given(st.lists(st.floats(0, 22_000), min_size=1, max_size=30), st.floats(0, 200_000))
def test_apply_minimums_invariants(plan, budget):
    plan = np.array(plan)
    lo, hi = np.full(plan.size, float(MIN3)), np.full(plan.size, 22_080.0)
    got = apply_minimums(plan, lo, hi, budget)
    assert got.sum() <= min(budget, plan.sum()) + 1e-6
    assert np.all((got == 0) | ((got >= lo - 1e-9) & (got <= hi + 1e-9)))


T = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
LATER = T + timedelta(seconds=60)


LEARNED = 7000.0 * 1.02 + 150.0  # 7290 W: the draw plus the headroom


@pytest.mark.parametrize("limit, measured, at, violations, obeying, ev_max, expected", [
    (4140.0, 4100.0, LATER, 0, True, None, (0, True, None)),          # obeys
    (4140.0, 11_040.0, LATER, 0, True, None, (1, True, None)),        # one reading over
    (4140.0, 11_040.0, LATER, 1, True, None, (2, False, None)),       # twice: flagged
    (4140.0, 11_040.0, T + timedelta(seconds=2), 1, True, None, None),  # within the grace
    (11_040.0, 7_000.0, LATER, 0, True, None, (0, True, LEARNED)),    # the EV takes less
    (LEARNED, LEARNED, LATER, 0, True, LEARNED, (0, True, None)),     # takes all: forget
    (LEARNED, 7_250.0, LATER, 0, True, LEARNED, (0, True, None)),     # past mid-headroom
    (LEARNED, 7_000.0, LATER, 0, True, LEARNED, (0, True, LEARNED)),  # at its own max: keep
    (7_240.0, 7_010.0, LATER, 0, True, LEARNED, (0, True, LEARNED)),  # offer rounded down
    (0.0, 0.0, LATER, 0, True, LEARNED, (0, True, LEARNED)),          # 0 W taken in full: keep
    (4140.0, 4100.0, LATER, 0, True, LEARNED, (0, True, LEARNED)),    # smaller offer: keep
    (0.0, 0.0, LATER, 0, True, None, (0, True, None)),                # nothing to learn at 0
    (11_040.0, 1_000.0, LATER, 0, True, None, (0, True, MIN3)),       # tapering: keeps 6 A
    (11_040.0, 0.0, LATER, 0, True, None, (0, True, 150.0)),          # full: below its minimum
    (11_040.0, 0.0, T + timedelta(seconds=30), 0, True, None, (0, True, None)),  # waking up
    # A DC car tapering to 85 kW under a 97 kW limit: 12 kW of the site left unused is not
    # "close to the limit" (the gap allowed is at most 2 kW + 300 W on big limits).
    (97_000.0, 85_000.0, LATER, 0, True, 97_000.0, (0, True, 85_000.0 + 500.0 + 150.0)),
    (85_650.0, 85_000.0, LATER, 0, True, 85_650.0, (0, True, 85_650.0)),  # at its max: keep
    (97_000.0, 85_400.0, LATER, 0, True, 85_650.0, (0, True, None)),  # past mid-headroom
    (97_000.0, 95_000.0, LATER, 0, True, 97_000.0, (0, True, 97_000.0)),  # within 2.3 kW
])
def test_judge_table(limit, measured, at, violations, obeying, ev_max, expected):
    v = judge(limit, T, measured, at, violations, obeying, ev_max, MIN3)
    assert (None if v is None else (v.violations, v.obeying, v.ev_max_w)) == expected


def test_a_car_that_drew_nothing_is_offered_power_again_after_a_while():
    learned = judge(11_040.0, T, 0.0, LATER, 0, True, None, MIN3)
    assert learned.learned_now and learned.ev_max_w < MIN3
    assert not expired(learned.ev_max_w, LATER, MIN3, LATER + timedelta(minutes=29))
    assert expired(learned.ev_max_w, LATER, MIN3, LATER + timedelta(minutes=30))
    assert not expired(LEARNED, LATER, MIN3, LATER + timedelta(days=1))  # it draws: kept


@pytest.mark.parametrize("value, unit, limit_w, ev_phases, expected", [
    (16.0, "A", 11_040.0, 1, 3_680.0),   # a one-phase car under a three-phase 16 A limit
    (16.0, "A", 11_040.0, 3, 11_040.0),
    (11_000.0, "W", 11_000.0, 1, 11_000.0),
    (50_000.0, "W", 50_000.0, 0, 50_000.0),  # DC
])
def test_offered_power_follows_the_phases_the_car_draws_on(value, unit, limit_w, ev_phases,
                                                           expected):
    assert offered_w(value, unit, limit_w, ev_phases) == pytest.approx(expected)


def test_one_phase_car_at_its_per_phase_limit_is_not_taken_for_a_car_that_wants_less():
    offered = offered_w(9.3, "A", 9.3 * 230 * 3, 1)
    v = judge(offered, T, 9.3 * 230, LATER, 0, True, None, 6 * 230)
    assert v.ev_max_w is None


def test_reading_after_the_lease_says_nothing_about_the_ev():
    v = judge(11_040.0, T, 0.0, LATER, 0, True, None, MIN3, lease_until=T + timedelta(seconds=30))
    assert v is not None and v.ev_max_w is None and v.obeying


def test_a_charger_reporting_suspended_ev_settles_it_without_waiting_a_meter_interval():
    soon = T + timedelta(seconds=30)
    assert judge(11_040.0, T, 0.0, soon, 0, True, None, MIN3).ev_max_w is None
    v = judge(11_040.0, T, 0.0, soon, 0, True, None, MIN3, ev_state="SuspendedEV")
    assert v.learned_now and v.ev_max_w < MIN3
    # The minimum offered again after the TTL and taken in full: the maximum is forgotten.
    assert judge(MIN3, T, MIN3, LATER, 0, True, float(MIN3), MIN3).ev_max_w is None
