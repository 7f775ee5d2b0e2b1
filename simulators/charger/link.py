"""The charger's link: reconnect with back-off and jitter, and an ordered outbox.

Back-off follows OCPP 2.0.1 part 4 section 5.3 ("Reconnecting"): the first attempt waits
RetryBackOffWaitMinimum plus a random part up to RetryBackOffRandomRange; each further attempt
doubles the wait, at most RetryBackOffRepeatTimes times. Transaction messages stay in the outbox
while the link is down and are replayed in order after the next BootNotification; other messages
(heartbeats, status) are dropped when the link goes (status is re-sent after boot).

A transaction message the CSMS answers with a CALLERROR, or does not answer, is retried like the
spec says (1.6 section 4.7 TransactionMessageAttempts / TransactionMessageRetryInterval; 2.0.1
OCPPCommCtrlr.MessageAttempts / MessageAttemptInterval): after ``retry_interval_s`` x the attempt
number, up to ``max_attempts`` attempts in all, then dropped. Other messages are not retried.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ocpp.exceptions import OCPPError
from websockets.exceptions import ConnectionClosed

log = logging.getLogger(__name__)
LINK_ERRORS = (ConnectionClosed, OSError, asyncio.IncompleteReadError)


@dataclass(frozen=True)
class BackOff:
    wait_minimum_s: float = 3.0
    random_range_s: float = 10.0
    repeat_times: int = 3

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        """Wall seconds to wait before reconnect ``attempt`` (0 = first after a loss)."""
        return (self.wait_minimum_s * 2 ** min(attempt, self.repeat_times)
                + rng.uniform(0.0, self.random_range_s))


@dataclass
class OutMsg:
    """``build`` makes the payload at send time (a 1.6 transaction id may only be known then);
    returning None drops the message."""

    build: Callable[[], Any]
    on_result: Callable[[Any], None] | None = None
    transactional: bool = False
    attempts: int = 0


class Outbox:
    """FIFO of messages for the CSMS, drained by one sender task per connection."""

    def __init__(self, charger_id: str, max_attempts: int = 3,
                 sleep: Callable[[float], Any] | None = None,
                 retry_interval_s: float = 60.0) -> None:
        self.charger_id = charger_id
        self.max_attempts = max_attempts
        self.retry_interval_s = retry_interval_s  # charger seconds
        self._sleep = sleep or asyncio.sleep  # the charger's clock (scaled in a fast site)
        self.queue: deque[OutMsg] = deque()
        self._wake = asyncio.Event()
        self.sent = 0

    def put(self, msg: OutMsg) -> None:
        self.queue.append(msg)
        self._wake.set()

    def drop_volatile(self) -> None:
        self.queue = deque(m for m in self.queue if m.transactional)

    @property
    def pending_transactional(self) -> int:
        return sum(1 for m in self.queue if m.transactional)

    async def drain(self, cp) -> None:
        """Send until the link fails (then return, keeping the unsent head)."""
        while True:
            while not self.queue:
                self._wake.clear()
                await self._wake.wait()
            msg = self.queue[0]
            payload = msg.build()
            if payload is None:
                self.queue.popleft()
                continue
            try:
                result = await cp.call(payload, suppress=False)
            except (OCPPError, TimeoutError) as exc:
                msg.attempts += 1
                name = type(payload).__name__
                if not msg.transactional or msg.attempts >= self.max_attempts:
                    log.warning("%s: %s dropped after %d attempt(s): %s", self.charger_id, name,
                                msg.attempts, exc or "no answer")
                    if self.queue and self.queue[0] is msg:
                        self.queue.popleft()
                    continue
                log.info("%s: %s failed (%s); attempt %d of %d in %.0f s", self.charger_id,
                         name, exc or "no answer", msg.attempts + 1, self.max_attempts,
                         self.retry_interval_s * msg.attempts)
                await self._sleep(self.retry_interval_s * msg.attempts)
                continue
            if self.queue and self.queue[0] is msg:
                self.queue.popleft()
            self.sent += 1
            if msg.on_result is not None:
                msg.on_result(result)
