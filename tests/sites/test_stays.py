"""The stay and energy planned for a car that does not say, from the site's history."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csms.sites.stays import PRIOR_SESSIONS, forecast

PRIOR_WH, PRIOR_S = 20_000.0, 8 * 3600.0


def test_no_history_is_the_prior():
    f = forecast([], [], PRIOR_WH, PRIOR_S)
    assert (f.energy_wh, f.dwell_s, f.sessions) == (PRIOR_WH, PRIOR_S, 0)


def test_a_site_of_short_stops_moves_the_stay_toward_them():
    # 45 DC stops of 15 min and 30 kWh: the prior weighs as 5 sessions, so the stay is
    # exp(0.9 ln 900 + 0.1 ln 28800) s, about 21 min (not 8 h), and about 29 kWh.
    f = forecast([30_000.0] * 45, [900.0] * 45, PRIOR_WH, PRIOR_S)
    w = 45 / (45 + PRIOR_SESSIONS)
    assert f.dwell_s == pytest.approx(math.exp(w * math.log(900) + (1 - w) * math.log(PRIOR_S)))
    assert 20 * 60 < f.dwell_s < 22 * 60
    assert f.energy_wh == pytest.approx(
        math.exp(w * math.log(30_000) + (1 - w) * math.log(PRIOR_WH)))  # above the prior
    assert f.sessions == 45


def test_history_never_lowers_the_energy():
    # A congested site gave its cars 1-3 kWh: what they got, not what they wanted.
    f = forecast([1_000.0, 2_000.0, 3_000.0] * 20, [900.0] * 60, PRIOR_WH, PRIOR_S)
    assert f.energy_wh == PRIOR_WH
    assert f.dwell_s < 20 * 60


def test_the_stay_is_a_low_quantile_and_plug_mistakes_are_ignored():
    dwell = [600.0, 1200.0, 1800.0, 2400.0, 3000.0] * 20 + [5.0] * 50
    f = forecast([10_000.0] * len(dwell), dwell, PRIOR_WH, PRIOR_S, prior_sessions=0.0)
    assert f.dwell_s == pytest.approx(1200.0)  # the 25th percentile of the real stays
    assert f.sessions == 100


@given(st.lists(st.tuples(st.floats(10, 200_000), st.floats(60, 2 * 86_400)), max_size=60))
def test_the_forecast_lies_between_the_prior_and_the_history(pairs):
    f = forecast([e for e, _ in pairs], [d for _, d in pairs], PRIOR_WH, PRIOR_S)
    dwell = [d for _, d in pairs] + [PRIOR_S]
    energy = [e for e, _ in pairs] + [PRIOR_WH]
    assert min(dwell) * (1 - 1e-9) <= f.dwell_s <= max(dwell) * (1 + 1e-9)
    assert PRIOR_WH <= f.energy_wh <= max(energy) * (1 + 1e-9)
