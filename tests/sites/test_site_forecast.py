"""The control loop's demand forecast: a site's own finished sessions, by local time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from csms.clock import SITE_TZ
from csms.sites.forecast import site_forecast
from csms.store.db import create_engine
from csms.store.tables import ChargerRow, SessionRow, SiteRow

pytestmark = pytest.mark.store
NOW = datetime(2026, 3, 12, 7, 0, tzinfo=UTC)  # a Thursday, 07:00 in Casablanca (Ramadan: UTC+0)


def test_a_site_with_history_expects_its_morning_cars(database_url):
    engine = create_engine(database_url)
    with Session(engine) as s:
        site = SiteRow(name="f", base_load_profile="office", created_at=NOW)
        other = SiteRow(name="g", created_at=NOW)
        s.add_all([site, other])
        s.flush()
        s.add(ChargerRow(id="F-1", site_id=site.id, registered_at=NOW))
        s.add(ChargerRow(id="G-1", site_id=other.id, registered_at=NOW))
        assert site_forecast(s, site.id, NOW) is None  # no history: nothing expected
        for d in range(1, 15):  # two weeks: 4 cars every morning at 09:00 local, 8 h, 20 kWh
            day = (NOW - timedelta(days=d)).astimezone(SITE_TZ).date()
            at = datetime.combine(day, datetime.min.time(), SITE_TZ) + timedelta(hours=9)
            for k in range(4):
                s.add(SessionRow(charger_id="F-1", evse_id=1, transaction_ref=f"{d}-{k}",
                                 protocol="1.6", active=False, started_at=at,
                                 started_received_at=at, stopped_at=at + timedelta(hours=8),
                                 stopped_received_at=at + timedelta(hours=8),
                                 energy_wh=20_000.0))
        s.flush()
        forecast = site_forecast(s, site.id, NOW)
        assert site_forecast(s, other.id, NOW) is None  # another site's history is not its own
    assert forecast is not None
    morning = forecast.arrivals[0, 9 * 4 - 2:9 * 4 + 3].sum()  # weekdays, 08:30-09:45
    assert morning > 2.0  # most of the 4 cars a weekday morning
    future = forecast.future_demand(NOW.astimezone(SITE_TZ), 900.0, 16, 11.0)
    assert future.energy_kwh.sum() > 40.0  # the cars expected before noon, ~20 kWh each


def test_a_new_site_expects_what_its_operator_says(database_url):
    """No history: nothing expected, unless the operator gives the cars a day; then the prior's
    shape at that level (ElaadNL workplace: most of them in the morning)."""
    engine = create_engine(database_url)
    with Session(engine) as s:
        site = SiteRow(name="n", base_load_profile="office", created_at=NOW,
                       policy_params={"expected_arrivals_per_day": 40.0})
        quiet = SiteRow(name="q", base_load_profile="office", created_at=NOW,
                        policy_params={"expected_arrivals_per_day": 10.0})
        s.add_all([site, quiet])
        s.flush()
        forecast, fewer = site_forecast(s, site.id, NOW), site_forecast(s, quiet.id, NOW)
    assert forecast is not None and fewer is not None
    assert forecast.arrivals[0].sum() == pytest.approx(40.0, rel=0.01)  # a weekday's cars
    assert forecast.arrivals[0, 7 * 4:12 * 4].sum() > 20.0  # most before noon
    assert fewer.arrivals[0].sum() == pytest.approx(10.0, rel=0.01)
    future = forecast.future_demand(NOW.astimezone(SITE_TZ), 900.0, 16, 11.0)
    assert future.energy_kwh.sum() > 4 * fewer.future_demand(
        NOW.astimezone(SITE_TZ), 900.0, 16, 11.0).energy_kwh.sum() * 0.9
