"""Session cost from energy-register samples; cost so far today and the day projection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from csms.tariff import DEFAULT_TARIFF as T
from csms.tariff.daily import day_cost, local_day_bounds
from csms.tariff.session_cost import session_cost_mad
from tests.tariff.helpers import local

H = timedelta(hours=1)


@pytest.mark.parametrize(("times", "register_wh", "expected_mad"), [
    # One interval inside the normal band: 10 kWh x 1.35.
    ([local(2024, 1, 15, 10, 0), local(2024, 1, 15, 11, 0)], [0, 10_000], 13.5),
    # 17:30 -> 18:30: half the energy before 18:00 (normal), half after (peak).
    ([local(2024, 1, 15, 17, 30), local(2024, 1, 15, 18, 30)], [500, 10_500],
     5 * 1.35 + 5 * 1.85),
    # Over midnight at a steady 4 kW: 20:00-23:00 = 1 h peak, 1 h normal, 1 h off-peak, then
    # 23:00-01:00 off-peak; samples are hourly except one 2-h interval.
    ([local(2024, 1, 15, 20, 0), local(2024, 1, 15, 21, 0), local(2024, 1, 15, 23, 0),
      local(2024, 1, 16, 1, 0)], [0, 4000, 12_000, 20_000],
     4 * 1.85 + 4 * 1.35 + 4 * 0.95 + 8 * 0.95),
    # Two intervals with different powers straddling 05:00: 3 kWh in 04:00-05:30 (2/3 before
    # 05:00), then 1 kWh in 05:30-06:00.
    ([local(2024, 1, 15, 4, 0), local(2024, 1, 15, 5, 30), local(2024, 1, 15, 6, 0)],
     [100, 3100, 4100], 2 * 0.95 + 1 * 1.35 + 1 * 1.35),
    # Off-peak on the 25-hour DST day: 00:00 -> 05:00 wall is 6 real hours, all off-peak.
    ([local(2024, 3, 10, 0, 0), local(2024, 3, 10, 5, 0)], [0, 6000], 6 * 0.95),
    # A single sample has no energy to price.
    ([local(2024, 1, 15, 10, 0)], [1234], 0.0),
    # Samples replayed out of order are sorted first.
    ([local(2024, 1, 15, 11, 0), local(2024, 1, 15, 10, 0)], [10_000, 0], 13.5),
])
def test_session_cost_hand_cases(times, register_wh, expected_mad):
    assert session_cost_mad(T, times, register_wh) == pytest.approx(expected_mad)


def test_session_cost_rejects_bad_samples():
    t0 = local(2024, 1, 15, 10, 0)
    with pytest.raises(ValueError, match="decreases"):
        session_cost_mad(T, [t0, t0 + H], [5000, 4000])
    with pytest.raises(ValueError, match="pair up"):
        session_cost_mad(T, [t0, t0 + H], [1.0])
    with pytest.raises(ValueError, match="naive"):
        session_cost_mad(T, [datetime(2024, 1, 1), datetime(2024, 1, 1, 1)], [0, 1])


def test_session_cost_equals_power_series_cost():
    # A session sampled every 15 min at a varying power equals the cost of that power series.
    start = local(2024, 1, 15, 16, 0)
    power_kw = np.array([7.0, 7.0, 3.5, 11.0, 11.0, 2.0, 0.0, 7.4] * 3)
    register = np.concatenate(([0.0], np.cumsum(power_kw * 250.0)))  # Wh per quarter
    times = [start + timedelta(minutes=15 * i) for i in range(len(register))]
    assert session_cost_mad(T, times, list(register)) == pytest.approx(
        T.cost_mad(start, 900, power_kw))


def test_day_cost_so_far_and_projection():
    # 1 kW since local midnight, now 06:00: 5 h off-peak + 1 h normal so far; held at 1 kW the
    # whole day costs 7 x 0.95 + 14 x 1.35 + 3 x 1.85.
    midnight = local(2024, 1, 15, 0, 0)
    now = local(2024, 1, 15, 6, 0)
    series = np.ones(4 * 8)  # starts 2 h before midnight, so its first part is yesterday
    result = day_cost(T, now, midnight - 2 * H, 900, series)
    assert result.day_start == midnight
    assert result.so_far_mad == pytest.approx(5 * 0.95 + 1 * 1.35)
    assert result.so_far_kwh == pytest.approx(6.0)
    assert result.projected_mad == pytest.approx(7 * 0.95 + 14 * 1.35 + 3 * 1.85)
    assert result.projected_kwh == pytest.approx(24.0)


def test_day_projection_with_forecast():
    # Nothing so far; a forecast of 10 kW for 18:00-20:00 only, then the (zero) mean.
    now = local(2024, 1, 15, 18, 0)
    result = day_cost(T, now, local(2024, 1, 15, 0, 0), 900, np.zeros(72),
                      forecast_kw=np.full(8, 10.0))
    assert result.so_far_mad == 0.0
    assert result.projected_mad == pytest.approx(20 * 1.85)


def test_local_day_bounds_on_dst_day():
    start, end = local_day_bounds(T, datetime(2024, 3, 10, 12, tzinfo=UTC))
    assert (end - start) == 25 * H
    assert start == datetime(2024, 3, 9, 23, tzinfo=UTC)
