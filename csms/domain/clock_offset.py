"""Each charger's clock offset (its clock minus ours), estimated from what it sends.

A timestamp a charger writes is never later than the moment we receive it: ``charger time -
receive time`` is the offset minus the message's delay (network, queueing, a meter sample taken
a little before it was sent; hours for a transaction message replayed after an outage). Every
such difference is a lower bound of the offset, so the estimate is the largest one seen within a
recent window (``WINDOW_S`` of our time): fresh messages dominate, replays cannot pull it down,
and a charger whose clock is stepped backwards is followed once the window has passed.

A BootNotification resets the estimate: most chargers take ``currentTime`` from its answer
(OCPP 1.6 section 4.2, 2.0.1 B01.FR.06), so what they said before no longer holds. The
``scheduleStart`` of a GetCompositeSchedule answer is the charger's "now" and is the best sample
of all. Pure: callers pass every time in; the book is used from the store's writer thread only.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

WINDOW_S = 900.0  # our seconds: samples older than this no longer bound the offset
ALERT_S = 60.0  # an offset beyond this is shown to the operator as an alert
PERSIST_CHANGE_S = 1.0  # a new estimate this far from the stored one is written back


def clock_alert(offset_s: float | None) -> bool:
    """Is a charger's clock far enough off to tell the operator?"""
    return offset_s is not None and abs(offset_s) > ALERT_S


@dataclass
class OffsetEstimator:
    """Lower bounds of one charger's offset, as (received_at, charger minus received, s)."""

    samples: deque = field(default_factory=deque)
    last_offset_s: float | None = None  # the estimate once the window emptied (stale)

    def add(self, charger_time: datetime, received_at: datetime) -> None:
        lag_s = (charger_time - received_at).total_seconds()
        self.samples.append((received_at, lag_s))
        self._prune(received_at)

    def _prune(self, now: datetime) -> None:
        while self.samples and (now - self.samples[0][0]).total_seconds() > WINDOW_S:
            self.samples.popleft()

    def offset_s(self, now: datetime | None = None) -> float | None:
        """The estimate (s, positive: the charger's clock is ahead), or None if never seen."""
        if now is not None:
            self._prune(now)
        if self.samples:
            self.last_offset_s = max(lag for _, lag in self.samples)
        return self.last_offset_s

    def reset(self) -> None:
        self.samples.clear()
        self.last_offset_s = None


class ClockBook:
    """Offset estimators by charger id, and the estimate last written to the store."""

    def __init__(self) -> None:
        self._by_charger: dict[str, OffsetEstimator] = {}
        self._stored: dict[str, float | None] = {}

    def observe(self, charger_id: str, charger_time: datetime, received_at: datetime
                ) -> float | None:
        """Add a sample; returns the new estimate when it should be stored, else None."""
        est = self._by_charger.setdefault(charger_id, OffsetEstimator())
        est.add(charger_time, received_at)
        offset = est.offset_s()
        stored = self._stored.get(charger_id)
        if offset is not None and (stored is None or abs(offset - stored) >= PERSIST_CHANGE_S):
            self._stored[charger_id] = offset
            return offset
        return None

    def reset(self, charger_id: str) -> None:
        """The charger booted: it may have taken our time."""
        self._by_charger.pop(charger_id, None)
        self._stored.pop(charger_id, None)

    def offset_s(self, charger_id: str, now: datetime | None = None) -> float | None:
        est = self._by_charger.get(charger_id)
        return None if est is None else est.offset_s(now)
