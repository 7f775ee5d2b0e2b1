"""What handlers answer, for the adapters to turn into 1.6 or 2.0.1 responses."""

from __future__ import annotations

from dataclasses import dataclass

from csms.domain.model import Authorization


@dataclass(frozen=True, slots=True)
class BootResult:
    accepted: bool
    interval_s: int


@dataclass(frozen=True, slots=True)
class SessionResult:
    """``session_id`` is the CSMS row id, also the 1.6 transactionId. ``authorization`` is None
    when no id token was involved. ``owned`` is False when the transaction belongs to another
    charger or is unknown (the message then had no effect)."""

    session_id: int | None
    authorization: Authorization | None = None
    owned: bool = True
    duplicate: bool = False
