"""Charging efficiency where the data exists (issue 13: the brief's efficiency bands and power
vs efficiency): battery energy from the car's SoC and its registered battery, over the grid
energy of the meter's register between the same two readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from csms.sites import efficiency as eff
from csms.sites.kpis import site_kpis
from csms.store.tables import (
    ChargerRow,
    IdTokenRow,
    MeterSampleRow,
    SessionRow,
    SiteRow,
    VehicleRow,
)

pytestmark = pytest.mark.store
NOW = datetime(2026, 6, 16, 12, 0, tzinfo=UTC)
BATTERY_WH = 60_000.0


def _session(s, site_id, cid, tag, *, soc=(20.0, 50.0), grid_wh=20_000.0, minutes=40,
             vehicle=True, soc_with_register=True):
    """A session whose car reports SoC from ``soc[0]`` to ``soc[1]`` while the register rises
    by ``grid_wh`` over ``minutes``, every 5 min."""
    s.add(ChargerRow(id=cid, site_id=site_id, charger_type="DC", max_power_w=50_000,
                     registered_at=NOW - timedelta(days=1)))
    s.add(IdTokenRow(id_token=tag, created_at=NOW))
    if vehicle:
        s.add(VehicleRow(name=f"car-{tag}", battery_wh=BATTERY_WH, ac_max_w=11_000,
                         dc_max_w=100_000, id_token=tag, created_at=NOW))
    start = NOW - timedelta(minutes=minutes + 10)
    row = SessionRow(charger_id=cid, protocol="2.0.1", transaction_ref=f"T-{cid}", evse_id=1,
                     id_token=tag, started_at=start, started_received_at=start, active=True,
                     meter_start_wh=1_000.0)
    s.add(row)
    s.flush()
    steps = minutes // 5
    for k in range(steps + 1):
        at = start + timedelta(minutes=5 * k)
        wh = 1_000.0 + grid_wh * k / steps
        s.add(MeterSampleRow(charger_id=cid, session_id=row.id, evse_id=1, timestamp=at,
                             received_at=at, measurand=eff.REGISTER, value=wh, unit="Wh"))
        soc_at = at if soc_with_register else at + timedelta(seconds=7)
        s.add(MeterSampleRow(charger_id=cid, session_id=row.id, evse_id=1, timestamp=soc_at,
                             received_at=soc_at, measurand="SoC",
                             value=soc[0] + (soc[1] - soc[0]) * k / steps, unit="Percent",
                             location="EV"))
    return row


@pytest.fixture
def site(database_url):
    engine = sa.create_engine(database_url)
    with Session(engine) as s:
        row = SiteRow(name="eff", created_at=NOW - timedelta(days=1))
        s.add(row)
        s.commit()
        yield engine, row.id
    engine.dispose()


def test_efficiency_from_soc_and_the_registered_battery(site):
    engine, site_id = site
    with Session(engine) as s:
        good = _session(s, site_id, "DC-1", "TAG-1")  # 30 % of 60 kWh for 20 kWh: 90 %
        low = _session(s, site_id, "DC-2", "TAG-2", soc=(10.0, 36.0), minutes=60)  # 78 %
        _session(s, site_id, "DC-3", "TAG-3", vehicle=False)  # no battery known
        _session(s, site_id, "DC-4", "TAG-4", soc=(40.0, 45.0))  # 5 points: too little
        _session(s, site_id, "DC-5", "TAG-5", soc_with_register=False)  # never paired
        _session(s, site_id, "DC-6", "TAG-6", soc=(10.0, 90.0))  # 48 kWh for 20: implausible
        s.commit()
        found, implausible = eff.session_efficiencies(s, site_id, NOW - timedelta(days=1), NOW)
    by_session = {e.session_id: e for e in found}
    assert set(by_session) == {good.id, low.id}
    assert by_session[good.id].efficiency == pytest.approx(0.90)
    assert by_session[good.id].mean_power_w == pytest.approx(20_000.0 / (40 / 60))
    assert by_session[low.id].efficiency == pytest.approx(0.26 * BATTERY_WH / 20_000.0)
    assert implausible == 1
    summary = eff.summary(found, implausible)
    assert summary["bands"] == {"high": 1, "typical": 0, "low": 1}
    # Energy-weighted: (18 + 15.6) kWh of battery for 40 kWh from the grid.
    assert summary["mean_pct"] == pytest.approx(100 * (18_000 + 15_600) / 40_000)


def test_the_kpis_carry_it_and_say_it_is_estimated(site):
    engine, site_id = site
    with Session(engine) as s:
        _session(s, site_id, "DC-1", "TAG-1")
        s.commit()
        kpis = site_kpis(s, site_id, NOW)
    got = kpis["ev"]["efficiency"]
    assert got["sessions"] == 1 and got["bands"]["high"] == 1
    assert got["points"][0]["efficiency_pct"] == pytest.approx(90.0)
    assert got["points"][0]["power_kw"] == pytest.approx(30.0)
    assert "registered battery" in got["estimated_from"]
