"""The sessions list: duration, energy ("-" when unknown), the latest SOC, and pages of 50."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session

from csms import clock
from csms.store.tables import MeterSampleRow, SessionRow

pytestmark = pytest.mark.store


def _sessions(services, n: int) -> list[int]:
    t0 = clock.now() - timedelta(hours=3)
    ids = []
    with Session(services.engine) as s:
        for k in range(n):
            row = SessionRow(charger_id="CP-L", protocol="1.6", transaction_ref=f"L{k}", evse_id=1,
                             started_at=t0, started_received_at=t0,
                             stopped_at=t0 + timedelta(hours=1, minutes=5), active=False,
                             energy_wh=None if k == 0 else 1000.0 * k)
            s.add(row)
            s.flush()
            for minute, soc in ((10, 40.0), (60, 71.0)):
                at = t0 + timedelta(minutes=minute)
                s.add(MeterSampleRow(charger_id="CP-L", session_id=row.id, evse_id=1,
                                     timestamp=at, received_at=at, measurand="SoC",
                                     value=soc + k % 3, unit="Percent", location="EV"))
            ids.append(row.id)
        s.commit()
    return ids


async def test_duration_energy_soc_and_pages(services, client_for):
    ids = _sessions(services, 60)
    viewer = await client_for("viewer")
    first = (await viewer.get("/sessions")).text
    newest, oldest = ids[-1], ids[0]
    assert f'data-testid="duration-{newest}">1 h 05<' in first
    assert f'data-testid="soc-{newest}">{71 + 59 % 3}<' in first  # the latest reading
    assert len(re.findall(r'data-testid="energy-', first)) == 50
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = (await viewer.get("/sessions?page=2")).text
    assert len(re.findall(r'data-testid="energy-', second)) == 10
    assert f'data-testid="energy-{oldest}">-<' in second  # unknown, not 0.00
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert (await viewer.get("/sessions?page=0")).status_code == 422
    # The live refresh of page 2 stays on page 2, with the filters.
    filtered = (await viewer.get("/sessions?charger_id=CP-L&page=2")).text
    assert 'hx-get="/sessions?charger_id=CP-L&amp;page=2&amp;block=table"' in filtered


async def test_cost_estimate_and_vehicle(services, client_for):
    """A session of 10 kWh from 10:00 to 12:00 local in the ONEE 'normal' band (1.35 MAD/kWh)
    costs 13.50 MAD in the list; one whose id token is linked to a registered vehicle names it."""
    from datetime import UTC, datetime

    from csms.store.tables import IdTokenRow, VehicleRow

    clock.configure(speed=1e-9, start=datetime(2026, 6, 16, 14, 0, tzinfo=UTC))
    try:
        start = datetime(2026, 6, 16, 9, 0, tzinfo=UTC)  # 10:00 in Casablanca
        with Session(services.engine) as s:
            s.add(IdTokenRow(id_token="FLEET-9", created_at=start))
            s.add(VehicleRow(name="Leaf of the depot", model="Nissan Leaf", battery_wh=39_000.0,
                             ac_phases=1, ac_max_w=6_600.0, dc_max_w=50_000.0, v2g=True,
                             id_token="FLEET-9", created_at=start))
            rows = [SessionRow(charger_id="CP-C", protocol="1.6", transaction_ref=ref, evse_id=1,
                               started_at=start, started_received_at=start, id_token=tag,
                               stopped_at=start + timedelta(hours=2), active=False,
                               energy_wh=10_000.0) for ref, tag in (("C1", "FLEET-9"),
                                                                     ("C2", "VISITOR"))]
            s.add_all(rows)
            s.commit()
            ids = [r.id for r in rows]
        page = (await (await client_for("viewer")).get("/sessions")).text
    finally:
        clock.configure()
    for sid in ids:
        assert f'data-testid="cost-{sid}">13.50<' in page, page[:3000]
    assert f'data-testid="vehicle-{ids[0]}"><a href="/vehicles">Leaf of the depot</a><' in page
    assert f'data-testid="vehicle-{ids[1]}">-<' in page
