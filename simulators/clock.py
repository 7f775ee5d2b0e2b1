"""The simulators' clocks.

``SimClock`` is the site's true time: ``now = start + (monotonic - t0) * speed``, the same
semantics as the CSMS clock (``csms serve --speed S --start T``). Physics, arrivals and
departures run on it. Without a start it can be re-based once on the CSMS's own time (the
``currentTime`` of the first BootNotification answer), so ``csms-sim`` joins a running CSMS
without anyone computing a start time.

``ChargerClock`` is what one charger believes the time is: the site's time plus an offset.
Everything a charger reports (timestamps) and every charging profile it evaluates uses it. Like
most real chargers it takes the CSMS's time from the BootNotification answer (OCPP 1.6 section
4.2: "currentTime ... so the Charge Point can synchronize its clock"); a fault fixes the offset
instead (a charger whose clock runs minutes behind and never takes the CSMS's time).

The simulators may not import ``csms``.
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

    def rebase(self, now: datetime) -> None:
        """From here on ``now()`` continues from ``now`` (at the same speed)."""
        if now.tzinfo is None:
            raise ValueError("clock time must be an aware datetime")
        self.start, self._t0_s = now.astimezone(UTC), time.monotonic()

    def wall_seconds(self, simulated_s: float) -> float:
        return simulated_s / self.speed

    async def sleep(self, simulated_s: float) -> None:
        await asyncio.sleep(max(0.0, simulated_s) / self.speed)


@dataclass
class ChargerClock:
    """One charger's clock: ``site.now() + offset_s``. ``follows_csms``: the offset is taken
    from every BootNotification answer (``sync``); False: a fixed offset (fault mode)."""

    site: SimClock
    offset_s: float = 0.0
    follows_csms: bool = True

    def now(self) -> datetime:
        return self.site.now() + timedelta(seconds=self.offset_s)

    def local(self, site_time: datetime) -> datetime:
        """The charger's reading of a site (true) time."""
        return site_time + timedelta(seconds=self.offset_s)

    def sync(self, csms_time: datetime) -> None:
        """Take the CSMS's time (BootNotification ``currentTime``), unless the clock is fixed."""
        if self.follows_csms:
            self.offset_s = (csms_time.astimezone(UTC) - self.site.now()).total_seconds()


def parse_time(text: str) -> datetime:
    """An OCPP dateTime -> aware UTC (a missing offset is read as UTC)."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


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
