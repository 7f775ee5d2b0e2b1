"""Helpers shared by the 1.6 and 2.0.1 adapters: timestamps and the adapter base."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from csms.domain import events as ev
from csms.ocpp.framing import FrameError

Dispatch = Callable[[ev.Event], Awaitable[Any]]


def parse_time(value: str | None, unique_id: str = "-1") -> datetime | None:
    """An OCPP dateTime as aware UTC; a timestamp without offset is taken as UTC (RFC 3339
    requires one, but some chargers omit it)."""
    if value is None:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise FrameError("property", f"invalid dateTime {value!r}", unique_id) from None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def sampled_values(meter_values: list[dict] | None, fallback: datetime):
    """(timestamp, sampledValue) pairs of a meterValue list (same shape in 1.6 and 2.0.1)."""
    for mv in meter_values or ():
        ts = parse_time(mv.get("timestamp")) or fallback
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
