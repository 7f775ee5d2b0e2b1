"""The non-zero fail-safe, end to end: 3 chargers (6 EVSEs, 1.6 and 2.0.1) on a 40 kW site
give every EVSE a fail-safe TxDefaultProfile of 40 / 6 = 6.67 kW (9.6 A per phase, above the
6 A minimum). With six 22 kW cars charging under the loop, the CSMS dies: once the leased
TxProfiles run out, every car goes on charging at its fail-safe, no more, and the site stays
under its limit without a CSMS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulators.charger.model import ChargerType
from tests.e2e.smart_harness import EV_3PH22, smart_site

pytestmark = pytest.mark.store

SPEED = 60.0
START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
CAPACITY_KW = 40.0
AC22 = ChargerType("ac22", "AC", 22_080.0, 3, 2)
PLAN = [("FS-1", "1.6", AC22), ("FS-2", "2.0.1", AC22), ("FS-3", "1.6", AC22)]
LEASE_S = 5 * 60  # a short lease (the default is 30 control periods) to see the fall-back


async def test_cars_charge_at_their_failsafe_after_the_csms_dies(database_url):
    async with smart_site(database_url, PLAN, CAPACITY_KW, "load_balancing", SPEED,
                          START, {"lease_s": LEASE_S}) as site:
        for i, c in enumerate(site.chargers):
            for e in c.evses:
                site.plug(c, e.id, EV_3PH22, 4 * 3600, f"FS-TAG-{i}-{e.id}", 60_000.0)
        await site.sleep(4 * 60)
        under_loop = site.interval_means_kw(START + timedelta(seconds=120),
                                            site.sim_clock.now())
        assert under_loop and max(under_loop) <= CAPACITY_KW, under_loop
        svc = site.services
        await svc.control.stop()
        await svc.gateway.stop()
        died = site.sim_clock.now()
        await site.sleep(LEASE_S + 180)
        share_a = int(CAPACITY_KW * 1000 / 6 / (3 * 230) * 10) / 10  # rounded down: 9.6 A
        for c in site.chargers:
            for e in c.evses:
                limit = c.limit(e, site.sim_clock.now())
                assert limit is not None and limit.unit == "A", (c.id, e.id, limit)
                assert limit.value == pytest.approx(share_a), (c.id, e.id, limit)
                assert 0 < e.power_w <= share_a * 230 * 3 + 1e-6, (c.id, e.id, e.power_w)
        after = site.interval_means_kw(died + timedelta(seconds=LEASE_S + 60),
                                       site.sim_clock.now())
        assert after and max(after) <= CAPACITY_KW, after
        assert min(after) >= 0.9 * 6 * share_a * 230 * 3 / 1000, after  # all six still charge
