"""Hypothesis invariants of tariff costs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csms.tariff import DEFAULT_TARIFF as T

# Any start within 2024-2025 (DST days included), to the minute.
starts = st.integers(0, 2 * 365 * 24 * 60).map(
    lambda m: datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=m))
periods_s = st.sampled_from([60, 300, 900, 1800, 3600, 7 * 60 + 13])
series = st.lists(st.floats(-50, 500, allow_nan=False), min_size=1, max_size=300)


@settings(max_examples=150, deadline=None)
@given(start=starts, period_s=periods_s, kw=series, data=st.data())
def test_cost_is_additive_over_any_split(start, period_s, kw, data):
    k = data.draw(st.integers(0, len(kw)))
    whole = T.cost_mad(start, period_s, np.array(kw))
    head = T.cost_mad(start, period_s, np.array(kw[:k]))
    tail = T.cost_mad(start + timedelta(seconds=k * period_s), period_s, np.array(kw[k:]))
    assert head + tail == pytest.approx(whole, rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(start=starts, period_s=periods_s, periods=st.integers(1, 200))
def test_mean_prices_stay_within_the_tariff_range(start, period_s, periods):
    prices = T.prices_mad_per_kwh(start, period_s, periods)
    assert prices.shape == (periods,)
    assert np.all(prices >= 0.95 - 1e-12) and np.all(prices <= 1.85 + 1e-12)


@settings(max_examples=100, deadline=None)
@given(start=starts, kw=st.floats(0, 100), hours=st.integers(1, 72))
def test_cost_is_linear_in_power_and_matches_band_fractions(start, kw, hours):
    cost = T.cost_mad(start, 3600, np.full(hours, kw))
    by_band = T.cost_by_band(start, 3600, np.full(hours, kw))
    assert sum(v["cost_mad"] for v in by_band.values()) == pytest.approx(cost, abs=1e-9)
    assert sum(v["energy_kwh"] for v in by_band.values()) == pytest.approx(kw * hours)
    assert T.cost_mad(start, 3600, np.full(hours, 2 * kw)) == pytest.approx(2 * cost)


@settings(max_examples=60, deadline=None)
@given(start=starts, steps_min=st.lists(st.integers(1, 240), min_size=2, max_size=30),
       increments_wh=st.data())
def test_session_cost_is_additive_over_a_split_at_a_sample(start, steps_min, increments_wh):
    from csms.tariff.session_cost import session_cost_mad

    times = [start]
    for m in steps_min:
        times.append(times[-1] + timedelta(minutes=m))
    inc = increments_wh.draw(st.lists(st.floats(0, 20_000), min_size=len(steps_min),
                                      max_size=len(steps_min)))
    register = list(np.concatenate(([0.0], np.cumsum(inc))))
    k = increments_wh.draw(st.integers(0, len(times) - 1))
    whole = session_cost_mad(T, times, register)
    parts = (session_cost_mad(T, times[:k + 1], register[:k + 1])
             + session_cost_mad(T, times[k:], register[k:]))
    assert parts == pytest.approx(whole, rel=1e-9, abs=1e-9)
    assert 0.95 * sum(inc) / 1000 - 1e-9 <= whole <= 1.85 * sum(inc) / 1000 + 1e-9
