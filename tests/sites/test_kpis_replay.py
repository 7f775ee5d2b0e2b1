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
