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
