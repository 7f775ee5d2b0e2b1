"""The one clock of the CSMS: the only module that calls ``datetime.now``.

Pure code takes ``now`` as an argument; impure code asks this module. In demo mode the clock
runs faster than wall time (``speed`` simulated seconds per wall second) from a chosen start, so
the CSMS and the simulators agree on "now" when both get the same ``--speed`` and start time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# The sites' local time: the ONEE tariff's bands and the drivers' days are in it.
SITE_TZ = ZoneInfo("Africa/Casablanca")


@dataclass
class Clock:
    """A wall clock, optionally scaled: ``now = start + (monotonic - t0) * speed``."""

    speed: float = 1.0
    start: datetime | None = None
    _t0_s: float = 0.0

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("clock speed must be positive")
        if self.start is not None and self.start.tzinfo is None:
            raise ValueError("clock start must be an aware datetime")
        self._t0_s = time.monotonic()

    @property
    def scaled(self) -> bool:
        return self.start is not None or self.speed != 1.0

    def now(self) -> datetime:
        if not self.scaled:
            return datetime.now(UTC)
        start = self.start or _wall_now()
        if self.start is None:
            self.start = start
        elapsed_s = (time.monotonic() - self._t0_s) * self.speed
        return (start + timedelta(seconds=elapsed_s)).astimezone(UTC)

    def wall_seconds(self, simulated_s: float) -> float:
        """How long to sleep in wall time for ``simulated_s`` of clock time."""
        return simulated_s / self.speed


def _wall_now() -> datetime:
    return datetime.now(UTC)


def at_wall(wall_s: float) -> datetime:
    """The CSMS time it was when the wall clock read ``wall_s`` (``time.time()``): events
    stamped in wall time shown on the CSMS's time base (scaled in demo mode)."""
    return now() - timedelta(seconds=(time.time() - wall_s) * _clock.speed)


def wall_now() -> datetime:
    """The real time, even in demo mode: for what a peer checks against its own clock (the
    validity of a TLS certificate)."""
    return _wall_now()


_clock = Clock()


def now() -> datetime:
    """Current time as an aware UTC datetime (scaled in demo mode)."""
    return _clock.now()


def configure(speed: float = 1.0, start: datetime | None = None) -> Clock:
    """Replace the process clock (demo mode); returns the new clock."""
    global _clock
    _clock = Clock(speed=speed, start=start)
    return _clock


def current() -> Clock:
    return _clock


def utc(dt: datetime) -> datetime:
    """Normalise an aware datetime to UTC; a naive one is a programming error."""
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt!r}: every datetime must be timezone-aware")
    return dt.astimezone(UTC)
