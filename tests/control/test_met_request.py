"""A car whose ISO 15118 request is met but that would still take power is not left at 0 while
the site has room (seen in make demo: a Twingo that asked for 17.7 kWh sat at 0 in
SuspendedEVSE for its last 15 minutes on a site that drew 28 of its 150 kW minutes before).
Cars short of their request come first; a car that says it is full (SuspendedEV) gets nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from csms.control import planner
from csms.ocpp import profiles as pf
from csms.sites.snapshot import ChargerInfo, EvseSession, SiteSnapshot

NOW = datetime(2026, 6, 9, 9, 0, tzinfo=UTC)
CAR_W = 22_080.0  # three-phase 32 A
MIN3_W = 3 * 6 * 230.0


def _site(states: list[tuple[float, float, str | None]], capacity_kw: float,
          policy: str = "load_balancing") -> SiteSnapshot:
    """One three-phase 22 kW charger per car: (requested Wh, delivered Wh, charging state)."""
    chargers, sessions = [], []
    for i, (want_wh, got_wh, state) in enumerate(states):
        c = ChargerInfo(id=f"C{i}", protocol="2.0.1", connected=True, ac=True, phases=3,
                        evse_max_w=CAR_W, evses=1, caps=pf.Capabilities(protocol="2.0.1"),
                        wiring="L1L2L3")
        chargers.append(c)
        sessions.append(EvseSession(
            charger_id=c.id, evse_id=1, session_id=i + 1, transaction_ref=f"t{i}", ac=True,
            phases=3, max_w=CAR_W, started_at=NOW - timedelta(hours=1), energy_wh=got_wh,
            requested_wh=want_wh, departure=NOW + timedelta(hours=1), needs_source="ev",
            ev_state=state, wiring=c.wiring))
    return SiteSnapshot(site_id=1, name="s", now=NOW, capacity_kw=capacity_kw, policy=policy,
                        policy_params={}, control_period_s=300, tariff={"name": "onee-default"},
                        pv_kwp=0.0, latitude=33.6, longitude=-7.6, base_load_profile=None,
                        base_load_peak_kw=0.0, chargers=tuple(chargers),
                        sessions=tuple(sessions))


@pytest.mark.parametrize("state", ["SuspendedEVSE", "Charging"])
def test_a_met_request_that_still_wants_gets_the_free_room(state):
    plan = planner.plan(_site([(17_724.0, 17_761.0, state)], capacity_kw=150.0))
    assert plan.power_w[0] == pytest.approx(CAR_W)  # load balancing: all the room it takes


def test_a_car_that_says_it_is_full_gets_nothing():
    plan = planner.plan(_site([(17_724.0, 17_761.0, "SuspendedEV")], capacity_kw=150.0))
    assert plan.power_w[0] == 0.0 and plan.why[0] == "energy_met"


@pytest.mark.parametrize("policy", ["peak_shaving", "valley_filling", "price_optimization"])
def test_other_policies_give_it_its_minimum(policy):
    plan = planner.plan(_site([(17_724.0, 17_761.0, "SuspendedEVSE")], capacity_kw=150.0,
                              policy=policy))
    assert plan.power_w[0] == pytest.approx(MIN3_W) and plan.why[0] == "floor"


def test_cars_short_of_their_request_come_first():
    # 30 kW: the car short of its request takes its 22.08 kW; the met one gets the rest
    # (7.92 kW, above its 4.14-kW minimum), not a share taken from the other.
    plan = planner.plan(_site([(17_724.0, 17_761.0, "SuspendedEVSE"),
                               (40_000.0, 5_000.0, "Charging")], capacity_kw=30.0))
    assert plan.power_w[1] == pytest.approx(CAR_W)
    assert plan.power_w[0] == pytest.approx(30_000.0 - CAR_W, abs=1.0)
    # 24 kW: no room for the met car's minimum after the other.
    plan = planner.plan(_site([(17_724.0, 17_761.0, "SuspendedEVSE"),
                               (40_000.0, 5_000.0, "Charging")], capacity_kw=24.0))
    assert plan.power_w[0] == 0.0 and plan.power_w[1] == pytest.approx(CAR_W)
