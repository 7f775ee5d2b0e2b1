"""Chargers of both versions against a real websocket central system (tests/simulators/central.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from ocpp.v16 import call as c16
from ocpp.v201 import call as c201

from simulators.charger.model import Faults
from simulators.clock import SimClock, iso
from simulators.ev import EV
from simulators.vehicles import vehicle
from tests.simulators.central import running_central
from tests.simulators.helpers import START, make_charger, running

PROTOCOLS = ["1.6", "2.0.1"]


def e208(soc=20.0, target=100.0, requested_wh=None):
    return EV(vehicle("Peugeot e-208"), soc_pct=soc, target_soc_pct=target,
              requested_energy_wh=requested_wh)


def power_samples(meter_rows):
    out = []
    for _, _, mvs in meter_rows:
        for mv in mvs:
            for sv in mv["sampled_value"]:
                if sv.get("measurand") == "Power.Active.Import":
                    out.append(float(sv["value"]))
    return out


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_full_session_matches_the_ledger(protocol):
    async with running_central() as central:
        ch = make_charger(protocol, central.url, speed=600.0)
        async with running(ch):
            task = ch.plug_in(1, e208(requested_wh=20_000), "TAG-1", dwell_s=1200)
            entry = await asyncio.wait_for(task, 30)
            await central.wait_for(lambda: any(s.stopped_at for s in central.sessions.values()))
            await central.wait_for(lambda: central.statuses[ch.id][-1][1] == "Available")
        (session,) = central.sessions.values()
        # 20 simulated minutes at 11 kW: about 3.67 kWh. The departure is seen on a 15 s tick,
        # and a busy machine can delay a tick by more simulated time at speed 600, so the upper
        # bound is 11 kW over the session's own reported duration, not over the nominal dwell.
        from datetime import datetime

        duration_h = (datetime.fromisoformat(session.stopped_at)
                      - datetime.fromisoformat(session.started_at)).total_seconds() / 3600
        assert 3300 <= entry.energy_wh <= 11_000 * duration_h * 1.01
        assert session.energy_wh == entry.energy_wh
        assert session.transaction_id == entry.remote_tx_id
        assert session.id_tag == "TAG-1" and session.stop_reason == "EVDisconnected"
        statuses = [s for e, s in central.statuses[ch.id] if e == 1]
        if protocol == "1.6":
            assert statuses == ["Available", "Preparing", "Charging", "Finishing", "Available"]
        else:
            assert statuses == ["Available", "Occupied", "Available"]
            kinds = [(e[2], e[3]) for e in central.events[ch.id]]
            assert kinds[0] == ("Started", "Authorized") and kinds[-1][0] == "Ended"
            assert ("Updated", "ChargingStateChanged") in kinds
            seq = [e[1] for e in central.events[ch.id]]
            assert seq == list(range(len(seq)))
            needs = [m for k, m in central.received[ch.id] if k == "NotifyEVChargingNeeds"]
            assert needs[0]["ac_charging_parameters"]["energy_amount"] == 20_000
        powers = power_samples(central.meter[ch.id])
        assert len(powers) >= 15 and max(powers) == pytest.approx(11_000, rel=0.01)
        measurands = {sv.get("measurand") for _, _, mvs in central.meter[ch.id] for mv in mvs
                      for sv in mv["sampled_value"]}
        assert {"Energy.Active.Import.Register", "Power.Active.Import", "Current.Import",
                "Voltage"} <= measurands


def tx_profile(protocol, tx_id, limit, pid=1, stack=0):
    sched = {"charging_rate_unit": "A",
             "charging_schedule_period": [{"start_period": 0, "limit": limit}]}
    if protocol == "1.6":
        return c16.SetChargingProfile(connector_id=1, cs_charging_profiles={
            "charging_profile_id": pid, "transaction_id": int(tx_id), "stack_level": stack,
            "charging_profile_purpose": "TxProfile", "charging_profile_kind": "Relative",
            "charging_schedule": sched})
    return c201.SetChargingProfile(evse_id=1, charging_profile={
        "id": pid, "transaction_id": tx_id, "stack_level": stack,
        "charging_profile_purpose": "TxProfile", "charging_profile_kind": "Relative",
        "charging_schedule": [{"id": 1, **sched}]})


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_obeys_a_profile_within_one_meter_interval(protocol):
    async with running_central() as central:
        ch = make_charger(protocol, central.url)
        async with running(ch):
            ch.plug_in(1, e208(), "TAG-2")
            await central.wait_for(lambda: central.sessions)
            await central.wait_for(lambda: len(power_samples(central.meter[ch.id])) >= 2)
            (session,) = central.sessions.values()
            cp = central.cps[ch.id]
            resp = await cp.call(tx_profile(protocol, session.transaction_id, 10.0),
                                 suppress=False)
            assert resp.status == "Accepted"
            n = len(power_samples(central.meter[ch.id]))
            # The next meter value (one interval = 0.5 s wall) already shows the limit.
            await central.wait_for(lambda: len(power_samples(central.meter[ch.id])) >= n + 1)
            after = power_samples(central.meter[ch.id])[n:]
            assert after and max(after) <= 10 * 230 * 3 + 1e-6
            if protocol == "1.6":
                comp = await cp.call(c16.GetCompositeSchedule(connector_id=1, duration=600,
                                                              charging_rate_unit="A"), suppress=False)
                periods = comp.charging_schedule["charging_schedule_period"]
            else:
                comp = await cp.call(c201.GetCompositeSchedule(duration=600, evse_id=1,
                                                               charging_rate_unit="A"), suppress=False)
                periods = comp.schedule["charging_schedule_period"]
                got = await cp.call(c201.GetChargingProfiles(
                    request_id=7, charging_profile={"charging_profile_purpose": "TxProfile"}),
                    suppress=False)
                assert got.status == "Accepted"
                await central.wait_for(lambda: any(k == "ReportChargingProfiles"
                                                   for k, _ in central.received[ch.id]))
            assert comp.status == "Accepted"
            assert [(p["start_period"], p["limit"]) for p in periods] == [(0, 10.0)]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_rejects_what_a_real_charger_rejects(protocol):
    async with running_central() as central:
        ch = make_charger(protocol, central.url, allowed_units=("A",))
        async with running(ch):
            cp = central.cps[ch.id]
            # A TxProfile with no transaction running.
            resp = await cp.call(tx_profile(protocol, "42", 10.0), suppress=False)
            assert resp.status == "Rejected"
            # An unsupported rate unit (this charger accepts A only).
            if protocol == "1.6":
                w = c16.SetChargingProfile(connector_id=1, cs_charging_profiles={
                    "charging_profile_id": 3, "stack_level": 0,
                    "charging_profile_purpose": "TxDefaultProfile",
                    "charging_profile_kind": "Absolute", "charging_schedule": {
                        "charging_rate_unit": "W", "start_schedule": "2024-03-05T08:00:00Z",
                        "charging_schedule_period": [{"start_period": 0, "limit": 5000.0}]}})
            else:
                w = c201.SetChargingProfile(evse_id=1, charging_profile={
                    "id": 3, "stack_level": 0, "charging_profile_purpose": "TxDefaultProfile",
                    "charging_profile_kind": "Absolute", "charging_schedule": [{
                        "id": 1, "charging_rate_unit": "W", "start_schedule": "2024-03-05T08:00:00Z",
                        "charging_schedule_period": [{"start_period": 0, "limit": 5000.0}]}]})
            assert (await cp.call(w, suppress=False)).status == "Rejected"
            if protocol == "2.0.1":
                def default(pid):
                    return c201.SetChargingProfile(evse_id=1, charging_profile={
                        "id": pid, "stack_level": 1, "charging_profile_purpose": "TxDefaultProfile",
                        "charging_profile_kind": "Absolute", "charging_schedule": [{
                            "id": 1, "charging_rate_unit": "A",
                            "start_schedule": "2024-03-05T08:00:00Z",
                            "charging_schedule_period": [{"start_period": 0, "limit": 16.0}]}]})
                assert (await cp.call(default(4), suppress=False)).status == "Accepted"
                dup = await cp.call(default(5), suppress=False)
                assert dup.status == "Rejected" and dup.status_info["reason_code"] == "DuplicateProfile"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_ignore_limits_fault_accepts_but_does_not_obey(protocol):
    async with running_central() as central:
        ch = make_charger(protocol, central.url, faults=Faults(ignore_limits=True))
        async with running(ch):
            ch.plug_in(1, e208(), "TAG-3")
            await central.wait_for(lambda: central.sessions)
            (session,) = central.sessions.values()
            await central.wait_for(lambda: session.transaction_id in ch.active_tx().values())
            resp = await central.cps[ch.id].call(tx_profile(protocol, session.transaction_id, 8.0),
                                                 suppress=False)
            assert resp.status == "Accepted"
            n = len(power_samples(central.meter[ch.id]))
            await central.wait_for(lambda: len(power_samples(central.meter[ch.id])) >= n + 2)
            assert min(power_samples(central.meter[ch.id])[n:]) > 8 * 230 * 3


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_remote_start_and_stop(protocol):
    async with running_central() as central:
        ch = make_charger(protocol, central.url)
        async with running(ch):
            cp = central.cps[ch.id]
            sched = {"charging_rate_unit": "A",
                     "charging_schedule_period": [{"start_period": 0, "limit": 7.0}]}
            if protocol == "1.6":
                req = c16.RemoteStartTransaction(id_tag="APP-1", connector_id=2, charging_profile={
                    "charging_profile_id": 11, "stack_level": 0,
                    "charging_profile_purpose": "TxProfile", "charging_profile_kind": "Relative",
                    "charging_schedule": sched})
            else:
                req = c201.RequestStartTransaction(
                    id_token={"id_token": "APP-1", "type": "Central"}, remote_start_id=1,
                    evse_id=2, charging_profile={
                        "id": 11, "stack_level": 0, "charging_profile_purpose": "TxProfile",
                        "charging_profile_kind": "Relative", "charging_schedule": [{"id": 1, **sched}]})
            assert (await cp.call(req, suppress=False)).status == "Accepted"
            await central.wait_for(lambda: central.sessions)
            (session,) = central.sessions.values()
            assert session.evse_id == 2 and session.id_tag == "APP-1"
            await central.wait_for(lambda: session.transaction_id in ch.active_tx().values())
            # The TxProfile that came with the remote start now limits the EVSE (7 A).
            await central.wait_for(lambda: ch.store.select(profile_ids=[11]))
            assert ch.limit(ch.evses[1], ch.clock.now()).value == 7.0
            stop = c16.RemoteStopTransaction(transaction_id=int(session.transaction_id)) \
                if protocol == "1.6" else \
                c201.RequestStopTransaction(transaction_id=session.transaction_id)
            assert (await cp.call(stop, suppress=False)).status == "Accepted"
            await central.wait_for(lambda: session.stopped_at is not None)
            assert session.stop_reason == "Remote"
            assert session.energy_wh == ch.ledger[0].energy_wh


async def test_configuration_and_variables():
    async with running_central() as central:
        a = make_charger("1.6", central.url, cid="CFG16")
        b = make_charger("2.0.1", central.url, cid="CFG201")
        async with running(a), running(b):
            cp = central.cps["CFG16"]
            conf = await cp.call(c16.GetConfiguration(key=["ChargeProfileMaxStackLevel", "Nope"]),
                                 suppress=False)
            assert conf.configuration_key[0]["value"] == "8" and conf.unknown_key == ["Nope"]
            ok = await cp.call(c16.ChangeConfiguration(key="MeterValueSampleInterval", value="30"),
                               suppress=False)
            assert ok.status == "Accepted" and a.meter_interval_s == 30.0
            ro = await cp.call(c16.ChangeConfiguration(key="NumberOfConnectors", value="3"),
                               suppress=False)
            assert ro.status == "Rejected"
            cp2 = central.cps["CFG201"]
            got = await cp2.call(c201.GetVariables(get_variable_data=[
                {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "ProfileStackLevel"}},
                {"component": {"name": "Nope"}, "variable": {"name": "X"}}]), suppress=False)
            assert [r["attribute_status"] for r in got.get_variable_result] == \
                ["Accepted", "UnknownComponent"]
            assert got.get_variable_result[0]["attribute_value"] == "8"
            st = await cp2.call(c201.SetVariables(set_variable_data=[
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
                 "attribute_value": "120"}]), suppress=False)
            assert st.set_variable_result[0]["attribute_status"] == "Accepted"
            assert b.heartbeat_interval_s == 120.0
            trig = await cp2.call(c201.TriggerMessage(requested_message="StatusNotification"),
                                  suppress=False)
            assert trig.status == "Accepted"
            unlock = await cp.call(c16.UnlockConnector(connector_id=1), suppress=False)
            assert unlock.status == "Unlocked"
            avail = await cp.call(c16.ChangeAvailability(connector_id=2, type="Inoperative"),
                                  suppress=False)
            assert avail.status == "Accepted"
            await central.wait_for(lambda: (2, "Unavailable") in central.statuses["CFG16"])


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_slow_answers_fault_and_clear_profile(protocol):
    async with running_central() as central:
        ch = make_charger(protocol, central.url, faults=Faults(answer_delay_s=0.3))
        async with running(ch):
            cp = central.cps[ch.id]
            if protocol == "1.6":
                req = c16.SetChargingProfile(connector_id=0, cs_charging_profiles={
                    "charging_profile_id": 9, "stack_level": 0,
                    "charging_profile_purpose": "ChargePointMaxProfile",
                    "charging_profile_kind": "Absolute", "charging_schedule": {
                        "charging_rate_unit": "A", "start_schedule": "2024-03-05T08:00:00Z",
                        "charging_schedule_period": [{"start_period": 0, "limit": 12.0}]}})
                clear = c16.ClearChargingProfile(id=9)
            else:
                req = c201.SetChargingProfile(evse_id=0, charging_profile={
                    "id": 9, "stack_level": 0, "charging_profile_purpose": "ChargingStationMaxProfile",
                    "charging_profile_kind": "Absolute", "charging_schedule": [{
                        "id": 1, "charging_rate_unit": "A", "start_schedule": "2024-03-05T08:00:00Z",
                        "charging_schedule_period": [{"start_period": 0, "limit": 12.0}]}]})
                clear = c201.ClearChargingProfile(charging_profile_id=9)
            t0 = asyncio.get_running_loop().time()
            assert (await cp.call(req, suppress=False)).status == "Accepted"
            assert asyncio.get_running_loop().time() - t0 >= 0.3  # answered slowly
            assert ch.limit(ch.evses[0], ch.clock.now()).value == 12.0
            assert (await cp.call(clear, suppress=False)).status == "Accepted"
            assert ch.store.profiles == [] and ch.limit(ch.evses[0], ch.clock.now()) is None
            assert (await cp.call(clear, suppress=False)).status == "Unknown"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_reset_ends_the_transaction_and_reboots(protocol):
    async with running_central() as central:
        ch = make_charger(protocol, central.url)
        async with running(ch):
            ch.plug_in(1, e208(), "TAG-RS")
            await central.wait_for(lambda: len(ch.active_tx()) == 1)
            req = c16.Reset(type="Hard") if protocol == "1.6" else c201.Reset(type="Immediate")
            assert (await central.cps[ch.id].call(req, suppress=False)).status == "Accepted"
            await central.wait_for(lambda: central.boots[ch.id] == 2)
            await central.wait_for(lambda: all(s.stopped_at for s in central.sessions.values()))
        (s,) = central.sessions.values()
        assert s.stop_reason == ("HardReset" if protocol == "1.6" else "ImmediateReset")
        assert s.energy_wh == ch.ledger[0].energy_wh


class _ManualClock(SimClock):
    """Simulated time that moves only when the test moves it."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.t = self.start

    def now(self):
        return self.t


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_new_limit_counts_from_when_it_arrives(protocol):
    """A CSMS backdates a TxProfile's startSchedule (clock skew); what the EV drew before the
    profile arrived is still metered under the limit then in force, not the new one."""
    clk = _ManualClock(1.0, START)
    ch = make_charger(protocol, "ws://127.0.0.1:9/unused", ctype="ac22", clock=clk)
    cp = ch.make_cp(None)
    evse = ch.evses[0]
    evse.ev = e208()
    ch.start_transaction(evse, "TAG-1")
    evse.tx.csms_id = "42"
    ch.tick_evse(evse, clk.now())
    assert evse.power_w == pytest.approx(11_000.0)  # the e-208's on-board charger, no limit yet
    clk.t += timedelta(seconds=10)  # no tick in between: the handler must settle first
    schedule = {"charging_rate_unit": "A", "start_schedule": iso(clk.t - timedelta(seconds=30)),
                "duration": 600, "charging_schedule_period": [{"start_period": 0, "limit": 6.0}]}
    profile = {"stack_level": 1, "charging_profile_purpose": "TxProfile",
               "charging_profile_kind": "Absolute"}
    if protocol == "1.6":
        answer = await cp.set_profile(connector_id=1, cs_charging_profiles={
            **profile, "charging_profile_id": 7, "transaction_id": 42,
            "charging_schedule": schedule})
    else:
        answer = await cp.set_profile(evse_id=1, charging_profile={
            **profile, "id": 7, "transaction_id": "42", "charging_schedule": [{"id": 1, **schedule}]})
    assert answer.status == "Accepted"
    assert evse.meter_wh == pytest.approx(11_000.0 * 10 / 3600)  # not 4,140 W x 10 s
    assert evse.power_w == pytest.approx(6 * 230 * 3)
