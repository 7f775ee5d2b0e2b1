"""Domain events: facts a charger reported, in the past tense, independent of OCPP version.

Adapters (csms.ocpp.v16 / v201) build these from payloads; csms.handlers persists them and returns
a result that the adapter turns back into a version-specific response.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from csms.domain.charging_needs import ChargingNeeds
from csms.domain.model import MeterSample


@dataclass(frozen=True, slots=True)
class Event:
    charger_id: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class ChargerBooted(Event):
    vendor: str
    model: str
    serial_number: str | None = None
    firmware_version: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class HeartbeatReceived(Event):
    pass


# 1.6 ChargePointStatus values that are the transaction's charging state (2.0.1 reports it in
# TransactionEvent chargingState, with the same names): they say whether the EV takes power.
CHARGING_STATES = frozenset({"Charging", "SuspendedEV", "SuspendedEVSE"})


@dataclass(frozen=True, slots=True)
class StatusReported(Event):
    """``timestamp``: the charger's, None when it gave none (optional in 1.6)."""

    evse_id: int
    connector_id: int
    status: str
    timestamp: datetime | None
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class TokenPresented(Event):
    id_token: str
    token_type: str | None = None


@dataclass(frozen=True, slots=True)
class SessionStarted(Event):
    """A transaction began. ``transaction_ref`` is the 2.0.1 transactionId (None on 1.6, where
    the CSMS assigns the integer id)."""

    evse_id: int
    connector_id: int
    id_token: str | None
    timestamp: datetime
    meter_start_wh: float | None
    transaction_ref: str | None = None
    seq_no: int | None = None
    trigger: str | None = None
    samples: tuple[MeterSample, ...] = ()
    offline: bool = False  # 2.0.1: queued while the charger was offline (a replay)


@dataclass(frozen=True, slots=True)
class SessionUpdated(Event):
    transaction_ref: str
    timestamp: datetime
    seq_no: int | None = None
    trigger: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    charging_state: str | None = None
    samples: tuple[MeterSample, ...] = ()
    offline: bool = False


@dataclass(frozen=True, slots=True)
class SessionEnded(Event):
    transaction_ref: str
    timestamp: datetime
    meter_stop_wh: float | None
    reason: str | None = None
    seq_no: int | None = None
    id_token: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    samples: tuple[MeterSample, ...] = ()
    offline: bool = False


@dataclass(frozen=True, slots=True)
class MeterValuesReported(Event):
    evse_id: int
    connector_id: int | None
    transaction_ref: str | None
    samples: tuple[MeterSample, ...] = ()


@dataclass(frozen=True, slots=True)
class ChargerNotified(Event):
    """Any other charger-initiated message we keep as a record (status notifications of
    firmware/diagnostics/logs, DataTransfer, NotifyEvent, SecurityEventNotification, NotifyReport,
    ReportChargingProfiles, NotifyChargingLimit)."""

    action: str
    payload: dict = field(default_factory=dict)
    evse_id: int | None = None


@dataclass(frozen=True, slots=True)
class ChargingNeedsReported(Event):
    """An EV's charging needs on an EVSE (2.0.1 / 2.1 NotifyEVChargingNeeds), parsed once at the
    edge; stored as a ``NotifyEVChargingNeeds`` record holding ``needs.as_json()``."""

    evse_id: int
    needs: ChargingNeeds


@dataclass(frozen=True, slots=True)
class SecurityIncident(Event):
    """Something a charger did that an operator must see (not a charger-reported event)."""

    kind: str
    detail: str


@dataclass(frozen=True, slots=True)
class ConnectionChanged(Event):
    connected: bool
    protocol: str | None = None
    remote: str | None = None


# Security events the spec marks critical (OCPP 2.0.1 part 2 appendix "Security Events"; the 1.6
# security whitepaper's list is the same with CentralSystem for Csms): they raise an alert.
CRITICAL_SECURITY_EVENTS = frozenset({
    "FirmwareUpdated", "SettingSystemTime", "StartupOfTheDevice", "ResetOrReboot",
    "SecurityLogWasCleared", "MemoryExhaustion", "TamperDetectionActivated"})


@dataclass(frozen=True, slots=True)
class SecurityEventReported(Event):
    """SecurityEventNotification (1.6 security whitepaper section 4.8, 2.0.1 A04)."""

    event_type: str
    timestamp: datetime | None
    tech_info: str | None = None

    @property
    def critical(self) -> bool:
        return self.event_type in CRITICAL_SECURITY_EVENTS


@dataclass(frozen=True, slots=True)
class CertificatePresented(Event):
    """A security-profile-3 charger logged in with this client certificate (TLS verified it)."""

    sha256_hex: str
    subject: str
    issuer: str
    serial_hex: str
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True, slots=True)
class CertificateIssued(Event):
    """The CA signed a charger's CSR; the chain goes out in CertificateSigned."""

    certificate_type: str
    chain_pem: str
    sha256_hex: str
    subject: str
    issuer: str
    serial_hex: str
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True, slots=True)
class PasswordConfirmed(Event):
    """The charger confirmed (or proved, by logging in with it) its new Basic password."""
