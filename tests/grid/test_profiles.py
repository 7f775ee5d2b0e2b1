"""PV (pvlib clear sky), base-load profiles and the simulated grid frequency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from csms.grid.baseload import KINDS, base_load_kw, daily_profile
from csms.grid.frequency import simulated_frequency_hz
from csms.grid.solar import pv_kw, pv_kw_periods

CASA = ZoneInfo("Africa/Casablanca")


def _local(*args) -> datetime:
    return datetime(*args, tzinfo=CASA).astimezone(UTC)


def test_pv_is_zero_at_night_and_positive_at_noon():
    times = [_local(2024, 6, 21, 0, 0), _local(2024, 6, 21, 13, 30), _local(2024, 12, 21, 23, 0)]
    out = pv_kw(100.0, times)
    assert out[0] == 0.0 and out[2] == 0.0
    assert 50.0 < out[1] <= 100.0 / 1.1  # clear sky near noon, below the inverter clip


def test_pv_scales_with_kwp_and_losses():
    times = pd.date_range("2024-03-01 06:00", periods=48, freq="15min", tz="UTC")
    one = pv_kw(1.0, times)
    np.testing.assert_allclose(pv_kw(10.0, times), 10 * one, rtol=1e-9)
    lossless = pv_kw(1.0, times, losses_pct=0.0)
    np.testing.assert_allclose(one, lossless * 0.86, rtol=1e-9)
    assert pv_kw(0.0, times).sum() == 0.0


def test_pv_south_facing_beats_north_facing_in_winter():
    times = pd.date_range("2024-12-21", periods=96, freq="15min", tz="UTC")
    assert pv_kw(1.0, times).sum() > 1.5 * pv_kw(1.0, times, azimuth_deg=0.0).sum()


def test_pv_periods_evaluates_midpoints_and_rejects_naive_times():
    start = datetime(2024, 6, 21, 12, tzinfo=UTC)
    mid = pv_kw(5.0, [start + timedelta(minutes=7.5)])
    assert pv_kw_periods(5.0, start, 900, 1)[0] == pytest.approx(mid[0])
    with pytest.raises(ValueError, match="naive"):
        pv_kw(1.0, [datetime(2024, 6, 21, 12)])


@pytest.mark.parametrize("kind", KINDS)
def test_daily_profiles_are_normalised(kind):
    p = daily_profile(kind)
    assert p.shape == (96,)
    assert 0.9 < p.max() <= 1.0 and p.min() > 0.0


@pytest.mark.parametrize(("kind", "local_hhmm", "weekday_date", "expected_share"), [
    ("residential", (20, 0), (2024, 1, 15), 1.00),  # evening peak anchor
    ("residential", (3, 0), (2024, 1, 15), 0.30),  # night minimum
    ("office", (10, 0), (2024, 1, 15), 1.00),  # Monday morning
    ("office", (10, 0), (2024, 1, 13), 0.25),  # Saturday: weekend level
    ("commercial", (14, 0), (2024, 1, 13), 1.00),
    ("highway", (2, 0), (2024, 1, 15), 0.45),
    # On the 25-hour DST day the profile follows the wall clock: 20:00 local is still the peak.
    ("residential", (20, 0), (2024, 3, 10), 1.00),
])
def test_base_load_at_local_times(kind, local_hhmm, weekday_date, expected_share):
    # A 60-s period centred on the local time (period midpoint = the anchor).
    start = _local(*weekday_date, *local_hhmm) - timedelta(seconds=30)
    assert base_load_kw(kind, 80.0, start, 60, 1)[0] == pytest.approx(80.0 * expected_share)


def test_base_load_validation():
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="unknown base-load kind"):
        base_load_kw("factory", 10.0, start, 900, 4)
    with pytest.raises(ValueError, match="peak_kw"):
        base_load_kw("office", -1.0, start, 900, 4)
    with pytest.raises(ValueError, match="aware"):
        base_load_kw("office", 1.0, datetime(2024, 1, 1), 900, 4)


def test_frequency_is_reproducible_and_realistic():
    a = simulated_frequency_hz(35_040, 900, seed=7)
    assert np.array_equal(a, simulated_frequency_hz(35_040, 900, seed=7))
    assert not np.array_equal(a, simulated_frequency_hz(35_040, 900, seed=8))
    assert abs(a.mean() - 50.0) < 0.005
    assert 0.01 < a.std() < 0.04
    assert np.mean(np.abs(a - 50.0) > 0.1) < 0.01  # excursions beyond the band are rare
    assert a.min() >= 49.8 and a.max() <= 50.2


def test_frequency_is_smooth_at_one_second():
    f = simulated_frequency_hz(3600, 1.0, seed=1)
    assert np.abs(np.diff(f)).max() < 0.02  # inertia: no 20 mHz jumps within a second
