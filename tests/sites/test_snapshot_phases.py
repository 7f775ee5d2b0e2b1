"""The site snapshot plans a car on the phases it draws on: a one-phase car paused at 0 A is
still a one-phase car (planned as three-phase, its per-phase current would give it a third of
its share), and a 2.0.1 car that asked for AC_single_phase is one-phase before it draws."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from csms.ocpp.charging_needs import parse
from csms.sites import service as sites
from csms.sites.snapshot import site_snapshot
from csms.store.tables import ChargerEventRow, ChargerRow, MeterSampleRow, SessionRow

pytestmark = pytest.mark.store
T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def _setup(s: Session, charger_id: str) -> tuple[int, int]:
    site = sites.create_site(s, {"name": f"site-{charger_id}", "capacity_kw": 60}, T0)
    sites.assign_charger(s, site.id, charger_id, T0, "L1L2L3", 22_080.0, "AC")
    charger = s.get(ChargerRow, charger_id)
    charger.connected, charger.protocol = True, "1.6"
    row = SessionRow(charger_id=charger_id, protocol="1.6", transaction_ref="7", evse_id=1,
                     started_at=T0, started_received_at=T0, active=True)
    s.add(row)
    s.flush()
    return site.id, row.id


def _sample(s: Session, charger_id: str, session_id: int, at: datetime, power_w: float,
            amps: tuple[float, float, float]) -> None:
    s.add(MeterSampleRow(charger_id=charger_id, session_id=session_id, evse_id=1, timestamp=at,
                         received_at=at, measurand="Power.Active.Import", value=power_w,
                         unit="W"))
    for phase, a in zip(("L1", "L2", "L3"), amps, strict=True):
        s.add(MeterSampleRow(charger_id=charger_id, session_id=session_id, evse_id=1,
                             timestamp=at, received_at=at, measurand="Current.Import",
                             phase=phase, value=a, unit="A"))


def _needs_event(charger_id: str, transfer: str) -> ChargerEventRow:
    """A 2.0.1 NotifyEVChargingNeeds (as the adapter stores it): 10 kWh by 16:00, up to 32 A."""
    return ChargerEventRow(charger_id=charger_id, kind="NotifyEVChargingNeeds", evse_id=1,
                           received_at=T0 + timedelta(seconds=5), payload=parse({
                               "evseId": 1, "chargingNeeds": {
                                   "requestedEnergyTransfer": transfer,
                                   "departureTime": "2026-03-03T16:00:00Z",
                                   "acChargingParameters": {
                                       "energyAmount": 10_000, "evMinCurrent": 6,
                                       "evMaxCurrent": 32, "evMaxVoltage": 230}}}).as_json())


@pytest.mark.parametrize("samples, expected_phases", [
    ([], 3),                                                    # nothing known: the charger's
    ([(3_680.0, (16.0, 0.0, 0.0))], 1),                         # one phase drawing
    ([(3_680.0, (16.0, 0.0, 0.0)), (0.0, (0.0, 0.0, 0.0))], 1),  # paused: still one-phase
    ([(11_040.0, (16.0, 16.0, 16.0)), (0.0, (0.0, 0.0, 0.0))], 3),
])
def test_phases_are_those_the_car_last_drew_on(api, samples, expected_phases):
    cid = f"CP-PH-{len(samples)}-{expected_phases}"
    with Session(api.engine) as s:
        site_id, session_id = _setup(s, cid)
        for k, (power_w, amps) in enumerate(samples):
            _sample(s, cid, session_id, T0 + timedelta(minutes=k + 1), power_w, amps)
        s.commit()
        snap = site_snapshot(s, site_id, T0 + timedelta(minutes=5))
    (session,) = snap.sessions
    assert session.phases == expected_phases
    # A 22 kW (32 A x 3) EVSE gives a one-phase car at most 32 A on its phase, 7.36 kW.
    assert session.max_w == pytest.approx(22_080.0 * expected_phases / 3)
    if samples:
        assert session.measured_w == samples[-1][0]


def test_a_car_that_asked_for_one_phase_is_planned_on_one(api):
    with Session(api.engine) as s:
        site_id, _ = _setup(s, "CP-NEEDS")
        s.add(_needs_event("CP-NEEDS", "AC_single_phase"))
        s.commit()
        snap = site_snapshot(s, site_id, T0 + timedelta(minutes=1))
    (session,) = snap.sessions
    assert session.phases == 1 and session.max_w == pytest.approx(32 * 230.0)
    assert session.requested_wh == 10_000 and session.needs_source == "ev"


def test_a_16_status_notification_is_the_sessions_charging_state(api):
    """1.6 reports SuspendedEV in StatusNotification, 2.0.1 in TransactionEvent: the snapshot
    sees both as the session's charging state (a replayed older status changes nothing)."""
    from csms.domain.events import StatusReported
    from csms.handlers.chargers import status_reported

    with Session(api.engine) as s:
        site_id, _ = _setup(s, "CP-STATE")
        for status, minute in (("Charging", 2), ("SuspendedEV", 4), ("Charging", 3)):
            at = T0 + timedelta(minutes=minute)
            status_reported(s, StatusReported("CP-STATE", at, 1, 1, status, at), None)
        s.commit()
        snap = site_snapshot(s, site_id, T0 + timedelta(minutes=5))
    (session,) = snap.sessions
    assert session.ev_state == "SuspendedEV"


def test_a_guessed_need_that_is_met_is_extended_a_declared_one_is_not(api):
    """A 1.6 car never says what it wants: when the site's guess (20 kWh) is delivered, it
    still needs energy as far as the CSMS knows; a 2.0.1 car that asked for 10 kWh does not."""
    with Session(api.engine) as s:
        site_id, session_id = _setup(s, "CP-GUESS")
        sites.update_site(s, site_id, {"policy_params": {"default_energy_kwh": 20}})
        row = s.get(SessionRow, session_id)
        row.energy_wh = 21_000.0
        s.commit()
        snap = site_snapshot(s, site_id, T0 + timedelta(minutes=30))
        (guessed,) = snap.sessions
        assert guessed.needs_source == "default"
        assert guessed.requested_wh > guessed.energy_wh == 21_000.0
        s.add(_needs_event("CP-GUESS", "AC_three_phase"))
        s.commit()
        snap = site_snapshot(s, site_id, T0 + timedelta(minutes=30))
    (declared,) = snap.sessions
    assert declared.needs_source == "ev" and declared.requested_wh == 10_000
