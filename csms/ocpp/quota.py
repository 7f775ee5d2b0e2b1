"""Per-charger quotas: one charger cannot take the gateway's or the store's capacity.

OCPP-J allows one outstanding CALL per direction, so the gentlest answer to a charger over its
quota is to answer later: each frame waits for its tokens before it is handled, the charger
waits for the answer, and nothing is refused or lost. A charger that ignores the rule and sends
without waiting fills its socket buffer and TCP pushes back. Two buckets: messages (a flood of
tiny frames) and bytes (a flood of large MeterValues: one charger once wrote 36,000 meter rows/s).
Bursts cover what a legitimate charger does, such as replaying a day of queued transaction
messages after an outage. A third bucket is a rolling day's byte budget (a slow, steady flood).
A fourth counts meter samples (``sampledValue`` entries): every one becomes a stored row, and a
64 KiB frame can carry thousands of tiny ones, so a message with many samples waits for them
before it is stored (a legitimate 30-value MeterValues every 10 s is 3 samples/s).
The buckets belong to the charger, not to its connection: reconnecting does not refill them.
Throttling is reported once a minute per charger, with a count.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

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
    """``report(detail)``, if given, records the throttling where the operator sees it (the
    gateway stores it as a ``quota_exceeded`` incident, which the console's overview alerts on);
    without it, throttling is only logged."""

    def __init__(self, charger_id: str, messages_per_s: float, message_burst: int,
                 bytes_per_s: float, byte_burst: int, bytes_per_day: float = float("inf"),
                 report: Callable[[str], Awaitable[None]] | None = None,
                 samples_per_s: float = float("inf"), sample_burst: int = 1,
                 day_s: float = 86_400.0) -> None:
        self.charger_id, self.report = charger_id, report
        self.messages = TokenBucket(messages_per_s, message_burst)
        self.bytes = TokenBucket(bytes_per_s, byte_burst)
        self.samples = TokenBucket(samples_per_s, sample_burst)
        # A rolling day's budget: refills at a day's bytes per day (``day_s`` wall seconds, less
        # on a sped-up clock), holds at most a day's.
        self.day = TokenBucket(bytes_per_day / day_s, bytes_per_day)
        self.delayed, self.delayed_s, self._reported_s = 0, 0.0, float("-inf")
        self._over: str | None = None  # the first quota exceeded since the last report

    async def delay_s(self, frame_bytes: int) -> float:
        """Charge one frame; the seconds it must wait before it is handled (0: at once)."""
        day_wait_s = self.day.wait_s(frame_bytes)
        wait_s = max(self.messages.wait_s(1), self.bytes.wait_s(frame_bytes), day_wait_s)
        return await self._delayed(wait_s, "daily byte budget" if day_wait_s > 0
                                   else "message quota")

    async def samples_delay_s(self, payload: dict) -> float:
        """Charge a CALL's meter samples; the seconds it must wait before it is stored."""
        count = sample_count(payload)
        if count == 0:
            return 0.0
        return await self._delayed(self.samples.wait_s(count), "meter sample quota")

    async def _delayed(self, wait_s: float, which: str) -> float:
        if wait_s <= 0:
            return 0.0
        self.delayed += 1
        self.delayed_s += wait_s
        self._over = self._over or which
        now_s = time.monotonic()
        if now_s - self._reported_s >= _REPORT_EVERY_S:
            detail = (f"over its {self._over}; {self.delayed} frames answered later "
                      f"({self.delayed_s:.1f} s in all) since the last report")
            self.delayed, self.delayed_s, self._reported_s = 0, 0.0, now_s
            self._over = None
            await self._report(detail)
        return wait_s

    async def _report(self, detail: str) -> None:
        if self.report is None:
            log.warning("%s: %s", self.charger_id, detail)
            return
        try:
            await self.report(detail)
        except Exception as exc:  # e.g. the store is down: the log line still says it
            log.warning("%s: %s (not stored: %s)", self.charger_id, detail, exc)


def sample_count(payload: dict) -> int:
    """``sampledValue`` entries of a MeterValues (1.6, 2.0.1), StopTransaction
    (``transactionData``) or TransactionEvent payload; 0 for anything else."""
    total = 0
    for key in ("meterValue", "transactionData"):
        values = payload.get(key)
        if not isinstance(values, list):
            continue
        for mv in values:
            sampled = mv.get("sampledValue") if isinstance(mv, dict) else None
            if isinstance(sampled, list):
                total += len(sampled)
    return total
