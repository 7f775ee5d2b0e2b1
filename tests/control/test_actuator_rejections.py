"""A rejected limit is a warning with the charger's reason, except when the transaction ended
between the snapshot and the call (TxNotFound races): the next run settles that. The same for a
read-back that finds no limit because the transaction (and its TxProfile) just ended."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from csms.control import actuator
from csms.control.actuator import Actuator, Change
from csms.ocpp import profiles as pf
from csms.sites.snapshot import ChargerInfo


class _Session:
    def __init__(self, active: bool) -> None:
        self.active = active

    def get(self, _table, _key):
        return SimpleNamespace(active=self.active)


class _Worker:
    def __init__(self, active: bool) -> None:
        self.session = _Session(active)

    async def read(self, fn, *args):
        return fn(self.session, *args)

    async def run(self, fn, *args):
        self.written = args


CHANGE = Change("CP-1", 1, 7, "tx-7", "A", 16.0, 11_040.0, 3, None, False)
REJECTED = SimpleNamespace(state="rejected", response={
    "status": "Rejected", "statusInfo": {"reasonCode": "TxNotFound"}})


@pytest.mark.parametrize("active, level", [(True, logging.WARNING), (False, logging.INFO)])
async def test_rejection_log_level_follows_the_transaction(caplog, monkeypatch, active, level):
    monkeypatch.setattr(actuator, "RACE_S", 0.0)
    caplog.set_level(logging.INFO, logger="csms.control.actuator")
    await Actuator(None, _Worker(active))._not_accepted(CHANGE, REJECTED)
    (record,) = [r for r in caplog.records if r.name == "csms.control.actuator"]
    assert record.levelno == level
    if active:
        assert "TxNotFound" in record.getMessage()


class _Commands:
    """Answers GetCompositeSchedule with the EVSE's rating (16 A on three phases): what a
    charger reports once the transaction and its TxProfile are gone."""

    async def submit(self, charger_id, action, payload, source, wait):
        assert action == "GetCompositeSchedule"
        return SimpleNamespace(state="accepted", response={"status": "Accepted", "schedule": {
            "chargingRateUnit": "A", "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16.0, "numberPhases": 3}]}})


async def test_readback_after_the_transaction_ended_is_not_a_mismatch(caplog, monkeypatch):
    """Read just after the transaction ended, the composite is the EVSE's rating: a race, not a
    charger that lost our limit (logged at INFO, nothing flagged, nothing re-sent)."""
    monkeypatch.setattr(actuator, "RACE_S", 0.0)
    caplog.set_level(logging.INFO, logger="csms.control.actuator")
    worker = _Worker(active=False)
    act = Actuator(_Commands(), worker)
    paused = Change("CP-1", 1, 7, "tx-7", "A", 0.0, 0.0, 3, 11_040.0, False)
    charger = SimpleNamespace(caps=SimpleNamespace(protocol="2.0.1", rate_units=("A", "W")),
                              ac=True)
    monkeypatch.setattr(actuator.pf, "composite_request", lambda *a: ("GetCompositeSchedule", {}))
    await act._readback(paused, charger)
    (record,) = [r for r in caplog.records if r.name == "csms.control.actuator"]
    assert record.levelno == logging.INFO
    assert "after the transaction ended" in record.getMessage()
    assert not hasattr(worker, "written")


class _NoSmartCharging:
    """A charger without smart charging: SetChargingProfile answered CALLERROR NotSupported."""

    def __init__(self) -> None:
        self.calls = 0

    async def submit(self, charger_id, action, payload, source, wait):
        assert action == "SetChargingProfile"
        self.calls += 1
        return SimpleNamespace(state="error", response={"errorCode": "NotSupported",
                                                        "errorDescription": "no"})


class _StateWorker:
    async def run(self, fn, charger_id, evse_id, fields, now):
        self.fields = fields


async def test_a_charger_without_smart_charging_is_asked_hourly_not_every_run(monkeypatch):
    t = [datetime(2026, 6, 16, 9, 0, tzinfo=UTC)]
    monkeypatch.setattr(actuator.clock, "now", lambda: t[0])
    commands, worker = _NoSmartCharging(), _StateWorker()
    charger = ChargerInfo(id="CP-NS", protocol="1.6", connected=True, ac=True, phases=3,
                          evse_max_w=22_080.0, evses=1, caps=pf.Capabilities(protocol="1.6"))
    act = Actuator(commands, worker)
    states: dict = {}
    for minute in range(0, 121):  # a run a minute for two hours
        t[0] = datetime(2026, 6, 16, 9, 0, tzinfo=UTC) + timedelta(minutes=minute)
        await act.ensure_failsafe(charger, 4_140.0, states)
        states[("CP-NS", 0)] = SimpleNamespace(**worker.fields)
    assert commands.calls == 3  # 09:00, 10:00, 11:00
    assert worker.fields["why"] == "unsupported" and not worker.fields["accepted"]


class _CapWorker:
    """The EVSE's state: a cap of 11,040 W learned from read-backs (16 A on three phases)."""

    def __init__(self) -> None:
        self.state = SimpleNamespace(readback_cap_w=11_040.0)

    async def read(self, fn, *args):
        return self.state

    async def run(self, fn, charger_id, evse_id, fields, now):
        self.fields = fields


class _Composite:
    def __init__(self, amps: float) -> None:
        self.amps = amps

    async def submit(self, charger_id, action, payload, source, wait):
        return SimpleNamespace(state="accepted", response={"status": "Accepted", "schedule": {
            "chargingRateUnit": "A", "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": self.amps, "numberPhases": 3}]}})


@pytest.mark.parametrize("amps, applied_w, cap_forgotten", [
    (16.0, 11_040.0, False),  # the limit at its cap agrees: that says nothing against the cap
    (29.6, 20_424.0, True),   # it applies more than its cap: the cap is gone
])
async def test_a_learned_cap_is_kept_until_the_evse_applies_more(monkeypatch, amps, applied_w,
                                                                 cap_forgotten):
    monkeypatch.setattr(actuator.pf, "composite_request", lambda *a: ("GetCompositeSchedule", {}))
    worker = _CapWorker()
    change = Change("CP-1", 1, 7, "tx-7", "A", amps, applied_w, 3, None, False)
    charger = SimpleNamespace(caps=SimpleNamespace(protocol="1.6", rate_units=("A",)), ac=True)
    await Actuator(_Composite(amps), worker)._readback(change, charger)
    assert worker.fields["readback_ok"] is True
    assert ("readback_cap_w" in worker.fields) == cap_forgotten
