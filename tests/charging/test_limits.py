"""Charger limits: 0 or >= 6 A per phase, rounded down to 0.1 A / 0.1 W."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csms.charging import to_charger_limits

CASES = [  # power kW, phases, expected A per phase, expected W
    (7.0, 1, 30.4, 7000.0),          # 7000/230 = 30.43 A
    (1.0, 1, 0.0, 0.0),              # 4.3 A < 6 A: off
    (1.38, 1, 6.0, 1380.0),          # exactly 6 A
    (1.3799, 1, 0.0, 0.0),           # just below 6 A
    (4.14, 3, 6.0, 4140.0),          # 6 A on 3 phases
    (11.0, 3, 15.9, 11000.0),        # 15.94 A
    (0.0, 3, 0.0, 0.0),
    (-7.0, 1, -30.4, -7000.0),       # discharge rounds towards zero
    (3.33333, 1, 14.4, 3333.3),      # 14.49 A, 3333.33 W
]


@pytest.mark.parametrize(("power_kw", "phases", "amps", "watts"), CASES)
def test_conversion_table(power_kw, phases, amps, watts):
    out = to_charger_limits(np.array([power_kw]), np.array([phases]))
    assert out.current_a[0] == pytest.approx(amps)
    assert out.power_w[0] == pytest.approx(watts)


@given(st.lists(st.tuples(st.floats(0, 22), st.sampled_from([1, 3])), min_size=1, max_size=50))
def test_rounding_never_raises_the_site_total(rows):
    power = np.array([r[0] for r in rows])
    phases = np.array([r[1] for r in rows])
    out = to_charger_limits(power, phases)
    assert np.all(out.applied_kw <= power + 1e-12)
    assert out.applied_kw.sum() <= power.sum() + 1e-9
    assert np.all(out.power_w <= power * 1000 + 1e-9)
    on = out.current_a > 0
    assert np.all(out.current_a[on] >= 6.0)
    np.testing.assert_allclose(out.current_a * 10, np.round(out.current_a * 10), atol=1e-9)
