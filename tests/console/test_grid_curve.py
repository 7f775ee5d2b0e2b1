"""The grid page's load curve is the last 24 h (it used to be today from midnight, labelled
"last 24 h"), from the same series as /api/v1/sites/{id}/load."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from csms import clock
from csms.store.tables import ChargerRow, MeterSampleRow, SessionRow, SiteRow

pytestmark = pytest.mark.store
NOW = datetime(2026, 6, 16, 7, 0, tzinfo=UTC)  # 08:00 in Casablanca


def _ev_path(page: str) -> list[float]:
    """The y coordinates of the EV power line (SVG: larger y is lower)."""
    path = re.search(r'<path class="line s1" d="([^"]+)"><title>EV power</title>', page)
    assert path, page[:3000]
    return [float(point.split(",")[1]) for point in path.group(1)[1:].split(" L")]


async def test_yesterday_afternoon_is_on_the_curve(services, client_for):
    clock.configure(speed=1e-9, start=NOW)
    try:
        with Session(services.engine) as s:
            site = SiteRow(name="curve", capacity_kw=60.0, created_at=NOW)
            s.add(site)
            s.flush()
            s.add(ChargerRow(id="CP-G", registered_at=NOW - timedelta(days=2), site_id=site.id))
            start = NOW - timedelta(hours=17)  # 15:00 local yesterday
            row = SessionRow(charger_id="CP-G", protocol="1.6", transaction_ref="G1", evse_id=1,
                             started_at=start, started_received_at=start, meter_start_wh=0.0,
                             stopped_at=start + timedelta(hours=1), active=False,
                             energy_wh=11_000.0)
            s.add(row)
            s.flush()
            for k in range(5):
                at = start + timedelta(minutes=15 * k)
                s.add(MeterSampleRow(charger_id="CP-G", session_id=row.id, evse_id=1,
                                     timestamp=at, received_at=at, value=2_750.0 * k,
                                     measurand="Energy.Active.Import.Register", unit="Wh"))
            s.commit()
        viewer = await client_for("viewer")
        page = (await viewer.get("/grid")).text
        ys = _ev_path(page)
        assert len(ys) == 96
        assert min(ys) < max(ys)  # 11 kW for an hour, 17 h ago
        assert "Site load, last 24 h" in page
        live = (await viewer.get("/grid?block=live")).text
        assert "EV power</title>" not in live  # the 2-s refresh does not redraw the curve
    finally:
        clock.configure()
