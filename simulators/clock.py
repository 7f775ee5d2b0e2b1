"""The simulators' clock: ``now = start + (monotonic - t0) * speed``.

Same semantics as the CSMS clock (``csms serve --speed S --start T``) so both sides agree on
"now" when given the same speed and start; the simulators may not import ``csms``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass
class SimClock:
    """A wall clock scaled by ``speed`` simulated seconds per wall second."""

    speed: float = 1.0
    start: datetime | None = None
    _t0_s: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("clock speed must be positive")
        if self.start is None:
            self.start = datetime.now(UTC)
        if self.start.tzinfo is None:
            raise ValueError("clock start must be an aware datetime")
        self.start = self.start.astimezone(UTC)
        self._t0_s = time.monotonic()

    def now(self) -> datetime:
        elapsed_s = (time.monotonic() - self._t0_s) * self.speed
        return self.start + timedelta(seconds=elapsed_s)

    def wall_seconds(self, simulated_s: float) -> float:
        return simulated_s / self.speed

    async def sleep(self, simulated_s: float) -> None:
        await asyncio.sleep(max(0.0, simulated_s) / self.speed)


def parse_start(text: str | None) -> datetime | None:
    """ISO 8601 with offset (``Z`` allowed) -> aware UTC datetime; None stays None."""
    if not text:
        return None
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"start time {text!r} needs a UTC offset")
    return dt.astimezone(UTC)


def iso(dt: datetime) -> str:
    """OCPP timestamp: UTC, millisecond precision, ``Z`` suffix."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
