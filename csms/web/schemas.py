"""Request and response bodies of the REST API (units in names; times as aware ISO 8601)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConnectorOut(BaseModel):
    evse_id: int
    connector_id: int
    status: str
    error_code: str | None
    status_at: datetime


class CertificateOut(BaseModel):
    id: int
    charger_id: str
    certificate_type: str
    state: str = Field(description="signed | accepted | rejected | error | unconfirmed | "
                       "presented")
    subject: str
    issuer: str
    serial_hex: str
    sha256_hex: str
    not_before: datetime
    not_after: datetime
    created_at: datetime
    last_used_at: datetime | None


SecurityProfile = Annotated[int, Field(ge=0, le=3, strict=True, description=(
    "0: no auth, 1: Basic over ws, 2: Basic over wss, 3: wss + client certificate"))]


class ChargerOut(BaseModel):
    id: str
    description: str | None
    protocol: str | None
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    security_profile: int = Field(0, description="OCPP security profile 0-3")
    password_pending: bool = Field(False, description="a new Basic password awaits the "
                                   "charger's confirmation (the old one still works)")
    connected_tls: bool | None = Field(None, description="connected over wss (None: offline)")
    certificate: CertificateOut | None = Field(None, description="the charger's newest "
                                               "certificate we signed or saw at login")
    connected: bool
    last_seen: datetime | None
    registered_at: datetime
    auto_registered: bool
    has_password: bool
    allow_unauthenticated: bool = Field(False, description="may connect without a password")
    generated_password: str | None = Field(
        None, description="only in the answer to POST without a password: shown once, "
        "stored hashed; configure it in the charger (Basic auth, username = id)")
    connectors: list[ConnectorOut] = []
    site_id: int | None = None
    charger_type: str | None = Field(None, description="AC | DC (None: not known, AC assumed)")
    charger_type_source: str | None = Field(
        None, description="operator (registry) | reported (device model, configuration) | "
        "measured (meter values)")
    max_power_w: float | None = Field(None, description="rating of each EVSE, W")
    max_power_source: str | None = None
    charger_class: str = Field(description="ac | dc_fast | dc_ultra (>= 150 kW)")
    connector_type: str | None = None
    supply_phases: int | None = Field(None, description="as reported; 0 = DC")
    phase_wiring: str
    phase_wiring_source: str | None = Field(
        None, description="operator | reported (1.6 ConnectorPhaseRotation, 2.0.1 "
        "EVSE.PhaseRotation); None: the default L1L2L3")
    clock_offset_s: float | None = Field(
        None, description="the charger's clock minus the CSMS's, estimated from its timestamps")
    clock_checked_at: datetime | None = None
    clock_alert: bool = Field(False, description="the clock is more than 60 s off")


class ChargerCreate(Strict):
    id: str = Field(min_length=1, max_length=48, pattern=r"^[^:/\s]+$")
    password: str | None = Field(None, description="16-40 characters (security profile 1); "
                                 "absent: one is generated and returned once, unless "
                                 "allow_unauthenticated, profile 0 or profile 3")
    security_profile: SecurityProfile | None = None
    allow_unauthenticated: bool = Field(False, description="let this charger connect without "
                                        "a password (lab, legacy): anyone knowing its identity "
                                        "could take its place")
    description: str | None = None
    charger_type: Literal["AC", "DC"] | None = Field(
        None, description="the operator's word: never overwritten by what the charger reports")
    max_power_w: float | None = Field(None, gt=0, le=1_000_000,
                                      description="rating of each EVSE, W")


class ChargerUpdate(Strict):
    password: str | None = None
    security_profile: SecurityProfile | None = None
    allow_unauthenticated: bool | None = None
    description: str | None = None
    charger_type: Literal["AC", "DC"] | None = Field(
        None, description="null: forget the operator's value, use what the charger reports")
    max_power_w: float | None = Field(None, gt=0, le=1_000_000)


class SessionOut(BaseModel):
    id: int
    charger_id: str
    protocol: str
    transaction_id: str
    evse_id: int
    connector_id: int | None
    id_token: str | None
    started_at: datetime | None
    stopped_at: datetime | None
    started_received_at: datetime
    stopped_received_at: datetime | None
    meter_start_wh: float | None
    meter_stop_wh: float | None
    energy_wh: float | None
    register_non_monotonic: bool
    meter_flags: list[str] = Field(default_factory=list, description=(
        "why the meter data is not believed: negative_register, absurd_register, "
        "absurd_energy (energy_wh is then null)"))
    stop_reason: str | None
    active: bool

    @field_validator("meter_flags", mode="before")
    @classmethod
    def _no_flags(cls, value):
        return value or []


class MeterValueOut(BaseModel):
    timestamp: datetime
    received_at: datetime
    measurand: str
    value: float
    unit: str
    phase: str | None
    location: str | None
    context: str | None
    flag: str | None = Field(None, description="negative or absurd: kept as sent, not used")


TokenStatus = Literal["Accepted", "Blocked", "Expired", "Invalid"]


class IdTokenIn(Strict):
    id_token: str = Field(min_length=1, max_length=36)
    token_type: str = "ISO14443"
    status: TokenStatus = "Accepted"
    expiry: datetime | None = None
    parent_id_token: str | None = Field(None, max_length=36)
    description: str | None = None


class IdTokenUpdate(Strict):
    token_type: str | None = None
    status: TokenStatus | None = None
    expiry: datetime | None = None
    parent_id_token: str | None = Field(None, max_length=36)
    description: str | None = None

    @model_validator(mode="after")
    def _required_stay_set(self):
        """Absent leaves a field as it is; null clears it - not for these two."""
        for name in ("token_type", "status"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class IdTokenOut(BaseModel):
    id_token: str
    token_type: str
    status: str
    expiry: datetime | None
    parent_id_token: str | None
    description: str | None
    created_at: datetime


class CommandIn(Strict):
    action: str = Field(description="neutral (reset, remote_start, ...) or an OCPP action")
    params: dict = Field(default_factory=dict)


class CommandOut(BaseModel):
    id: int
    charger_id: str
    action: str
    payload: dict
    state: str
    response: dict | None
    error: str | None
    source: str
    created_at: datetime
    sent_at: datetime | None
    completed_at: datetime | None


class PasswordChange(Strict):
    password: str | None = Field(None, description="16-40 printable characters; omitted: a "
                                 "random one is generated (and never shown)")


class VehicleIn(Strict):
    name: str = Field(min_length=1, max_length=80, description="the operator's label, unique")
    model: str | None = Field(None, max_length=80, description="a catalogue model "
                              "(/api/v1/vehicle-models): its facts, unless given here")
    battery_wh: float | None = Field(None, gt=0, description="usable battery, Wh")
    ac_phases: int | None = Field(None, ge=1, le=3)
    ac_max_w: float | None = Field(None, gt=0, description="onboard AC charger, W")
    dc_max_w: float | None = Field(None, ge=0, description="DC maximum, W; 0: no DC inlet")
    v2g: bool | None = None
    id_token: str | None = Field(None, max_length=36, description="an id token of the "
                                 "authorization list: the driver's")
    ev_id: str | None = Field(None, max_length=64, description="the EV's own identity a "
                              "2.0.1 / 2.1 charger reports as idToken (EVCCID as MacAddress, "
                              "contract id as eMAID)")


class VehicleUpdate(Strict):
    """Absent leaves a field as it is; null clears ``model``, ``id_token``, ``ev_id``."""

    name: str | None = Field(None, min_length=1, max_length=80)
    model: str | None = Field(None, max_length=80)
    battery_wh: float | None = Field(None, gt=0)
    ac_phases: int | None = Field(None, ge=1, le=3)
    ac_max_w: float | None = Field(None, gt=0)
    dc_max_w: float | None = Field(None, ge=0)
    v2g: bool | None = None
    id_token: str | None = Field(None, max_length=36)
    ev_id: str | None = Field(None, max_length=64)


class VehicleOut(BaseModel):
    id: int
    name: str
    model: str | None
    battery_wh: float
    ac_phases: int
    ac_max_w: float
    dc_max_w: float
    v2g: bool
    id_token: str | None
    ev_id: str | None
    created_at: datetime
    session_id: int | None = Field(None, description="the active session charging it")
    soc_pct: float | None = Field(None, description="that session's latest SoC reading")


class VehicleModelOut(BaseModel):
    name: str
    segment: str
    battery_wh: float
    ac_phases: int
    ac_max_w: float
    dc_max_w: float
    v2g: bool
    source: str
    note: str | None


class VehicleCatalogueOut(BaseModel):
    citation: str
    licence: str
    models: list[VehicleModelOut]


class FleetEntryIn(Strict):
    """One vehicle of a fleet import (``csms-sim --fleet-file`` writes a list of them)."""

    id_token: str = Field(min_length=1, max_length=36, description="the driver's id token; "
                          "added to the authorization list (Accepted) when missing")
    model: str = Field(max_length=80, description="a catalogue model (/api/v1/vehicle-models)")
    name: str | None = Field(None, min_length=1, max_length=80,
                             description="default: '<id_token> <model>'")


class VehicleImportOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    id_tokens_created: list[str]
    vehicles: list[VehicleOut]
