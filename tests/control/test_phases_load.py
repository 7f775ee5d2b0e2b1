"""GET /api/v1/sites/{id}/load: ``ev_kw_per_phase`` follows the wiring as the planner does (a
one-phase EV on a rotated three-phase charger loads the phase the charger's L1 is wired to)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from csms.store.tables import MeterSampleRow, SessionRow

pytestmark = pytest.mark.store
T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


# Each charger's register gains 1 kWh per 10 minutes: 6 kW. Hand-computed per-phase shares.
@pytest.mark.parametrize("wiring, charger_type, amps, expected", [
    ("L2L3L1", "AC", {"L1": 26.0, "L2": 0.0, "L3": 0.0}, [0.0, 6.0, 0.0]),   # 1-phase EV
    ("L3L1L2", "AC", {"L1": 13.0, "L2": 13.0, "L3": 0.0}, [3.0, 0.0, 3.0]),  # 2-phase EV
    ("L2L3L1", "AC", {"L1": 9.0, "L2": 9.0, "L3": 9.0}, [2.0, 2.0, 2.0]),
    ("L2L3L1", "AC", {}, [2.0, 2.0, 2.0]),                 # no currents: all wired phases
    ("L3", "AC", {}, [0.0, 0.0, 6.0]),
    ("L1", "DC", {}, [2.0, 2.0, 2.0]),                     # DC: balanced
])
async def test_per_phase_load_follows_wiring_and_drawn_phases(api, wiring, charger_type, amps,
                                                              expected):
    admin, viewer = api.tokens["admin"], api.tokens["viewer"]
    site = (await api.post("/api/v1/sites", json={"name": "p", "capacity_kw": 30},
                           headers=admin)).json()
    r = await api.put(f"/api/v1/sites/{site['id']}/chargers/CP-R",
                      json={"phase_wiring": wiring, "max_power_w": 22080,
                            "charger_type": charger_type}, headers=admin)
    assert r.status_code == 200, r.text
    with Session(api.engine) as s:
        row = SessionRow(charger_id="CP-R", protocol="2.0.1", transaction_ref="tx", evse_id=1,
                         started_at=T0, started_received_at=T0)
        s.add(row)
        s.flush()
        for k in range(4):
            at = T0 + timedelta(minutes=10 * k)
            s.add(MeterSampleRow(charger_id="CP-R", session_id=row.id, evse_id=1, timestamp=at,
                                 received_at=at, measurand="Energy.Active.Import.Register",
                                 value=1000.0 * k, unit="Wh"))
            for phase, a in amps.items():
                s.add(MeterSampleRow(charger_id="CP-R", session_id=row.id, evse_id=1,
                                     timestamp=at, received_at=at, measurand="Current.Import",
                                     phase=phase, value=a, unit="A"))
        s.commit()
    r = await api.get(f"/api/v1/sites/{site['id']}/load", headers=viewer, params={
        "from": T0.isoformat(), "to": (T0 + timedelta(minutes=30)).isoformat(), "step_s": 600})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ev_kw"] == [6.0, 6.0, 6.0]
    assert body["ev_kw_per_phase"] == [expected] * 3
