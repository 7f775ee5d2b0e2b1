"""Value objects shared by both OCPP versions (frozen dataclasses, wire units W / Wh / A)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# The cumulative energy meter, the one measurand energy is computed from.
ENERGY_REGISTER = "Energy.Active.Import.Register"


class Protocol(StrEnum):
    V16 = "1.6"
    V201 = "2.0.1"
    V21 = "2.1"


class AuthorizationStatus(StrEnum):
    """The common subset of 1.6 AuthorizationStatus and 2.0.1 AuthorizationStatusEnumType."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"
    UNKNOWN = "Unknown"  # 2.0.1 only; mapped to Invalid on 1.6


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"


class Policy(StrEnum):
    """A site's smart-charging policy (``SiteRow.policy``, the API's and console's names)."""

    UNCONTROLLED = "uncontrolled"
    LOAD_BALANCING = "load_balancing"
    PEAK_SHAVING = "peak_shaving"
    VALLEY_FILLING = "valley_filling"
    PRICE_OPTIMIZATION = "price_optimization"
    GRID_SUPPORT = "grid_support"
    RENEWABLE_INTEGRATION = "renewable_integration"


class CommandState(StrEnum):
    """A command's state in the outbox (``CommandRow.state``)."""

    QUEUED = "queued"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ERROR = "error"
    TIMEOUT = "timeout"
    OFFLINE = "offline"
    UNKNOWN = "unknown"  # sent, and the CSMS restarted before the answer
    CANCELLED = "cancelled"  # queued, and the CSMS restarted before sending it


# ``smart_charging_state.why`` of a charger's EVSE 0 when it answered SetChargingProfile with
# CALLERROR NotSupported/NotImplemented: it has no smart charging, and its cars are planned
# around as uncontrolled load from the moment they plug in (csms.sites.snapshot).
NO_SMART_CHARGING = "unsupported"


class ProfilePurpose(StrEnum):
    """What a charging profile the loop installs is for, version-neutral (stored as
    ``smart_charging_state.purpose``); ``csms.ocpp.profiles`` names it on the wire
    (ChargePointMaxProfile / ChargingStationMaxProfile, TxDefaultProfile, TxProfile)."""

    MAX = "max"
    TX_DEFAULT = "tx_default"
    TX = "tx"


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One sampledValue, kept as the charger sent it (value parsed to float)."""

    timestamp: datetime
    measurand: str
    value: float
    unit: str
    phase: str | None = None
    location: str | None = None
    context: str | None = None

    @property
    def energy_wh(self) -> float | None:
        """Energy register in Wh if this is the import register, else None."""
        if self.measurand != ENERGY_REGISTER:
            return None
        if self.phase not in (None, "", "N"):
            return None  # a per-phase register is not the total register
        return self.value  # Wh: the OCPP edge turns kWh into Wh (csms/ocpp/common.py)


@dataclass(frozen=True, slots=True)
class Authorization:
    status: AuthorizationStatus
    expiry: datetime | None = None
    parent_id_token: str | None = None
