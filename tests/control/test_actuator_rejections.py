"""A rejected limit is a warning with the charger's reason, except when the transaction ended
between the snapshot and the call (TxNotFound races): the next run settles that."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from csms.control import actuator
from csms.control.actuator import Actuator, Change


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
