"""Tables. Wire units (W, Wh, A) and aware UTC datetimes; charger timestamps are kept next to
the time we received each message, because offline chargers replay old messages later."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from csms.store.types import UTCDateTime


def _ts(nullable: bool = True, index: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class ChargerRow(SQLModel, table=True):
    __tablename__ = "chargers"

    id: str = Field(primary_key=True, max_length=48)
    password_hash: str | None = None
    # OCPP security profile 0-3 (0: no authentication, 1: Basic over ws, 2: Basic over wss,
    # 3: wss with a client certificate); see csms/ocpp/admission.py.
    security_profile: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Password rotation (TC_073): the new password's hash until the charger confirms it.
    password_pending_hash: str | None = None
    password_pending_at: datetime | None = Field(default=None, sa_column=_ts())
    # A charger without a password is refused outside --open lab mode unless the operator says
    # so here (anyone knowing the identity could otherwise take it over).
    allow_unauthenticated: bool = Field(default=False,
                                        sa_column_kwargs={"server_default": sa.false()})
    description: str | None = None
    protocol: str | None = None
    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware_version: str | None = None
    boot_reason: str | None = None
    connected: bool = False
    remote_address: str | None = None
    last_seen: datetime | None = Field(default=None, sa_column=_ts())
    last_boot_at: datetime | None = Field(default=None, sa_column=_ts())
    registered_at: datetime = Field(sa_column=_ts(nullable=False))
    auto_registered: bool = False
    # Site membership and electrical facts the smart-charging loop needs.
    site_id: int | None = Field(default=None, foreign_key="sites.id", index=True,
                                ondelete="SET NULL")
    phase_wiring: str = "L1L2L3"  # phases the charger's L1, L2, L3 are wired to, in order
    phase_wiring_source: str | None = None  # "operator" | "reported"; None: the default
    max_power_w: float | None = None
    charger_type: str | None = None  # "AC" | "DC" (the console groups AC / DC fast / DC ultra)
    # Where charger_type / max_power_w come from: "operator" (the registry; never overwritten
    # by what is learned), "reported" (the charger's device model or configuration) or
    # "measured" (its meter values). None: not known, defaults apply.
    charger_type_source: str | None = None
    max_power_source: str | None = None
    connector_type: str | None = None  # as reported, e.g. 2.0.1 ConnectorType cCCS2, sType2
    supply_phases: int | None = None  # as reported (2.0.1 EVSE SupplyPhases; 0 = DC)
    # The charger's clock minus ours (s), estimated from its timestamps (csms.domain.clock_offset)
    clock_offset_s: float | None = None
    clock_checked_at: datetime | None = Field(default=None, sa_column=_ts())


class SiteRow(SQLModel, table=True):
    """A site: its grid connection, tariff, PV, base load and smart-charging policy."""

    __tablename__ = "sites"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    latitude: float = 33.57
    longitude: float = -7.59
    voltage_level: str = "LV"  # LV 400 V | MV 22 kV | HV 60 kV
    capacity_kw: float = 150.0
    transformer_kva: float | None = None
    short_circuit_mva: float | None = None
    tariff: dict = Field(default_factory=lambda: {"name": "onee-default"},
                         sa_column=Column(JSON, nullable=False))
    pv_kwp: float = 0.0
    base_load_profile: str | None = None  # residential | office | commercial | highway
    base_load_peak_kw: float = 0.0
    policy: str = "load_balancing"
    policy_params: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    control_period_s: int = 60
    # ROI inputs (csms.sites.economics); an absent key is the csms.economics default.
    economics: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=_ts(nullable=False))


class UserRow(SQLModel, table=True):
    """Console users (roles admin / operator / viewer)."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=64)
    password_hash: str
    role: str = "viewer"
    lang: str = "en"
    disabled: bool = False
    created_at: datetime = Field(sa_column=_ts(nullable=False))


