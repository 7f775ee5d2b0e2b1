"""Shared helpers for the simulator tests."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from simulators.charger.link import BackOff
from simulators.charger.model import CHARGER_TYPES, Faults
from simulators.charger.v16 import Charger16
from simulators.charger.v201 import Charger201
from simulators.clock import SimClock

START = datetime(2024, 3, 5, 8, 0, tzinfo=UTC)
FAST_BACKOFF = BackOff(0.05, 0.05, 2)
CLASSES = {"1.6": Charger16, "2.0.1": Charger201}


def make_charger(protocol: str, url: str, ctype: str = "ac22", speed: float = 120.0,
                 cid: str | None = None, faults: Faults | None = None, clock=None, **kw):
    clock = clock or SimClock(speed, START)
    cls = CLASSES[protocol]
    return cls(cid or f"T{protocol.replace('.', '')}-{ctype}", url, CHARGER_TYPES[ctype], clock,
               backoff=FAST_BACKOFF, faults=faults, meter_interval_s=60.0, tick_s=15.0, **kw)


@contextlib.asynccontextmanager
async def running(charger):
    task = asyncio.ensure_future(charger.run())
    try:
        await asyncio.wait_for(charger.connected.wait(), 10)
        await asyncio.sleep(0.05)
        yield charger
    finally:
        # close() cancels repeatedly: a cancellation swallowed inside a library's wait_for
        # must not hang the test.
        await charger.close()
        task.cancel()
        await asyncio.wait([task], timeout=5)
