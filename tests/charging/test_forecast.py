"""Demand forecast: the ElaadNL prior, blending with the site's history, expected sessions."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest

from csms.charging.forecast import History, fit_forecast
from csms.charging.prior import elaad_prior

MONDAY = date(2019, 10, 7)


def eight_oclock_history(days: int, cars_a_day: int = 2) -> History:
    """``days`` weekdays from a Monday, each with cars at 08:00 for 4 h taking 10 kWh."""
    arrivals = [datetime(2019, 10, 7 + d, 8, 0) for d in range(days) for _ in range(cars_a_day)]
    departures = [a.replace(hour=12) for a in arrivals]
    return History.from_sessions(arrivals, departures, [10.0] * len(arrivals), MONDAY,
                                 date(2019, 10, 6 + days))


@pytest.mark.parametrize("kind", ["private", "public", "workplace"])
def test_prior_shares_sum_to_one_and_quantiles_ascend(kind):
    prior = elaad_prior(kind)
    assert prior.arrival_share.shape == (2, 96)
    np.testing.assert_allclose(prior.arrival_share.sum(axis=1), 1.0)
    assert np.all(np.diff(prior.dwell_h) >= 0) and np.all(np.diff(prior.energy_kwh) >= 0)
    assert prior.dwell_h.size == prior.energy_kwh.size == 100


def test_workplace_cars_arrive_in_the_morning_and_homes_in_the_evening():
    work = elaad_prior("workplace").arrival_share[0].argmax() / 4
    home = elaad_prior("private").arrival_share[0].argmax() / 4
    assert 6 <= work < 10
    assert 16 <= home < 20


def test_unknown_class_is_refused():
    with pytest.raises(ValueError, match="unknown ElaadNL class"):
        elaad_prior("highway")


def test_without_history_or_count_nothing_is_expected():
    fc = fit_forecast(None, elaad_prior("workplace"))
    assert fc.arrivals.sum() == 0
    future = fc.future_demand(datetime(2019, 10, 7), 900, 96, 6.6)
    assert future.size == 0


def test_history_alone_gives_its_own_counts_stays_and_energy():
    fc = fit_forecast(eight_oclock_history(5), elaad_prior("workplace"), prior_days=0.0)
    slot = 8 * 4
    assert fc.arrivals[0, slot] == pytest.approx(2.0)
    assert fc.arrivals[0].sum() == pytest.approx(2.0)
    np.testing.assert_allclose(fc.dwell_h[0, slot], 4.0)
    np.testing.assert_allclose(fc.energy_kwh[0, slot], 10.0)


def test_history_and_prior_blend_by_days():
    # 5 days of 2 cars at 08:00 and a prior worth 5 days at 10 cars a day: per slot, the mean
    # of the history's rate and the prior's.
    prior = elaad_prior("workplace")
    fc = fit_forecast(eight_oclock_history(5), prior, prior_arrivals_per_day=(10.0, 0.0),
                      prior_days=5.0)
    slot = 8 * 4
    expected = (2.0 + 10.0 * prior.arrival_share[0, slot]) / 2.0
    assert fc.arrivals[0, slot] == pytest.approx(expected)
    assert fc.arrivals[0].sum() == pytest.approx((2.0 + 10.0) / 2.0)
    # The weekend row has neither history nor a prior count.
    assert fc.arrivals[1].sum() == 0


def test_expected_sessions_carry_the_cars_energy_and_window():
    fc = fit_forecast(eight_oclock_history(5), elaad_prior("workplace"), prior_days=0.0)
    future = fc.future_demand(datetime(2019, 10, 14), 900, 96, 6.6)
    assert future.cars.sum() == pytest.approx(2.0)
    assert future.energy_kwh.sum() == pytest.approx(20.0)
    assert future.max_kw.sum() == pytest.approx(2 * 6.6)
    # Arriving 08:00-08:15 (mean 08:07:30): drawing from 08:15 (period 33) to 12:07:30.
    assert set(future.arrival_period.tolist()) == {33}
    assert set(future.departure_period.tolist()) == {48}


def test_a_weekend_day_uses_the_weekend_row():
    fc = fit_forecast(eight_oclock_history(5), elaad_prior("workplace"), prior_days=0.0)
    assert fc.future_demand(datetime(2019, 10, 12), 900, 96, 6.6).size == 0


def test_the_plan_is_for_a_busy_day_of_the_history():
    # Ten weekdays alternating 2 and 4 cars of 10 kWh: a mean day of 30 kWh, the 90th
    # percentile 40 kWh: plan for 4 cars, not 3; with the quantile off, for the mean's 3.
    arrivals = [datetime(2019, 10, 7 + d + 2 * (d // 5), 8, 0)
                for d in range(10) for _ in range(2 if d % 2 == 0 else 4)]
    departures = [a.replace(hour=12) for a in arrivals]
    history = History.from_sessions(arrivals, departures, [10.0] * len(arrivals), MONDAY,
                                    date(2019, 10, 18))
    assert history.day_weekend.sum() == 2
    busy = fit_forecast(history, elaad_prior("workplace"), prior_days=0.0)
    mean = fit_forecast(history, elaad_prior("workplace"), prior_days=0.0,
                        busy_day_quantile=None)
    assert busy.arrivals[0].sum() == pytest.approx(4.0)
    assert mean.arrivals[0].sum() == pytest.approx(3.0)


def test_cars_that_must_charge_all_their_stay_stay_together():
    # Each day at 08:00: A 2 h 12 kWh (6 kW all along), B 8 h 12 kWh (1.5 kW), C 3 h 1.5 kWh
    # (0.5 kW), D 8 h 40 kWh (5 kW). By stay the classes would be {A, C} and {B, D}: 2.7 and
    # 3.25 kW, both lax. By need: {C, B} 5.5 h 6.75 kWh and {D, A} 5 h 26 kWh (5.2 kW).
    stays_h, kwh = [2, 8, 3, 8], [12.0, 12.0, 1.5, 40.0]
    arrivals = [datetime(2019, 10, 7 + d, 8, 0) for d in range(5) for _ in stays_h]
    departures = [a + timedelta(hours=stays_h[n % 4]) for n, a in enumerate(arrivals)]
    history = History.from_sessions(arrivals, departures, kwh * 5, MONDAY, date(2019, 10, 11))
    fc = fit_forecast(history, elaad_prior("workplace"), prior_days=0.0, classes=2)
    slot = 8 * 4
    np.testing.assert_allclose(fc.dwell_h[0, slot], [5.5, 5.0])
    np.testing.assert_allclose(fc.energy_kwh[0, slot], [6.75, 26.0])


def test_sessions_outside_the_history_days_are_refused():
    with pytest.raises(ValueError, match="outside"):
        History.from_sessions([datetime(2019, 10, 20, 8)], [datetime(2019, 10, 20, 9)], [1.0],
                              MONDAY, date(2019, 10, 11))
