"""Warm the planner before the first car arrives.

The first ``planner.plan`` of a process takes ~0.8 s (HiGHS, pandas and pvlib set-up on first
use) against ~0.02 s afterwards. Paid at the first arrival, that is the time every car of a
busy site waits at its fail-safe (0 A when the share is under 6 A); at a sped-up clock it is
most of a control period. The loop plans one made-up session in a thread when it starts.
"""

from __future__ import annotations

from datetime import timedelta

from csms import clock
from csms.control import planner
from csms.domain.model import Policy
from csms.ocpp.profiles import Capabilities
from csms.sites.snapshot import ChargerInfo, EvseSession, SiteSnapshot


def warm_up() -> planner.Plan:
    now = clock.now()
    charger = ChargerInfo("warm-up", "2.0.1", True, True, 3, 11_040.0, 1,
                          Capabilities("2.0.1"))
    session = EvseSession("warm-up", 1, 0, "warm-up", True, 3, 11_040.0, now, 0.0, 10_000.0,
                          now + timedelta(hours=2), "default")
    snap = SiteSnapshot(0, "warm-up", now, 60.0, Policy.LOAD_BALANCING, {}, 60,
                        {"name": "onee-default"}, 10.0, 33.6, -7.6, "office", 10.0,
                        (charger,), (session,), ())
    return planner.plan(snap)