class ConnectorRow(SQLModel, table=True):
    """Status per EVSE/connector. On 1.6 evse_id == connector_id (0 = the charger itself)."""

    __tablename__ = "connectors"

    charger_id: str = Field(primary_key=True, foreign_key="chargers.id", ondelete="CASCADE")
    evse_id: int = Field(primary_key=True)
    connector_id: int = Field(primary_key=True)
    status: str
    error_code: str | None = None
    status_at: datetime = Field(sa_column=_ts(nullable=False))
    received_at: datetime = Field(sa_column=_ts(nullable=False))


class IdTokenRow(SQLModel, table=True):
    __tablename__ = "id_tokens"

    id_token: str = Field(primary_key=True, max_length=36)
    token_type: str = "ISO14443"
    status: str = "Accepted"  # Accepted | Blocked | Expired | Invalid
    expiry: datetime | None = Field(default=None, sa_column=_ts())
    parent_id_token: str | None = None
    description: str | None = None
    created_at: datetime = Field(sa_column=_ts(nullable=False))


class SessionRow(SQLModel, table=True):
    """A transaction. ``id`` is also the 1.6 transactionId: AUTOINCREMENT, so ids never repeat,
    even after rows are deleted or the server restarts."""

    __tablename__ = "sessions"
    __table_args__ = (
        sa.UniqueConstraint("charger_id", "transaction_ref", name="uq_session_tx"),
        sa.Index("ix_sessions_dedupe16", "charger_id", "connector_id", "id_token",
                 "started_at", "meter_start_wh"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    charger_id: str = Field(index=True, max_length=48)
    protocol: str
    transaction_ref: str = Field(max_length=36)  # 2.0.1 transactionId; 1.6: str(id)
    evse_id: int
    connector_id: int | None = None
    id_token: str | None = None
    started_at: datetime | None = Field(default=None, sa_column=_ts(index=True))
    started_received_at: datetime = Field(sa_column=_ts(nullable=False, index=True))
    stopped_at: datetime | None = Field(default=None, sa_column=_ts())
    stopped_received_at: datetime | None = Field(default=None, sa_column=_ts())
    meter_start_wh: float | None = None
    meter_stop_wh: float | None = None
    last_register_wh: float | None = None
    energy_wh: float | None = None
    register_non_monotonic: bool = False
    # The charger's time of ``last_register_wh``: registers are compared in the charger's time
    # order, not arrival order (a reordered Ended must not leave stale energy).
    last_register_at: datetime | None = Field(default=None, sa_column=_ts())
    # Plausibility flags (csms/handlers/plausibility.py), e.g. ["energy_absurd"].
    meter_flags: list | None = Field(default=None, sa_column=Column(JSON))
    stop_reason: str | None = None
    last_seq_no: int | None = None
    charging_state: str | None = None
    active: bool = Field(default=True, index=True)


class TransactionEventRow(SQLModel, table=True):
    """2.0.1 TransactionEvent by seqNo: the unique key makes a replayed event count once."""

    __tablename__ = "transaction_events"
    __table_args__ = (sa.UniqueConstraint("session_id", "seq_no", "event_type", "timestamp",
                                          name="uq_tx_event_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="sessions.id", index=True, ondelete="CASCADE")
    seq_no: int
    event_type: str
    trigger: str | None = None
    timestamp: datetime = Field(sa_column=_ts(nullable=False))
    received_at: datetime = Field(sa_column=_ts(nullable=False))


class MeterSampleRow(SQLModel, table=True):
    """Every sampledValue a charger sent, raw (value and unit as sent)."""

    __tablename__ = "meter_samples"
    # Charger timestamps are on the charger's clock (minutes or hours off ours): "the latest
    # readings" are found by when we received them.
    __table_args__ = (sa.Index("ix_samples_session_ts", "session_id", "timestamp"),
                      sa.Index("ix_samples_charger_ts", "charger_id", "timestamp"),
                      sa.Index("ix_samples_session_received", "session_id", "received_at"),
                      sa.Index("ix_samples_charger_received", "charger_id", "received_at"),
                      # One row per reading (alembic 0007): inserts skip a re-sent one.
                      sa.Index("ux_samples_reading", "charger_id",
                               sa.text("coalesce(session_id, 0)"), "evse_id", "timestamp",
                               "measurand", sa.text("coalesce(phase, '')"),
                               sa.text("coalesce(location, '')"), unique=True))

    id: int | None = Field(default=None, primary_key=True)
    charger_id: str = Field(max_length=48)
    session_id: int | None = None
    evse_id: int
    connector_id: int | None = None
    timestamp: datetime = Field(sa_column=_ts(nullable=False))
    received_at: datetime = Field(sa_column=_ts(nullable=False))
    measurand: str
    value: float
    unit: str
    phase: str | None = None
    location: str | None = None
    context: str | None = None
    flag: str | None = None  # plausibility (csms/handlers/plausibility.py); None: plausible


class ChargerEventRow(SQLModel, table=True):
    """Other charger messages kept as records, and security incidents (kind='security')."""

    __tablename__ = "charger_events"

    id: int | None = Field(default=None, primary_key=True)
    charger_id: str = Field(index=True, max_length=48)
    kind: str
    evse_id: int | None = None
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(sa_column=_ts(nullable=False, index=True))


class CommandRow(SQLModel, table=True):
    """The outbox: every CSMS-to-charger call, its state and the charger's answer."""

    __tablename__ = "commands"

    id: int | None = Field(default=None, primary_key=True)
    charger_id: str = Field(index=True, max_length=48)
    action: str
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = "queued"  # queued|sent|accepted|rejected|error|timeout|offline|unknown|cancelled
    response: dict | None = Field(default=None, sa_column=Column(JSON))
    error: str | None = None
    source: str = "api"
    created_at: datetime = Field(sa_column=_ts(nullable=False, index=True))
    sent_at: datetime | None = Field(default=None, sa_column=_ts())
    completed_at: datetime | None = Field(default=None, sa_column=_ts())


class ApiTokenRow(SQLModel, table=True):
    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    role: str
    token_hash: str = Field(index=True, unique=True)
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    revoked: bool = False
    expires_at: datetime | None = Field(default=None, sa_column=_ts())  # None: never


class ConsoleSessionRow(SQLModel, table=True):
    """A console login: the cookie carries a random id whose hash is stored here, so logout
    (or an expiry) revokes it on the server."""

    __tablename__ = "console_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    expires_at: datetime = Field(sa_column=_ts(nullable=False))


class ChargerCapabilityRow(SQLModel, table=True):
    """Smart-charging capabilities probed after boot (1.6 GetConfiguration keys / 2.0.1
    SmartChargingCtrlr variables); the control loop chooses purpose, unit and stack level."""

    __tablename__ = "charger_capabilities"

    charger_id: str = Field(primary_key=True, foreign_key="chargers.id", ondelete="CASCADE",
                            max_length=48)
    protocol: str
    rate_units: str = "A,W"  # comma-separated subset of A, W
    max_stack_level: int = 0
    max_periods: int = 1
    max_profiles: int = 1
    evses: int = 1
    probed: bool = False  # False: the charger did not answer, defaults assumed
    # False once the charger answered GetCompositeSchedule with NotSupported / NotImplemented:
    # its limits are then judged on the clock estimate alone.
    composite: bool = True
    probed_at: datetime = Field(sa_column=_ts(nullable=False))


class SmartChargingStateRow(SQLModel, table=True):
    """What the control loop last sent to one EVSE (evse_id 0: the charger's fail-safe), what
    the charger confirmed, what it draws, and why (the binding constraint)."""

    __tablename__ = "smart_charging_state"

    charger_id: str = Field(primary_key=True, foreign_key="chargers.id", ondelete="CASCADE",
                            max_length=48)
    evse_id: int = Field(primary_key=True)
    session_id: int | None = None
    transaction_ref: str | None = None
    purpose: str = "tx"  # tx | tx_default (fail-safe)
    profile_id: int | None = None
    limit_w: float | None = None  # the limit as power (W)
    limit_value: float | None = None  # in limit_unit, as sent
    limit_unit: str | None = None  # A (per phase) | W
    number_phases: int | None = None
    sent_at: datetime | None = Field(default=None, sa_column=_ts())
    lease_until: datetime | None = Field(default=None, sa_column=_ts())
    accepted: bool | None = None
    readback_ok: bool | None = None  # GetCompositeSchedule agrees with what we sent
    readback_mismatches: int = 0  # read-backs in a row that differed (the limit is re-sent)
    readback_got_w: float | None = None  # what the last differing read-back allowed
    readback_cap_w: float | None = None  # the EVSE applies at most this (a local limit)
    why: str | None = None
    measured_w: float | None = None
    measured_at: datetime | None = Field(default=None, sa_column=_ts())
    ev_max_w: float | None = None  # learned: the EV draws less than offered
    ev_max_at: datetime | None = Field(default=None, sa_column=_ts())  # when it was learned
    obeying: bool = True
    violations: int = 0  # consecutive meter readings above the limit
    flagged_at: datetime | None = Field(default=None, sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts(nullable=False))


class SiteLoadRow(SQLModel, table=True):
    """One control-loop run: the site limit in force and the EV power planned and measured
    (``measured_ev_kw``: each car's latest reading, at most the limit last sent to a car that
    obeys; ``csms.control.loop.drawn_now_w``)."""

    __tablename__ = "site_load"
    __table_args__ = (sa.Index("ix_site_load_site_ts", "site_id", "timestamp"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="sites.id", ondelete="CASCADE")
    timestamp: datetime = Field(sa_column=_ts(nullable=False))
    limit_kw: float
    planned_ev_kw: float
    measured_ev_kw: float
    base_kw: float = 0.0
    pv_kw: float = 0.0
    policy: str
    sessions: int = 0


class ChargerCertificateRow(SQLModel, table=True):
    """A charger certificate: one we signed (SignCertificate -> CertificateSigned) or one a
    charger presented at a profile-3 login. ``state``: signed (sent, no answer yet) | accepted |
    rejected | error (CALLERROR or a bad answer) | unconfirmed (offline or no answer) |
    presented (seen at login, not signed by us)."""

    __tablename__ = "charger_certificates"

    id: int | None = Field(default=None, primary_key=True)
    charger_id: str = Field(foreign_key="chargers.id", index=True, ondelete="CASCADE",
                            max_length=48)
    certificate_type: str = "ChargingStationCertificate"
    state: str = "signed"
    subject: str
    issuer: str
    serial_hex: str = Field(max_length=64)
    sha256_hex: str = Field(max_length=64, index=True)
    not_before: datetime = Field(sa_column=_ts(nullable=False))
    not_after: datetime = Field(sa_column=_ts(nullable=False))
    chain_pem: str | None = Field(default=None, sa_column=Column(sa.Text))
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    updated_at: datetime = Field(sa_column=_ts(nullable=False))
    last_used_at: datetime | None = Field(default=None, sa_column=_ts())


class VehicleRow(SQLModel, table=True):
    """A vehicle of the operator's fleet (csms.fleet): its charging facts, copied from the
    model catalogue or entered, and how the CSMS recognises it in a session: the id token its
    driver presents, or the identity a 2.0.1 / 2.1 charger reports for the EV itself (an
    ISO 15118 contract id, eMAID, or the EV's MAC address, EVCCID, sent as the idToken of type
    eMAID / MacAddress), kept normalised (csms.fleet.registry.normalise_ev_id)."""

    __tablename__ = "vehicles"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=80)
    model: str | None = Field(default=None, max_length=80)  # catalogue name; None: entered
    battery_wh: float  # usable capacity
    ac_phases: int = 3
    ac_max_w: float  # onboard charger
    dc_max_w: float = 0.0  # 0: no DC inlet
    v2g: bool = False
    # One vehicle per token and per EV identity: a session must name one car, not several.
    id_token: str | None = Field(default=None, max_length=36, unique=True,
                                 foreign_key="id_tokens.id_token", ondelete="SET NULL")
    ev_id: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = Field(sa_column=_ts(nullable=False))
