"""Overview alerts for chargers and their limits come from the control loop's verdicts, judged
with the loop's one rule (``csms.control.verify.over_limit_w``): a charger over its limit now is
a danger, one caught earlier and within its limit now a warning, an honest one nothing."""

from __future__ import annotations

from sqlmodel import Session

from csms import clock
from csms.store.tables import ChargerRow, CommandRow, SmartChargingStateRow


def _state(s: Session, charger_id: str, limit_w: float, measured_w: float, obeying: bool) -> None:
    now = clock.wall_now()
    s.add(ChargerRow(id=charger_id, registered_at=now))
    s.flush()
    s.add(SmartChargingStateRow(charger_id=charger_id, evse_id=1, purpose="tx", limit_w=limit_w,
                                sent_at=now, accepted=True, measured_w=measured_w,
                                measured_at=now, obeying=obeying, violations=0 if obeying else 3,
                                updated_at=now))


async def test_limit_alerts_follow_the_loop(services, client_for):
    now = clock.wall_now()
    with Session(services.engine) as s:
        _state(s, "LIM-OVER", 4_140.0, 11_040.0, False)
        _state(s, "LIM-CAUGHT", 0.0, 0.0, False)
        _state(s, "LIM-HONEST", 11_040.0, 11_000.0, True)
        # An accepted fail-safe of 0 A on EVSE 0 beside the transaction's own limit: the old
        # console check read it as the charger's limit and flagged the honest charger.
        s.add(CommandRow(charger_id="LIM-HONEST", action="SetChargingProfile", payload={
            "connectorId": 0, "csChargingProfiles": {
                "chargingProfileId": 1, "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
                "chargingSchedule": {"chargingRateUnit": "A", "startSchedule": now.isoformat(),
                                     "chargingSchedulePeriod": [{"startPeriod": 0,
                                                                 "limit": 0.0}]}}},
            state="accepted", source="control", created_at=now, sent_at=now,
            completed_at=now))
        s.commit()
    viewer = await client_for("viewer")
    page = (await viewer.get("/")).text
    assert "Charger LIM-OVER draws 6.9 kW above its limit of 4.1 kW" in page
    assert "Charger LIM-CAUGHT ignored its limit" in page
    assert "LIM-CAUGHT draws" not in page  # no "0.0 kW above its limit of 0.0 kW"
    assert "LIM-HONEST draws" not in page and "LIM-HONEST ignored" not in page
    french = (await viewer.get("/?lang=fr")).text
    assert "La borne LIM-CAUGHT a ignoré sa limite" in french
