"""The day's peak import (peak shaving's floor) survives a restart: read back from the loop's
own records of the site's local day, not another day's or another site's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from csms.clock import SITE_TZ
from csms.control.state import day_peak_kw
from csms.store.db import create_engine
from csms.store.tables import SiteLoadRow, SiteRow

pytestmark = pytest.mark.store
NOW = datetime(2026, 6, 16, 10, 0, tzinfo=UTC)  # 11:00 in Casablanca (UTC+1)


def _row(site_id: int, at: datetime, ev_kw: float, base_kw: float, pv_kw: float) -> SiteLoadRow:
    return SiteLoadRow(site_id=site_id, timestamp=at, limit_kw=60.0, planned_ev_kw=ev_kw,
                       measured_ev_kw=ev_kw, base_kw=base_kw, pv_kw=pv_kw,
                       policy="peak_shaving", sessions=3)


def test_the_days_peak_is_read_back_from_the_records(database_url):
    midnight = datetime.combine(NOW.astimezone(SITE_TZ).date(), datetime.min.time(), SITE_TZ)
    with Session(create_engine(database_url)) as s:
        site, other = SiteRow(name="p", created_at=NOW), SiteRow(name="o", created_at=NOW)
        s.add_all([site, other])
        s.flush()
        assert day_peak_kw(s, site.id, midnight) == float("-inf")  # nothing recorded yet
        s.add_all([
            _row(site.id, midnight - timedelta(minutes=5), 58.0, 10.0, 0.0),  # yesterday
            _row(site.id, NOW - timedelta(hours=2), 30.0, 10.0, 2.0),   # 38 kW imported
            _row(site.id, NOW - timedelta(hours=1), 40.0, 12.0, 9.0),   # 43 kW: the peak
            _row(site.id, NOW, 44.0, 12.0, 14.0),                        # 42 kW: PV helps
            _row(other.id, NOW, 55.0, 10.0, 0.0)])
        s.flush()
        assert day_peak_kw(s, site.id, midnight) == pytest.approx(43.0)
