"""/kpis savings replay each of today's sessions uncontrolled: at its EVSE's rating on the
phases the car drew on (a one-phase car on a 22 kW EVSE could never take more than 7.36 kW)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from csms import clock
from csms.store.tables import MeterSampleRow, SessionRow

pytestmark = pytest.mark.store
# 10:00 in Casablanca (UTC+1 in June): the session below lies well inside the local day.
T0 = datetime(2026, 6, 16, 9, 0, tzinfo=UTC)


@pytest.fixture
def frozen_clock():
    clock.configure(speed=1e-9, start=T0 + timedelta(hours=1))
    yield
    clock.configure()


@pytest.mark.parametrize("amps, replay_kw", [
    ((16.0, 0.0, 0.0), 7.36),          # one phase: a third of the 22.08 kW rating
    ((16.0, 16.0, 16.0), 14.72),        # 3.68 kWh in the first 15 min at the full rating
])
async def test_replay_follows_the_phases_the_car_drew_on(api, frozen_clock, amps, replay_kw):
    admin, viewer = api.tokens["admin"], api.tokens["viewer"]
    site = (await api.post("/api/v1/sites", json={"name": "replay", "capacity_kw": 60},
                           headers=admin)).json()
    await api.put(f"/api/v1/sites/{site['id']}/chargers/CP-R",
                  json={"phase_wiring": "L1L2L3", "max_power_w": 22_080,
                        "charger_type": "AC"}, headers=admin)
    power_w = sum(amps) * 230.0
    hours = 3_680.0 / power_w  # every run delivers 3.68 kWh
    with Session(api.engine) as s:
        row = SessionRow(charger_id="CP-R", protocol="1.6", transaction_ref="1", evse_id=1,
                         started_at=T0, started_received_at=T0,
                         stopped_at=T0 + timedelta(hours=hours), energy_wh=3_680.0)
        s.add(row)
        s.flush()
        for k in range(5):
            at = T0 + timedelta(hours=hours * k / 4)
            s.add(MeterSampleRow(charger_id="CP-R", session_id=row.id, evse_id=1, timestamp=at,
                                 received_at=at, measurand="Energy.Active.Import.Register",
                                 value=920.0 * k, unit="Wh"))
            for phase, a in zip(("L1", "L2", "L3"), amps, strict=True):
                s.add(MeterSampleRow(charger_id="CP-R", session_id=row.id, evse_id=1,
                                     timestamp=at, received_at=at, measurand="Current.Import",
                                     phase=phase, value=a, unit="A"))
        s.commit()
    k = (await api.get(f"/api/v1/sites/{site['id']}/kpis", headers=viewer)).json()
    actual_peak_kw = k["grid"]["peak_import_kw"]
    assert k["savings"]["sessions_replayed"] == 1
    assert k["savings"]["peak_reduction_kw"] == pytest.approx(replay_kw - actual_peak_kw,
                                                              abs=0.05)


async def test_a_session_charging_across_midnight_is_in_the_baseline(api):
    """Uncontrolled, 7.36 kW from 22:00 to 01:00 local: the savings at 02:00 are about 0, not
    the cost of the energy since midnight (the session used to be left out of the baseline)."""
    local_midnight = datetime(2026, 6, 15, 23, 0, tzinfo=UTC)  # Casablanca, UTC+1 in June
    clock.configure(speed=1e-9, start=local_midnight + timedelta(hours=2))
    try:
        admin, viewer = api.tokens["admin"], api.tokens["viewer"]
        site = (await api.post("/api/v1/sites", json={"name": "night", "capacity_kw": 60},
                               headers=admin)).json()
        kpis = f"/api/v1/sites/{site['id']}/kpis"
        empty = (await api.get(kpis, headers=viewer)).json()["savings"]
        assert (empty["today_mad"], empty["today_pct"]) == (None, None)  # n/a, not 0 %
        await api.put(f"/api/v1/sites/{site['id']}/chargers/CP-N",
                      json={"phase_wiring": "L1", "max_power_w": 7_360,
                            "charger_type": "AC"}, headers=admin)
        start = local_midnight - timedelta(hours=1)
        with Session(api.engine) as s:
            row = SessionRow(charger_id="CP-N", protocol="1.6", transaction_ref="1", evse_id=1,
                             started_at=start, started_received_at=start, meter_start_wh=0.0,
                             stopped_at=start + timedelta(hours=3), energy_wh=22_080.0)
            s.add(row)
            s.flush()
            for k in range(13):  # a register reading every 15 min, 1,840 Wh apart
                at = start + timedelta(minutes=15 * k)
                s.add(MeterSampleRow(charger_id="CP-N", session_id=row.id, evse_id=1,
                                     timestamp=at, received_at=at, value=1_840.0 * k,
                                     measurand="Energy.Active.Import.Register", unit="Wh"))
            s.commit()
        savings = (await api.get(kpis, headers=viewer)).json()["savings"]
        assert savings["sessions_replayed"] == 1
        assert "midnight" in savings["baseline"]
        assert abs(savings["today_mad"]) < 0.05 * savings["actual_mad"], savings
    finally:
        clock.configure()
