"""One test per overview alert kind not covered elsewhere (issue 13: "an alert test per alert
kind"): the site over its limit, a grid KPI out of range, a faulted connector, a charger clock
off the CSMS's, offline chargers (five named, the rest counted). Limit, quota, meter-data,
silence and security alerts have theirs in test_limit_alerts, test_data_alerts and
test_security_pages. Each also checks the alert is absent when its cause is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from csms import clock
from csms.store.tables import ChargerRow, ConnectorRow, SiteRow

pytestmark = pytest.mark.store
NOW = datetime(2026, 6, 16, 10, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Casablanca


@pytest.fixture
def frozen():
    clock.configure(speed=1e-9, start=NOW)
    yield
    clock.configure()


def _add(services, *rows) -> None:
    with Session(services.engine) as s:
        s.add_all(rows)
        s.commit()


def _charger(cid: str, **fields) -> ChargerRow:
    return ChargerRow(id=cid, registered_at=NOW - timedelta(days=1), **fields)


async def _alerts(client) -> str:
    page = (await client.get("/?block=live")).text
    start = page.find('data-testid="alerts"')
    return page[start:] if start >= 0 else ""


async def test_site_over_its_limit_and_a_grid_kpi_out_of_range(services, client_for, frozen):
    viewer = await client_for("viewer")
    assert "is above the limit" not in await _alerts(viewer)
    # An office's base load at 11:00 on a 20-kW connection behind a 25-kVA transformer.
    _add(services, SiteRow(name="small", capacity_kw=20.0, base_load_profile="office",
                           base_load_peak_kw=60.0, transformer_kva=25.0, created_at=NOW))
    alerts = await _alerts(viewer)
    assert "Site power" in alerts and "is above the limit 20 kW" in alerts, alerts
    assert "Transformer loading out of range" in alerts, alerts


async def test_faulted_connector(services, client_for, frozen):
    viewer = await client_for("viewer")
    _add(services, _charger("CP-F", connected=True),
         ConnectorRow(charger_id="CP-F", evse_id=1, connector_id=1, status="Available",
                      status_at=NOW, received_at=NOW))
    assert "is faulted" not in await _alerts(viewer)
    with Session(services.engine) as s:
        row = s.get(ConnectorRow, ("CP-F", 1, 1))
        row.status, row.error_code = "Faulted", "GroundFailure"
        s.commit()
    assert "Charger CP-F connector 1 is faulted (GroundFailure)" in await _alerts(viewer)


async def test_clock_offset_over_a_minute(services, client_for, frozen):
    viewer = await client_for("viewer")
    _add(services, _charger("CP-ON-TIME", connected=True, clock_offset_s=45.0),
         _charger("CP-LATE", connected=True, clock_offset_s=-600.0))
    alerts = await _alerts(viewer)
    assert "CP-LATE&#39;s clock is -600 s off" in alerts, alerts  # HTML-escaped
    assert "CP-ON-TIME" not in alerts  # 45 s is within the minute the profiles allow for


async def test_offline_chargers_five_named_and_the_rest_counted(services, client_for, frozen):
    viewer = await client_for("viewer")
    _add(services, _charger("CP-UP", connected=True),
         *(_charger(f"CP-DOWN-{n}", connected=False) for n in range(7)))
    alerts = await _alerts(viewer)
    named = [n for n in range(7) if f"Charger CP-DOWN-{n} is offline" in alerts]
    assert len(named) == 5, alerts
    assert "2 more chargers offline" in alerts, alerts
    assert "CP-UP is offline" not in alerts
