"""Load generator: N chargers over loopback, each sending Heartbeat and MeterValues (1.6).

Each simulated charger is a plain websocket client (no per-message library work on the client
side, so the client costs as little CPU as possible) that sends a CALL, waits for the reply and
records the latency; ``interval_s`` paces each charger (0 = as fast as replies come back).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import websockets


def meter_values_frame(msg_id: str, wh: float) -> str:
    ts = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps([2, msg_id, "MeterValues", {"connectorId": 1, "meterValue": [{
        "timestamp": ts, "sampledValue": [
            {"value": f"{wh:.0f}", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
            {"value": "31.3", "measurand": "Current.Import", "unit": "A", "phase": "L1"},
            {"value": "230.1", "measurand": "Voltage", "unit": "V", "phase": "L1-N"}]}]}])


@dataclass
class LoadResult:
    chargers: int
    duration_s: float
    messages: int
    latencies_s: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    @property
    def rate_per_s(self) -> float:
        return self.messages / self.duration_s

    def pct_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies_s, q) * 1000) if self.latencies_s else float("nan")


async def open_chargers(base_url: str, n: int, prefix: str, compression: str | None):
    conns = []
    for start in range(0, n, 50):  # connect in waves: a real fleet does not arrive at once
        batch = [websockets.connect(f"{base_url}/{prefix}{i:05d}", subprotocols=["ocpp1.6"],
                                    compression=compression, ping_interval=None, open_timeout=60)
                 for i in range(start, min(n, start + 50))]
        conns += await asyncio.gather(*batch)
    return conns


async def _reply(ws) -> str:
    """The answer to our CALL; CALLs from the CSMS (e.g. capability probes) are refused, as a
    charger without those features would."""
    while True:
        frame = await ws.recv()
        if frame.startswith("[2"):
            msg_id = json.loads(frame)[1]
            await ws.send(json.dumps([4, msg_id, "NotSupported", "load generator", {}]))
            continue
        return frame


async def drive(conns, duration_s: float, interval_s: float) -> LoadResult:
    result = LoadResult(len(conns), duration_s, 0)
    stop_at = time.monotonic() + duration_s
    ids = itertools.count()

    async def one(ws, k: int) -> None:
        wh = 0.0
        await asyncio.sleep(random.random() * max(interval_s, 0.01))  # spread the phases
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            n = next(ids)
            if n % 5 == 0:
                frame = json.dumps([2, f"h{n}", "Heartbeat", {}])
            else:
                wh += 30
                frame = meter_values_frame(f"m{n}", wh)
            await ws.send(frame)
            reply = await _reply(ws)
            dt = time.perf_counter() - t0
            if not reply.startswith("[3"):
                result.errors += 1
                result.first_error = result.first_error or reply[:300]
            result.messages += 1
            result.latencies_s.append(dt)
            if interval_s:
                await asyncio.sleep(max(0.0, interval_s - dt))

    t_start = time.monotonic()
    await asyncio.gather(*(one(ws, k) for k, ws in enumerate(conns)))
    result.duration_s = time.monotonic() - t_start
    return result
