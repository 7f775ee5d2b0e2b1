"""Minimum-current allocation and the obedience / EV-limit verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csms.control.allocate import apply_minimums
from csms.control.verify import judge

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


@given(st.lists(st.floats(0, 22_000), min_size=1, max_size=30), st.floats(0, 200_000))
def test_apply_minimums_invariants(plan, budget):
    plan = np.array(plan)
    lo, hi = np.full(plan.size, float(MIN3)), np.full(plan.size, 22_080.0)
    got = apply_minimums(plan, lo, hi, budget)
    assert got.sum() <= min(budget, plan.sum()) + 1e-6
    assert np.all((got == 0) | ((got >= lo - 1e-9) & (got <= hi + 1e-9)))


T = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
LATER = T + timedelta(seconds=60)


@pytest.mark.parametrize("limit, measured, at, violations, obeying, ev_max, expected", [
    (4140.0, 4100.0, LATER, 0, True, None, (0, True, None)),          # obeys
    (4140.0, 11_040.0, LATER, 0, True, None, (1, True, None)),        # one reading over
    (4140.0, 11_040.0, LATER, 1, True, None, (2, False, None)),       # twice: flagged
    (4140.0, 11_040.0, T + timedelta(seconds=2), 1, True, None, None),  # within the grace
    (11_040.0, 7_000.0, LATER, 0, True, None, (0, True, 7_100.0)),    # the EV takes less
    (7_100.0, 7_100.0, LATER, 0, True, 7_100.0, (0, True, None)),     # takes all: forget
    (7_100.0, 7_000.0, LATER, 0, True, 7_100.0, (0, True, 7_100.0)),  # keeps its own max
    (0.0, 0.0, LATER, 0, True, None, (0, True, None)),                # nothing to learn at 0
])
def test_judge_table(limit, measured, at, violations, obeying, ev_max, expected):
    v = judge(limit, T, measured, at, violations, obeying, ev_max, MIN3)
    assert (None if v is None else (v.violations, v.obeying, v.ev_max_w)) == expected


def test_reading_after_the_lease_says_nothing_about_the_ev():
    v = judge(11_040.0, T, 0.0, LATER, 0, True, None, MIN3, lease_until=T + timedelta(seconds=30))
    assert v is not None and v.ev_max_w is None and v.obeying
