"""A car that reports no charging needs is planned within its registered vehicle's facts: the
AC or DC maximum and AC phases of the model, and no more energy than its battery takes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from csms.control.planner import plan
from csms.fleet import registry
from csms.ocpp.charging_needs import parse
from csms.sites import service as sites
from csms.sites.snapshot import CHARGE_EFFICIENCY_LOW, site_snapshot
from csms.store.tables import (
    ChargerEventRow,
    ChargerRow,
    IdTokenRow,
    MeterSampleRow,
    SessionRow,
)

pytestmark = pytest.mark.store
T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def _site(s: Session, charger_id: str, kind: str, rating_w: float, energy_kwh: float = 20.0
          ) -> int:
    site = sites.create_site(s, {"name": f"site-{charger_id}", "capacity_kw": 400,
                                 "policy_params": {"default_energy_kwh": energy_kwh}}, T0)
    sites.assign_charger(s, site.id, charger_id, T0, "L1L2L3", rating_w, kind)
    charger = s.get(ChargerRow, charger_id)
    charger.connected, charger.protocol = True, "1.6"
    return site.id


def _charging(s: Session, charger_id: str, token: str) -> SessionRow:
    row = SessionRow(charger_id=charger_id, protocol="1.6", transaction_ref="1", evse_id=1,
                     id_token=token, started_at=T0, started_received_at=T0, active=True)
    s.add(row)
    s.flush()
    return row


def _vehicle(s: Session, name: str, model: str, token: str) -> None:
    s.add(IdTokenRow(id_token=token, created_at=T0))
    s.flush()
    registry.create_vehicle(s, {"name": name, "model": model, "id_token": token}, T0)


def test_a_registered_ac_car_gets_its_model_limits(api):
    """A Dacia Spring (one phase, 6.6 kW, 26.8 kWh) on a 22 kW AC charger, the site guessing
    40 kWh: planned at 6.6 kW on one phase and at most one battery of energy."""
    with Session(api.engine) as s:
        site_id = _site(s, "CP-VA", "AC", 22_080.0, energy_kwh=40.0)
        _vehicle(s, "Spring 1", "Dacia Spring", "SPRING-1")
        _charging(s, "CP-VA", "SPRING-1")
        s.commit()
        snap = site_snapshot(s, site_id, T0 + timedelta(minutes=5))
    (car,) = snap.sessions
    assert car.vehicle_id is not None
    assert car.phases == 1 and car.max_w == pytest.approx(6_600.0)
    assert car.requested_wh == pytest.approx(26_800.0 / CHARGE_EFFICIENCY_LOW)
    result = plan(snap)
    assert 0 < result.power_w[0] <= 6_600.0 + 1e-6
    assert result.why[0] == "ev_max"


def test_without_a_vehicle_the_charger_and_the_guess_stand(api):
    with Session(api.engine) as s:
        site_id = _site(s, "CP-VN", "AC", 22_080.0, energy_kwh=40.0)
        _charging(s, "CP-VN", "WHO")
        s.commit()
        snap = site_snapshot(s, site_id, T0 + timedelta(minutes=5))
    (car,) = snap.sessions
    assert car.vehicle_id is None
    assert car.phases == 3 and car.max_w == pytest.approx(22_080.0)
    assert car.requested_wh == pytest.approx(40_000.0)
    assert plan(snap).power_w[0] > 20_000.0


def test_a_dc_car_gets_its_dc_maximum_and_the_rest_of_its_battery(api):
    """A BMW i3 (50 kW DC, 37.9 kWh) at 60 % SoC on a 150 kW DC charger."""
    with Session(api.engine) as s:
        site_id = _site(s, "CP-VD", "DC", 150_000.0, energy_kwh=40.0)
        _vehicle(s, "i3", "BMW i3", "I3")
        row = _charging(s, "CP-VD", "I3")
        row.energy_wh = 2_000.0
        s.add(MeterSampleRow(charger_id="CP-VD", session_id=row.id, evse_id=1, timestamp=T0,
                             received_at=T0, measurand="SoC", value=60.0, unit="Percent"))
        s.commit()
        snap = site_snapshot(s, site_id, T0 + timedelta(minutes=5))
    (car,) = snap.sessions
    assert car.max_w == pytest.approx(50_000.0)
    room_wh = 37_900.0 * 0.4 / CHARGE_EFFICIENCY_LOW
    assert car.requested_wh == pytest.approx(2_000.0 + room_wh)  # below the 40-kWh guess
    assert plan(snap).power_w[0] <= 50_000.0 + 1e-6


def test_a_car_that_reports_its_needs_keeps_them(api):
    """ISO 15118 needs (32 A on three phases, 10 kWh) are the car's own word: the registry's
    Spring does not override them."""
    with Session(api.engine) as s:
        site_id = _site(s, "CP-VE", "AC", 22_080.0)
        _vehicle(s, "Spring 2", "Dacia Spring", "SPRING-2")
        _charging(s, "CP-VE", "SPRING-2")
        s.add(ChargerEventRow(
            charger_id="CP-VE", kind="NotifyEVChargingNeeds", evse_id=1,
            received_at=T0 + timedelta(seconds=5), payload=parse({"evseId": 1, "chargingNeeds": {
                "requestedEnergyTransfer": "AC_three_phase",
                "departureTime": "2026-03-03T16:00:00Z",
                "acChargingParameters": {"energyAmount": 10_000, "evMinCurrent": 6,
                                         "evMaxCurrent": 32, "evMaxVoltage": 230}}}).as_json()))
        s.commit()
        snap = site_snapshot(s, site_id, T0 + timedelta(minutes=5))
    (car,) = snap.sessions
    assert car.vehicle_id is None and car.needs_source == "ev"
    assert car.phases == 3 and car.max_w == pytest.approx(22_080.0)
