"""Helpers shared by the 1.6 and 2.0.1 adapters: timestamps and the adapter base."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from csms.domain import events as ev
from csms.ocpp.framing import FrameError

log = logging.getLogger(__name__)

Dispatch = Callable[[ev.Event], Awaitable[Any]]


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def parse_time(value: str | None, unique_id: str = "-1") -> datetime | None:
    """An OCPP dateTime as aware UTC; a timestamp without offset is taken as UTC (RFC 3339
    requires one, but some chargers omit it)."""
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value)
        dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except (ValueError, TypeError):
        raise FrameError("property", f"invalid dateTime {str(value)[:40]!r}", unique_id) from None
    except OverflowError:  # year 1 or 9999 with an offset: no UTC instant
        raise FrameError("property", f"dateTime {value[:40]!r} is out of range",
                         unique_id) from None
    if not EARLIEST <= dt < LATEST:
        # A charger whose clock was reset reports 1970: kept. Year 1 or 9999 is no instant a
        # charger lived through and breaks every date computation downstream: refused.
        raise FrameError("property", f"dateTime {value[:40]!r} is outside "
                         f"{EARLIEST.year}-{LATEST.year}", unique_id)
    return dt


# OCPP 2.0.1 UnitOfMeasureType.multiplier is a power of ten with no bound in the schema; a
# multiplier of 10,000,000 made ``10 ** multiplier`` a 10-million-digit integer computed in the
# event loop (every charger stalled ~11 s). Meters use kilo/mega/milli; +-9 leaves room.
MAX_MULTIPLIER = 9


def sample_value(value: Any, multiplier: Any = 0) -> float | None:
    """A sampled value as a finite float scaled by 10**multiplier, or None when it is not a
    number, not finite or its multiplier is out of range: that one sample is dropped (and
    counted), the rest of the message is kept."""
    if type(multiplier) is not int or abs(multiplier) > MAX_MULTIPLIER:
        _dropped_samples.note(f"multiplier {multiplier!r} outside +-{MAX_MULTIPLIER}")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        _dropped_samples.note(f"value {str(value)[:40]!r} is not a number")
        return None
    scaled = number * 10.0 ** multiplier
    if not math.isfinite(scaled):
        _dropped_samples.note(f"value {str(value)[:40]!r} is not finite")
        return None
    return scaled


class _CountedDrops:
    """One warning per minute for dropped samples, with the count and the latest reason."""

    def __init__(self) -> None:
        self.count, self.reported_s = 0, float("-inf")

    def note(self, reason: str) -> None:
        self.count += 1
        now_s = time.monotonic()
        if now_s - self.reported_s >= 60.0:
            log.warning("meter samples dropped: %d in the last minute (latest: %s); the other "
                        "samples of their messages are kept", self.count, reason)
            self.count, self.reported_s = 0, now_s


_dropped_samples = _CountedDrops()


# OCPP's kilo units (1.6 UnitOfMeasure, 2.0.1 UnitOfMeasureType.unit), stored in their base unit
# so that everything behind the edge reads W, Wh, var, varh and VA (and never scales again).
BASE_UNITS = {"kWh": "Wh", "kW": "W", "kvar": "var", "kvarh": "varh", "kVA": "VA"}


def in_base_unit(value: float, unit: str) -> tuple[float, str]:
    """(value, unit) with a kilo unit turned into its base unit (x 1000)."""
    base = BASE_UNITS.get(unit)
    return (value * 1000.0, base) if base else (value, unit)


def sampled_values(meter_values: list[dict] | None, fallback: datetime):
    """(timestamp, sampledValue) pairs of a meterValue list (same shape in 1.6 and 2.0.1)."""
    for mv in meter_values or ():
        try:
            ts = parse_time(mv.get("timestamp")) or fallback
        except FrameError as bad:  # this meterValue only: the others are kept
            _dropped_samples.note(bad.description)
            continue
        for sv in mv.get("sampledValue", ()):
            yield ts, sv


def format_time(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Adapter:
    """Base of a version adapter: turns payloads into domain events and results into payloads.

    ``routes`` maps each charger-initiated action to a coroutine ``payload -> response``.
    """

    version: str
    routes: dict[str, Callable[[dict], Awaitable[dict]]]

    def __init__(self, charger_id: str, dispatch: Dispatch, now: Callable[[], datetime]) -> None:
        self.charger_id, self.dispatch, self.now = charger_id, dispatch, now
        # Set by the gateway: ``await certificates.request(charger_id, version, csr, type)``
        # -> bool (csms/certificate_desk.py); None answers every CSR with Rejected.
        self.certificates = None

    async def record(self, action: str, payload: dict, evse_id: int | None = None) -> None:
        await self.dispatch(ev.ChargerNotified(self.charger_id, self.now(), action, payload,
                                               evse_id))

    def notification(self, action: str):
        """A handler that keeps the message as a record and answers with an empty payload."""
        async def handler(p: dict) -> dict:
            await self.record(action, p, p.get("evseId"))
            return {}
        return handler

    async def security_event(self, p: dict) -> dict:
        """SecurityEventNotification: same payload in the 1.6 security whitepaper (section 4.8)
        and 2.0.1 (A04); the response is empty in both."""
        await self.dispatch(ev.SecurityEventReported(
            self.charger_id, self.now(), p["type"], parse_time(p.get("timestamp")),
            p.get("techInfo")))
        return {}

    async def sign_request(self, csr: str, certificate_type: str | None) -> dict:
        """SignCertificate (1.6 whitepaper section 4.6, 2.0.1 A02/A03): Accepted means the CSR
        is valid and CertificateSigned follows; Rejected without a CA or for a bad CSR."""
        accepted = self.certificates is not None and await self.certificates.request(
            self.charger_id, self.version, csr, certificate_type)
        return {"status": "Accepted" if accepted else "Rejected"}

    async def data_transfer(self, p: dict) -> dict:
        await self.record("DataTransfer", p)
        # No vendor extensions are implemented: both versions answer UnknownVendorId
        # (1.6 section 4.3, 2.0.1 P01).
        return {"status": "UnknownVendorId"}
