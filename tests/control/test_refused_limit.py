"""A charger that refuses our limits (CALLERROR NotSupported, Rejected) is not held by them:
drawing past the refused limit, it is planned around as uncontrolled load (an independent
1.6 charger answering NotSupported drew 11 kW while the plan counted it at 0, and the site
ran at 80 kW on a 70 kW limit)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from csms.control import planner
from csms.control.verify import verify_site
from csms.ocpp import profiles as pf
from csms.sites.snapshot import ChargerInfo, EvseSession, SiteSnapshot
from csms.store.tables import SmartChargingStateRow

NOW = datetime(2026, 6, 16, 9, 0, tzinfo=UTC)
CAR_W = 22_080.0


def _site(measured_w: float, at: datetime) -> SiteSnapshot:
    chargers, sessions = [], []
    for i in range(2):
        c = ChargerInfo(id=f"C{i}", protocol="1.6", connected=True, ac=True, phases=3,
                        evse_max_w=CAR_W, evses=1, caps=pf.Capabilities(protocol="1.6"),
                        wiring="L1L2L3")
        chargers.append(c)
        sessions.append(EvseSession(
            charger_id=c.id, evse_id=1, session_id=i + 1, transaction_ref=f"t{i}", ac=True,
            phases=3, max_w=CAR_W, started_at=NOW - timedelta(hours=1), energy_wh=0.0,
            requested_wh=60_000.0, departure=NOW + timedelta(hours=4), needs_source="default",
            measured_w=measured_w if i == 0 else 0.0, measured_at=at, wiring=c.wiring))
    return SiteSnapshot(site_id=1, name="s", now=at, capacity_kw=30.0, policy="load_balancing",
                        policy_params={}, control_period_s=60, tariff={"name": "onee-default"},
                        pv_kwp=0.0, latitude=33.6, longitude=-7.6, base_load_profile=None,
                        base_load_peak_kw=0.0, chargers=tuple(chargers), sessions=tuple(sessions))


def _refused(limit_w: float) -> SmartChargingStateRow:
    return SmartChargingStateRow(charger_id="C0", evse_id=1, session_id=1, transaction_ref="t0",
                                 limit_w=limit_w, limit_value=0.0, limit_unit="A",
                                 accepted=False, updated_at=NOW)


def _apply(row: SmartChargingStateRow, updates) -> None:
    for charger_id, evse_id, fields in updates:
        if (charger_id, evse_id) == ("C0", 1):
            for k, v in fields.items():
                setattr(row, k, v)


def test_a_car_drawing_past_a_refused_limit_is_planned_around():
    row = _refused(0.0)
    for k in range(2):  # two readings a minute apart, 11 kW each, against a refused 0 W
        snap = _site(11_040.0, NOW + timedelta(minutes=k))
        updates, flags, _ = verify_site(snap, {("C0", 1): row}, snap.now)
        _apply(row, updates)
        assert row.obeying == (k == 0)
    assert [f[:2] for f in flags] == [("C0", 1)]
    snap = replace(snap, sessions=tuple(replace(s, obeying=s.session_id != 1)
                                        for s in snap.sessions))
    plan = planner.plan(snap)
    # C0 is reserved at its EVSE's rating (22.08 kW, what it may draw): C1 gets the rest.
    assert [s.charger_id for s in plan.sessions] == ["C1"]
    assert plan.power_w.sum() <= 30_000.0 - CAR_W + 1.0


def test_the_same_reading_counts_once_and_a_car_under_it_is_not_flagged():
    row = _refused(0.0)
    snap = _site(11_040.0, NOW)
    for _ in range(3):  # the same reading, three runs
        updates, _, _ = verify_site(snap, {("C0", 1): row}, snap.now)
        _apply(row, updates)
    assert row.obeying and row.violations == 1
    row = _refused(11_040.0)
    for k in range(3):
        snap = _site(10_900.0, NOW + timedelta(minutes=k))
        updates, _, _ = verify_site(snap, {("C0", 1): row}, snap.now)
        _apply(row, updates)
    assert row.obeying and row.violations == 0

