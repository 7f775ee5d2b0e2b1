"""An offline charger keeps applying the TxProfile we leased it (OCPP K01: a profile is in
force until it ends, connected or not): its power is kept for it until the lease ends, not
handed to the cars we can still reach (an independent 1.6 charger dropped its socket at
16 A and another charger was raised into its room: the site drew 155 % of its limit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from csms.control import planner
from csms.control import state as st
from csms.sites import service as sites
from csms.sites.snapshot import site_snapshot
from csms.store.tables import ChargerRow, SessionRow

pytestmark = pytest.mark.store
T0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("lease_left_min, held", [(5, True), (-1, False)])
def test_an_offline_chargers_leased_limit_is_kept_for_it(api, lease_left_min, held):
    with Session(api.engine) as s:
        site = sites.create_site(s, {"name": f"off-{held}", "capacity_kw": 30}, T0)
        ids = []
        for name in ("ON", "OFF"):
            cid = f"CP-{name}-{held}"
            sites.assign_charger(s, site.id, cid, T0, "L1L2L3", 22_080.0, "AC")
            charger = s.get(ChargerRow, cid)
            charger.connected, charger.protocol = name == "ON", "1.6"
            row = SessionRow(charger_id=cid, protocol="1.6", transaction_ref=name, evse_id=1,
                             started_at=T0, started_received_at=T0, active=True)
            s.add(row)
            s.flush()
            ids.append((cid, row.id))
        off_id, off_session = ids[1]
        st.upsert_state(s, off_id, 1, {
            "session_id": off_session, "transaction_ref": "OFF", "purpose": "tx",
            "limit_w": 11_040.0, "limit_value": 16.0, "limit_unit": "A", "accepted": True,
            "sent_at": T0, "lease_until": T0 + timedelta(minutes=10 + lease_left_min)}, T0)
        s.commit()
        snap = site_snapshot(s, site.id, T0 + timedelta(minutes=10))
    assert [x.charger_id for x in snap.sessions] == [ids[0][0]]  # only the reachable car
    plan = planner.plan(snap)
    if held:
        assert snap.held == ((off_id, 1, 11_040.0),)
        assert (off_id, 1) not in snap.idle_evses
        assert plan.power_w.sum() <= 30_000.0 - 11_040.0 + 1.0
    else:  # the lease is over: it is back on its fail-safe, reserved as an idle EVSE's
        assert snap.held == () and (off_id, 1) in snap.idle_evses


def test_a_charger_without_smart_charging_is_uncontrolled_load_from_the_start(api):
    """Its fail-safe was answered NotSupported: its car is planned around at once, not after
    two readings over a refused limit (the harness: 78 kW on a 70-kW site meanwhile)."""
    with Session(api.engine) as s:
        site = sites.create_site(s, {"name": "no-sc", "capacity_kw": 30}, T0)
        for cid in ("CP-NS", "CP-OK"):
            sites.assign_charger(s, site.id, cid, T0, "L1L2L3", 22_080.0, "AC")
            charger = s.get(ChargerRow, cid)
            charger.connected, charger.protocol = True, "1.6"
            s.add(SessionRow(charger_id=cid, protocol="1.6", transaction_ref=cid, evse_id=1,
                             started_at=T0, started_received_at=T0, active=True))
        st.upsert_state(s, "CP-NS", 0, {"purpose": "tx_default", "accepted": False,
                                        "why": "unsupported", "sent_at": T0}, T0)
        s.commit()
        snap = site_snapshot(s, site.id, T0 + timedelta(minutes=1))
    obeying = {x.charger_id: x.obeying for x in snap.sessions}
    assert obeying == {"CP-NS": False, "CP-OK": True}
    plan = planner.plan(snap)
    assert [x.charger_id for x in plan.sessions] == ["CP-OK"]
    assert plan.power_w.sum() <= 30_000.0 - 22_080.0 + 1.0  # CP-NS kept at its rating
