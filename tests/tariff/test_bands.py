"""Band and price lookups of the default tariff: boundaries, midnight, DST change days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from csms.tariff import DEFAULT_TARIFF, load_tariff
from tests.tariff.helpers import local, two_band

T = DEFAULT_TARIFF
S = timedelta(seconds=1)


@pytest.mark.parametrize(("instant", "band", "price"), [
    (local(2024, 1, 15, 4, 59, 59), "offpeak", 0.95),
    (local(2024, 1, 15, 5, 0), "normal", 1.35),
    (local(2024, 1, 15, 17, 59, 59), "normal", 1.35),
    (local(2024, 1, 15, 18, 0), "peak", 1.85),
    (local(2024, 1, 15, 20, 59, 59), "peak", 1.85),
    (local(2024, 1, 15, 21, 0), "normal", 1.35),  # the 21-22 h gap is normal
    (local(2024, 1, 15, 21, 59, 59), "normal", 1.35),
    (local(2024, 1, 15, 22, 0), "offpeak", 0.95),
    (local(2024, 1, 15, 23, 59, 59), "offpeak", 0.95),
    (local(2024, 1, 16, 0, 0), "offpeak", 0.95),
    # Summer (UTC+1) and Ramadan (UTC+0) offsets: local wall time governs.
    (datetime(2024, 7, 1, 17, 0, tzinfo=UTC), "peak", 1.85),  # 18:00 local (+1)
    (datetime(2024, 3, 20, 17, 0, tzinfo=UTC), "normal", 1.35),  # 17:00 local (+0, Ramadan)
    (datetime(2024, 3, 20, 18, 0, tzinfo=UTC), "peak", 1.85),  # 18:00 local (+0)
])
def test_band_and_price_at_boundaries(instant, band, price):
    assert T.band_at(instant) == band
    assert T.price_at(instant) == pytest.approx(price)


def test_naive_instant_is_rejected():
    with pytest.raises(ValueError, match="naive"):
        T.band_at(datetime(2024, 1, 1, 12))


def test_prices_across_midnight_quarter_hours():
    # 20:30 .. 23:30 local over midnight? take 21:30 -> 00:30 next day in 15-min steps.
    start = local(2024, 1, 15, 21, 30)
    prices = T.prices_mad_per_kwh(start, 900, 12)
    expected = [1.35, 1.35] + [0.95] * 10
    np.testing.assert_allclose(prices, expected)


@pytest.mark.parametrize(("start", "period_s", "expected"), [
    (local(2024, 1, 15, 17, 30), 3600, (1.35 + 1.85) / 2),  # straddles 18:00
    (local(2024, 1, 15, 20, 45), 1800, (1.85 + 1.35) / 2),  # straddles 21:00
    (local(2024, 1, 15, 21, 30), 3600, (1.35 + 0.95) / 2),  # straddles 22:00
    (local(2024, 1, 15, 4, 0), 7200, (0.95 + 1.35) / 2),  # straddles 05:00
    (local(2024, 1, 15, 17, 0), 4 * 3600, (1 * 1.35 + 3 * 1.85) / 4),  # covers all of peak
])
def test_period_straddling_a_boundary_is_time_weighted(start, period_s, expected):
    assert T.prices_mad_per_kwh(start, period_s, 1)[0] == pytest.approx(expected)


def test_peak_mask_overlap_rule():
    day = local(2024, 1, 15, 0, 0)
    mask = T.peak_mask(day, 900, 96)
    assert mask.sum() == 12  # 18:00-21:00 = 12 quarters
    assert not mask[71] and mask[72] and mask[83] and not mask[84]
    # An hourly period 17:30-18:30 overlaps the peak; 21:00-22:00 only touches its end.
    assert T.peak_mask(local(2024, 1, 15, 17, 30), 3600, 1)[0]
    assert not T.peak_mask(local(2024, 1, 15, 21, 0), 3600, 1)[0]
    assert not T.peak_mask(local(2024, 1, 15, 17, 0), 3600, 1)[0]


def _band_hours(tariff, day_start, day_end):
    """Hours spent in each band between two instants (15-min steps)."""
    periods = int((day_end - day_start).total_seconds() // 900)
    return {b: float(tariff.band_fraction(b, day_start, 900, periods).sum() / 4)
            for b in tariff.bands}


@pytest.mark.parametrize(("day", "hours"), [
    # 2024-03-10: clocks go back 03:00 -> 02:00 (UTC+1 -> UTC+0, Ramadan): a 25-hour day, the
    # repeated hour falls in the night off-peak band: 00-05 h wall = 6 real hours.
    ((2024, 3, 10), {"offpeak": 8.0, "normal": 14.0, "peak": 3.0}),
    # 2024-04-14: clocks go forward 02:00 -> 03:00: a 23-hour day, off-peak 00-05 h = 4 hours.
    ((2024, 4, 14), {"offpeak": 6.0, "normal": 14.0, "peak": 3.0}),
    ((2024, 1, 15), {"offpeak": 7.0, "normal": 14.0, "peak": 3.0}),
])
def test_band_hours_on_dst_change_days(day, hours):
    start, end = local(*day, 0, 0), local(*(datetime(*day) + timedelta(days=1)).timetuple()[:3])
    assert _band_hours(T, start, end) == pytest.approx(hours)
    expected_cost = sum(h * T.spec.prices_mad_per_kwh[b] for b, h in hours.items())
    periods = int((end - start).total_seconds() // 900)
    assert T.cost_mad(start, 900, np.ones(periods)) == pytest.approx(expected_cost)


def test_boundary_inside_the_repeated_hour():
    # Band a until 02:30 wall time. On 2024-03-10 wall 02:30 happens twice: first at 01:30 UTC
    # (UTC+1), then the clock goes back at 02:00 UTC and shows 02:00-02:30 again (a) until
    # 02:30 UTC. So a lasts 23:00 UTC (midnight) -> 01:30 UTC plus 02:00 -> 02:30 UTC = 3 h.
    t = load_tariff(two_band("02:30"))
    assert t.band_at(datetime(2024, 3, 10, 1, 29, tzinfo=UTC)) == "a"
    assert t.band_at(datetime(2024, 3, 10, 1, 45, tzinfo=UTC)) == "b"  # 02:45 wall (+1)
    assert t.band_at(datetime(2024, 3, 10, 2, 15, tzinfo=UTC)) == "a"  # 02:15 wall (+0)
    assert t.band_at(datetime(2024, 3, 10, 2, 30, tzinfo=UTC)) == "b"
    hours = _band_hours(t, local(2024, 3, 10, 0, 0), local(2024, 3, 11, 0, 0))
    assert hours == pytest.approx({"a": 3.0, "b": 22.0})


def test_boundary_inside_the_skipped_hour():
    # 2024-04-14: wall 02:00 -> 03:00 at 02:00 UTC; 02:30 never happens, b starts at the jump.
    t = load_tariff(two_band("02:30"))
    assert t.band_at(datetime(2024, 4, 14, 1, 59, 59, tzinfo=UTC)) == "a"
    assert t.band_at(datetime(2024, 4, 14, 2, 0, tzinfo=UTC)) == "b"
    hours = _band_hours(t, local(2024, 4, 14, 0, 0), local(2024, 4, 15, 0, 0))
    assert hours == pytest.approx({"a": 2.0, "b": 21.0})


def test_minute_prices_match_scalar_lookup_over_a_dst_day():
    start = local(2024, 3, 9, 20, 0)
    prices = T.prices_mad_per_kwh(start, 60, 36 * 60)
    scalar = [T.price_at(start + timedelta(minutes=i)) for i in range(36 * 60)]
    np.testing.assert_allclose(prices, scalar)
