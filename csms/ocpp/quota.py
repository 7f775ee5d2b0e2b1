"""Per-charger quotas: one charger cannot take the gateway's or the store's capacity.

OCPP-J allows one outstanding CALL per direction, so the gentlest answer to a charger over its
quota is to answer later: each frame waits for its tokens before it is handled, the charger
waits for the answer, and nothing is refused or lost. A charger that ignores the rule and sends
without waiting fills its socket buffer and TCP pushes back. Two buckets: messages (a flood of
tiny frames) and bytes (a flood of large MeterValues: one charger once wrote 36,000 meter rows/s).
Bursts cover what a legitimate charger does, such as replaying a day of queued transaction
messages after an outage. Throttling is logged once a minute per charger, with a count.
"""

from __future__ import annotations

import asyncio
import logging
import time

log = logging.getLogger(__name__)
_REPORT_EVERY_S = 60.0


class TokenBucket:
    def __init__(self, rate_per_s: float, burst: float) -> None:
        self.rate_per_s, self.burst = rate_per_s, burst
        self.tokens, self.updated_s = burst, time.monotonic()

    def wait_s(self, cost: float) -> float:
        """Take ``cost`` tokens; the seconds to wait before they are there (0: at once)."""
        now_s = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now_s - self.updated_s) * self.rate_per_s)
        self.updated_s = now_s
        self.tokens -= min(cost, self.burst)  # a frame bigger than the burst costs a burst
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate_per_s


class ChargerQuota:
    def __init__(self, charger_id: str, messages_per_s: float, message_burst: int,
                 bytes_per_s: float, byte_burst: int) -> None:
        self.charger_id = charger_id
        self.messages = TokenBucket(messages_per_s, message_burst)
        self.bytes = TokenBucket(bytes_per_s, byte_burst)
        self.delayed, self.delayed_s, self._reported_s = 0, 0.0, float("-inf")

    async def admit(self, frame_bytes: int) -> None:
        wait_s = max(self.messages.wait_s(1), self.bytes.wait_s(frame_bytes))
        if wait_s <= 0:
            return
        self.delayed += 1
        self.delayed_s += wait_s
        now_s = time.monotonic()
        if now_s - self._reported_s >= _REPORT_EVERY_S:
            log.warning("%s: over its message quota; %d frames answered later (%.1f s in all) "
                        "since the last report", self.charger_id, self.delayed, self.delayed_s)
            self.delayed, self.delayed_s, self._reported_s = 0, 0.0, now_s
        await asyncio.sleep(wait_s)
