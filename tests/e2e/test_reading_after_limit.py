"""A car that takes less than it is offered is known within seconds, not a meter interval.

After a raised limit lands on a 1.6 charger, the control loop asks for a reading
(TriggerMessage MeterValues, 1.6 section 5.17); the reading shows the car's own maximum, the
loop learns it and re-plans, so its unused share goes to other cars. The chargers here sample
every 10 minutes, so only the asked-for reading can teach anything in the first minute. A
charger that answers NotImplemented is not asked again; 2.0.1 chargers are not asked (their
MeterValuesRequest names no transaction).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from csms.control import actuator
from csms.store.tables import CommandRow, SmartChargingStateRow
from simulators.charger.model import ChargerType
from tests.e2e import smart_harness
from tests.e2e.smart_harness import EV_3PH, smart_site

pytestmark = pytest.mark.slow

SPEED = 20.0
START = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
AC22 = ChargerType("ac22", "AC", 22_080.0, 3, 2)
PLAN = [("RA-16", "1.6", AC22), ("RA-NI", "1.6", AC22), ("RA-201", "2.0.1", AC22)]
METER_INTERVAL_S = 600.0


async def _state(site, charger_id: str) -> SmartChargingStateRow | None:
    return await site.services.worker.run(
        lambda s: s.get(SmartChargingStateRow, (charger_id, 1)))


async def _triggers(site, charger_id: str) -> list[CommandRow]:
    return await site.services.worker.run(lambda s: list(s.exec(select(CommandRow).where(
        CommandRow.charger_id == charger_id, CommandRow.action == "TriggerMessage")).all()))


async def test_a_car_taking_less_is_learned_from_the_reading_asked_for(database_url,
                                                                        monkeypatch):
    original = smart_harness.Charger16.__init__

    def slow_meters(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.meter_interval_s = METER_INTERVAL_S

    monkeypatch.setattr(smart_harness.Charger16, "__init__", slow_meters)
    async with smart_site(database_url, PLAN, 100.0, "load_balancing", SPEED, START) as site:
        by_id = {c.id: c for c in site.chargers}
        by_id["RA-201"].meter_interval_s = METER_INTERVAL_S
        # RA-NI cannot TriggerMessage MeterValues.
        by_id["RA-NI"].trigger = lambda message, connector_id: False
        await site.sleep(60)
        plugged_at = site.sim_clock.now()
        for k, cid in enumerate(["RA-16", "RA-NI", "RA-201"]):
            site.plug(by_id[cid], 1, EV_3PH, 3600.0, f"TAG-RA-{k}", 60_000.0)
        learned_at = None
        for _ in range(60):
            await site.sleep(2)
            row = await _state(site, "RA-16")
            if row is not None and row.ev_max_w is not None:
                learned_at = site.sim_clock.now()
                break
        assert learned_at is not None, "the car's maximum was not learned"
        # Plug-in, batching, a solve and the reading READING_AFTER_S after the limit landed:
        # well inside the chargers' 10-minute sampling.
        assert learned_at - plugged_at <= timedelta(seconds=actuator.READING_AFTER_S + 30)
        assert row.ev_max_w == pytest.approx(EV_3PH.ac_max_power_w, rel=0.1)
        # It was learned from the reading asked for, and the loop acted on it at once: the
        # limit follows the car's maximum, not the 22 kW the EVSE could give.
        (trigger,) = await _triggers(site, "RA-16")
        assert trigger.source == "control" and trigger.state == "accepted"
        await site.sleep(10)
        row = await _state(site, "RA-16")
        assert row.limit_w <= 1.1 * EV_3PH.ac_max_power_w
        # Refused once: not asked again, not even for the next car's first limit.
        assert len(await _triggers(site, "RA-NI")) == 1
        site.plug(by_id["RA-NI"], 2, EV_3PH, 3600.0, "TAG-RA-3", 60_000.0)
        for _ in range(30):
            await site.sleep(2)
            row2 = await site.services.worker.run(
                lambda s: s.get(SmartChargingStateRow, ("RA-NI", 2)))
            if row2 is not None and row2.limit_w:
                break
        assert row2 is not None and row2.limit_w
        await site.sleep(actuator.READING_AFTER_S + 10)
        assert len(await _triggers(site, "RA-NI")) == 1
        assert not await _triggers(site, "RA-201")
