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
from csms.domain.model import Policy, Protocol
from csms.ocpp.profiles import Capabilities
from csms.sites.snapshot import ChargerInfo, EvseSession, SiteSnapshot


def warm_up() -> planner.Plan:
    now = clock.now()
    charger = ChargerInfo(id="warm-up", protocol=Protocol.V201, connected=True, ac=True, phases=3,
                          evse_max_w=11_040.0, evses=1, caps=Capabilities(protocol=Protocol.V201))
    session = EvseSession(charger_id="warm-up", evse_id=1, session_id=0,
                          transaction_ref="warm-up", ac=True, phases=3, max_w=11_040.0,
                          started_at=now, energy_wh=0.0, requested_wh=10_000.0,
                          departure=now + timedelta(hours=2), needs_source="default")
    snap = SiteSnapshot(site_id=0, name="warm-up", now=now, capacity_kw=60.0,
                        policy=Policy.LOAD_BALANCING, policy_params={}, control_period_s=60,
                        tariff={"name": "onee-default"}, pv_kwp=10.0, latitude=33.6,
                        longitude=-7.6, base_load_profile="office", base_load_peak_kw=10.0,
                        chargers=(charger,), sessions=(session,))
    return planner.plan(snap)
