"""Offline queueing and in-order replay, back-off with jitter, reboot and slow-answer faults."""

from __future__ import annotations

import asyncio
import random

import pytest

from simulators.charger.link import BackOff
from simulators.ev import EV
from simulators.vehicles import vehicle
from tests.simulators.central import running_central
from tests.simulators.helpers import make_charger, running

PROTOCOLS = ["1.6", "2.0.1"]


@pytest.mark.parametrize("attempt, lo, hi", [(0, 3.0, 13.0), (1, 6.0, 16.0), (2, 12.0, 22.0),
                                             (3, 24.0, 34.0), (9, 24.0, 34.0)])
def test_backoff_doubles_then_stays_with_jitter(attempt, lo, hi):
    b = BackOff(wait_minimum_s=3.0, random_range_s=10.0, repeat_times=3)
    delays = [b.delay_s(attempt, random.Random(s)) for s in range(50)]
    assert all(lo <= d <= hi for d in delays)
    assert len({round(d, 6) for d in delays}) > 40  # jitter spreads a reconnect storm


def ev():
    return EV(vehicle("Renault Twingo E-Tech"), soc_pct=10.0)


def ledger_view(ch):
    return sorted((e.remote_tx_id, e.evse_id, e.id_tag, e.meter_start_wh, e.meter_stop_wh,
                   e.energy_wh) for e in ch.ledger)


def central_view(central):
    return sorted((s.transaction_id, s.evse_id, s.id_tag, int(s.meter_start_wh),
                   None if s.meter_stop_wh is None else int(s.meter_stop_wh),
                   None if s.energy_wh is None else int(s.energy_wh))
                  for s in central.sessions.values())


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_offline_sessions_are_replayed_in_order_with_nothing_lost(protocol):
    async with running_central() as central:
        ch = make_charger(protocol, central.url)
        async with running(ch):
            ch.plug_in(1, ev(), "TAG-A")
            await central.wait_for(lambda: len(central.sessions) == 1)
            await central.wait_for(lambda: len(ch.active_tx()) == 1)
            ch.drop_link(offline_s=1.0)  # 120 simulated seconds offline
            await asyncio.sleep(0.1)
            assert not ch.connected.is_set()
            # While offline: a second driver starts (local authorization) and the first leaves.
            second = ch.plug_in(2, ev(), "TAG-B", dwell_s=60)
            await asyncio.sleep(0.4)
            ch.request_stop(ch.evses[0], "Local")
            await asyncio.wait_for(second, 10)
            assert ch.outbox.pending_transactional >= 4
            await asyncio.wait_for(ch.connected.wait(), 10)
            await central.wait_for(lambda: ch.outbox.pending_transactional == 0)
            await central.wait_for(lambda: all(s.stopped_at for s in central.sessions.values())
                                   and len(central.sessions) == 2)
        assert central_view(central) == ledger_view(ch)
        assert ch.connects == 2
        if protocol == "2.0.1":
            events = central.events[ch.id]
            offline = [e for e in events if e[6]]
            assert offline, "events queued offline carry offline=true"
            for tid in {e[0] for e in events}:
                seqs = [e[1] for e in events if e[0] == tid]
                assert seqs == sorted(seqs) == list(range(len(seqs)))  # in order, no gap


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_reboot_mid_transaction_ends_it_with_power_loss(protocol):
    async with running_central() as central:
        ch = make_charger(protocol, central.url)
        async with running(ch):
            ch.plug_in(1, ev(), "TAG-R")
            await central.wait_for(lambda: len(ch.active_tx()) == 1)
            await asyncio.sleep(0.3)
            ch.reboot(offline_s=0.3)
            await central.wait_for(lambda: central.boots[ch.id] == 2)
            await central.wait_for(lambda: all(s.stopped_at for s in central.sessions.values()))
        (s,) = central.sessions.values()
        assert s.stop_reason == "PowerLoss"
        assert central_view(central) == ledger_view(ch)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_slow_central_system_loses_nothing(protocol):
    async with running_central() as central:
        central.delay_s = 0.2
        ch = make_charger(protocol, central.url)
        async with running(ch):
            task = ch.plug_in(1, ev(), "TAG-S", dwell_s=120)
            await asyncio.wait_for(task, 10)
            await central.wait_for(lambda: ch.outbox.pending_transactional == 0)
            await central.wait_for(lambda: all(s.stopped_at for s in central.sessions.values()))
        assert central_view(central) == ledger_view(ch)
