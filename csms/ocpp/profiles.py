"""Pure: a domain limit schedule -> OCPP 1.6 / 2.0.1 / 2.1 SetChargingProfile payloads.

Rules chargers enforce (OCPP 1.6 3.13 / 5.16, 2.0.1 K01; EVerest):
- ChargePointMaxProfile / ChargingStationMaxProfile only on connector / EVSE 0;
- a TxProfile needs the transaction id (2.0.1 always; 1.6 applies it to the ongoing one);
- 2.0.1 rejects a second profile with the same (stackLevel, purpose, EVSE): the same profile id
  is re-used for the same slot, which replaces instead;
- 1.6 limits carry at most one decimal: every limit is rounded DOWN to 0.1, so a schedule within
  the site cap stays within it; AC: a current is 0 or at least 6 A per phase;
- a unit (A with numberPhases, or W) and stack level the charger supports, at most
  ``max_periods`` periods.

Discharge (V2G) exists only in OCPP 2.1: a period with a negative power becomes
``operationMode`` CentralSetpoint with ``setpoint`` = ``dischargeLimit`` = the (negative)
discharge and ``limit`` 0 (the 2.1 schema: ``limit`` SHOULD be non-negative, a negative one is
only for backward compatibility; ``dischargeLimit`` <= 0; the setpoint stays within both).
Charging periods on 2.1 say ``operationMode`` ChargingOnly. On 1.6 and 2.0.1 a negative power is
clipped to a limit of 0: those chargers are only ever curtailed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from csms.domain.charger_facts import ChargerFacts, wiring_of_rotation
from csms.domain.electrical import limit_power_w, signed_to_limit, to_limit
from csms.domain.model import ProfilePurpose, Protocol

MAX, TX_DEFAULT, TX = ProfilePurpose.MAX, ProfilePurpose.TX_DEFAULT, ProfilePurpose.TX
_PURPOSE = {  # the neutral purpose -> its OCPP name
    Protocol.V16: {MAX: "ChargePointMaxProfile", TX_DEFAULT: "TxDefaultProfile",
                   TX: "TxProfile"},
    Protocol.V201: {MAX: "ChargingStationMaxProfile", TX_DEFAULT: "TxDefaultProfile",
                    TX: "TxProfile"},
}
_PURPOSE[Protocol.V21] = _PURPOSE[Protocol.V201]
V2X_PROTOCOLS = frozenset({Protocol.V21})  # protocols with discharge semantics
CHARGING_ONLY, CENTRAL_SETPOINT = "ChargingOnly", "CentralSetpoint"
# Profile ids: one per slot, so re-sending a slot replaces the profile (never a duplicate).
FAILSAFE_PROFILE_ID = 1
TX_PROFILE_ID_BASE = 100  # + EVSE id


@dataclass(frozen=True, kw_only=True)
class Capabilities:
    """What a charger accepts (1.6 configuration keys / 2.0.1 SmartChargingCtrlr)."""

    protocol: str
    rate_units: tuple[str, ...] = ("A", "W")
    max_stack_level: int = 0
    max_periods: int = 1
    max_profiles: int = 1
    evses: int = 1
    probed: bool = False
    composite: bool = True  # answers GetCompositeSchedule (False once it said NotSupported)


@dataclass(frozen=True, kw_only=True)
class LimitProfile:
    """One profile to install: ``periods`` ((start offset s, power W), ...) from ``start``.

    ``phases``: AC phases the EVSE uses (0 for DC). ``duration_s``: after it the next lower
    profile applies (the lease of a TxProfile); None = indefinite.
    """

    purpose: ProfilePurpose
    evse_id: int
    periods: tuple[tuple[int, float], ...]
    phases: int = 3
    start: datetime | None = None
    duration_s: int | None = None
    transaction_id: str | None = None


def choose_unit(caps: Capabilities, ac: bool) -> str:
    """Amperes per phase for AC when allowed (what IEC 61851 signals), else Watts."""
    if ac and "A" in caps.rate_units:
        return "A"
    if "W" in caps.rate_units:
        return "W"
    return caps.rate_units[0] if caps.rate_units else "A"


def stack_level(caps: Capabilities, purpose: ProfilePurpose) -> int:
    """Fail-safe defaults at level 0; transaction limits one above when the charger allows."""
    if purpose == TX:
        return min(1, max(0, caps.max_stack_level))
    return 0


def profile_id(purpose: ProfilePurpose, evse_id: int) -> int:
    return TX_PROFILE_ID_BASE + evse_id if purpose == TX else FAILSAFE_PROFILE_ID


def signed_limit(power_w: float, unit: str, phases: int, protocol: str) -> float:
    """Like ``to_limit``, but a negative power (discharge) keeps its sign on 2.1 (rounded
    towards zero, so we never ask for more discharge than planned)."""
    if protocol in V2X_PROTOCOLS:
        return signed_to_limit(power_w, unit, phases)
    return to_limit(power_w, unit, phases)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _periods(p: LimitProfile, unit: str, caps: Capabilities, v16: bool) -> list[dict]:
    v2x = caps.protocol in V2X_PROTOCOLS
    out = []
    for start_s, power_w in p.periods[:max(1, caps.max_periods)]:
        value = signed_limit(power_w, unit, p.phases, caps.protocol)
        period: dict = {"startPeriod": int(start_s), "limit": max(0.0, value)}
        if v2x and value < 0:
            period.update(operationMode=CENTRAL_SETPOINT, setpoint=value, dischargeLimit=value)
        elif v2x:
            period["operationMode"] = CHARGING_ONLY
        if unit == "A" and p.phases > 0:
            period["numberPhases"] = int(p.phases)
        out.append(period)
    return out


def set_profile_request(p: LimitProfile, caps: Capabilities) -> tuple[str, dict]:
    """("SetChargingProfile", camelCase payload) for the charger's protocol."""
    if p.purpose == MAX and p.evse_id != 0:
        raise ValueError("a charger-wide maximum profile goes on connector/EVSE 0")
    if p.purpose == TX and (p.transaction_id is None or p.evse_id == 0):
        raise ValueError("a TxProfile needs its transaction id and an EVSE")
    v16 = caps.protocol == Protocol.V16
    unit = choose_unit(caps, p.phases > 0)
    schedule: dict = {"chargingRateUnit": unit,
                      "chargingSchedulePeriod": _periods(p, unit, caps, v16)}
    kind = "Relative"
    if p.start is not None:
        schedule["startSchedule"] = _iso(p.start)
        kind = "Absolute"
    if p.duration_s is not None:
        schedule["duration"] = int(p.duration_s)
    purpose = _PURPOSE[caps.protocol][p.purpose]
    level = stack_level(caps, p.purpose)
    pid = profile_id(p.purpose, p.evse_id)
    if v16:
        profile = {"chargingProfileId": pid, "stackLevel": level,
                   "chargingProfilePurpose": purpose, "chargingProfileKind": kind,
                   "chargingSchedule": schedule}
        if p.purpose == TX:
            profile["transactionId"] = int(p.transaction_id)
        return "SetChargingProfile", {"connectorId": p.evse_id, "csChargingProfiles": profile}
    schedule = {"id": pid, **schedule}
    profile = {"id": pid, "stackLevel": level, "chargingProfilePurpose": purpose,
               "chargingProfileKind": kind, "chargingSchedule": [schedule]}
    if p.purpose == TX:
        profile["transactionId"] = str(p.transaction_id)
    return "SetChargingProfile", {"evseId": p.evse_id, "chargingProfile": profile}


def composite_request(caps: Capabilities, evse_id: int, duration_s: int, ac: bool
                      ) -> tuple[str, dict]:
    unit = choose_unit(caps, ac)
    if caps.protocol == Protocol.V16:
        return "GetCompositeSchedule", {"connectorId": evse_id, "duration": int(duration_s),
                                        "chargingRateUnit": unit}
    return "GetCompositeSchedule", {"evseId": evse_id, "duration": int(duration_s),
                                    "chargingRateUnit": unit}


def composite_start(response: dict) -> datetime | None:
    """The charger's "now" in a GetCompositeSchedule answer: 2.0.1 ``schedule.scheduleStart``
    (required), 1.6 ``scheduleStart`` or the schedule's ``startSchedule``; None if absent or
    unreadable."""
    if response.get("status") != "Accepted":
        return None
    schedule = response.get("schedule") or response.get("chargingSchedule") or {}
    text = response.get("scheduleStart") or schedule.get("scheduleStart") \
        or schedule.get("startSchedule")
    if not isinstance(text, str):
        return None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


def _composite_first_period(response: dict) -> tuple[dict, str] | None:
    """(first period, unit) of a GetCompositeSchedule answer, or None."""
    if response.get("status") != "Accepted":
        return None
    schedule = response.get("chargingSchedule") or response.get("schedule") or {}
    periods = schedule.get("chargingSchedulePeriod") or []
    if not periods:
        return None
    return (min(periods, key=lambda q: q.get("startPeriod", 0)),
            schedule.get("chargingRateUnit", "A"))


def composite_first_limit(response: dict) -> tuple[float, str] | None:
    """(value, unit) of the first period of a GetCompositeSchedule answer, or None. 2.1:
    ``limit`` is optional; a discharge set-point is what the EVSE follows."""
    found = _composite_first_period(response)
    if found is None:
        return None
    first, unit = found
    value = first.get("setpoint", first.get("limit"))
    return None if value is None else (float(value), unit)


def composite_first_limit_w(response: dict, phases: int) -> float | None:
    """Power (W) the first period of a GetCompositeSchedule answer allows an EV on ``phases``
    phases, or None. An A limit is per phase: the charger's composite may say three phases
    (its own maximum) while the car draws on one, which then gets one phase's worth."""
    found, limit = _composite_first_period(response), composite_first_limit(response)
    if found is None or limit is None:
        return None
    n = min(found[0].get("numberPhases") or phases, phases)
    return limit_power_w(limit[0], limit[1], n)


# -- capability probing ------------------------------------------------------------------------
V16_KEYS = ("ChargingScheduleAllowedChargingRateUnit", "ChargeProfileMaxStackLevel",
            "ChargingScheduleMaxPeriods", "MaxChargingProfilesInstalled", "NumberOfConnectors",
            "ConnectorPhaseRotation")
V201_VARIABLES = (("SmartChargingCtrlr", None, "RateUnit"),
                  ("SmartChargingCtrlr", None, "ProfileStackLevel"),
                  ("SmartChargingCtrlr", None, "PeriodsPerSchedule"),
                  ("SmartChargingCtrlr", "ChargingProfiles", "Entries"))


def probe_request(protocol: str) -> tuple[str, dict]:
    if protocol == Protocol.V16:
        return "GetConfiguration", {"key": list(V16_KEYS)}
    data = []
    for component, instance, variable in V201_VARIABLES:
        var = {"name": variable}
        if instance:
            var["instance"] = instance
        data.append({"component": {"name": component}, "variable": var})
    return "GetVariables", {"getVariableData": data}


def _units(text: str | None) -> tuple[str, ...]:
    """"Current,Power" (1.6) or "A,W" (2.0.1) -> ("A", "W")."""
    names = {"current": "A", "a": "A", "power": "W", "w": "W"}
    out = [names[t.strip().lower()] for t in (text or "").split(",")
           if t.strip().lower() in names]
    return tuple(dict.fromkeys(out)) or ("A", "W")


def _int(text, default: int) -> int:
    try:
        return int(str(text).strip())
    except (TypeError, ValueError):
        return default


def parse_probe(protocol: str, response: dict, evses: int = 1) -> Capabilities:
    """Capabilities from a GetConfiguration / GetVariables answer (defaults for what's missing:
    both units, stack level 0, one period, one profile)."""
    if protocol == Protocol.V16:
        conf = {k.get("key"): k.get("value") for k in response.get("configurationKey") or []}
        return Capabilities(
            protocol=protocol,
            rate_units=_units(conf.get("ChargingScheduleAllowedChargingRateUnit")),
            max_stack_level=_int(conf.get("ChargeProfileMaxStackLevel"), 0),
            max_periods=_int(conf.get("ChargingScheduleMaxPeriods"), 1),
            max_profiles=_int(conf.get("MaxChargingProfilesInstalled"), 1),
            evses=_int(conf.get("NumberOfConnectors"), evses), probed=bool(conf))
    values = {}
    for r in response.get("getVariableResult") or []:
        if r.get("attributeStatus") == "Accepted":
            values[r["variable"]["name"]] = r.get("attributeValue")
    return Capabilities(protocol=protocol, rate_units=_units(values.get("RateUnit")),
                        max_stack_level=_int(values.get("ProfileStackLevel"), 0),
                        max_periods=_int(values.get("PeriodsPerSchedule"), 1),
                        max_profiles=_int(values.get("Entries"), 1), evses=evses,
                        probed=bool(values))


def probe_facts(protocol: str, response: dict) -> ChargerFacts:
    """What a 1.6 GetConfiguration answer tells of the hardware: ``ConnectorPhaseRotation``
    (1.6 section 9.1.7: per connector, e.g. ``1.RST``; ``NotApplicable`` for one-phase and DC
    chargers, so it only proves three-phase AC)."""
    if protocol != Protocol.V16:
        return ChargerFacts()
    conf = {k.get("key"): k.get("value") for k in response.get("configurationKey") or []}
    rotations = [part.split(".", 1)[-1].strip() for part in
                 str(conf.get("ConnectorPhaseRotation") or "").split(",") if part.strip()]
    three_phase = {"RST", "RTS", "SRT", "STR", "TRS", "TSR"}
    if rotations and any(r in three_phase for r in rotations):
        wiring = next((w for w in map(wiring_of_rotation, rotations) if w), None)
        return ChargerFacts("AC", supply_phases=3, phase_wiring=wiring)
    return ChargerFacts()


# 2.0.1 device model (part 2, appendix 3): EVSE.Power's maxLimit (read as MaxSet),
# EVSE.SupplyPhases (0: DC), EVSE.PhaseRotation and Connector.ConnectorType, per EVSE.
DEVICE_MODEL = (("EVSE", "Power", "MaxSet"), ("EVSE", "SupplyPhases", "Actual"),
                ("EVSE", "PhaseRotation", "Actual"), ("Connector", "ConnectorType", "Actual"))


def device_model_request(evse_ids: list[int]) -> tuple[str, dict]:
    data = []
    for evse_id in evse_ids:
        for component, variable, attribute in DEVICE_MODEL:
            evse = {"id": evse_id, **({"connectorId": 1} if component == "Connector" else {})}
            item = {"component": {"name": component, "evse": evse},
                    "variable": {"name": variable}}
            if attribute != "Actual":
                item["attributeType"] = attribute
            data.append(item)
    return "GetVariables", {"getVariableData": data}


def _float(text) -> float | None:
    try:
        value = float(str(text).strip())
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def device_model_facts(response: dict) -> ChargerFacts:
    """Facts from a device-model GetVariables answer (the largest EVSE rating; DC if any EVSE
    is)."""
    ratings, phases, connectors, wirings = [], [], [], []
    for r in response.get("getVariableResult") or []:
        if r.get("attributeStatus") != "Accepted":
            continue
        name = (r.get("variable") or {}).get("name")
        value = r.get("attributeValue")
        if name == "Power" and (_float(value) or 0) > 0:
            ratings.append(_float(value))
        elif name == "SupplyPhases" and _float(value) is not None:
            phases.append(int(_float(value)))
        elif name == "ConnectorType" and value:
            connectors.append(str(value))
        elif name == "PhaseRotation" and wiring_of_rotation(value):
            wirings.append(wiring_of_rotation(value))
    dc_connector = next((c for c in connectors if ChargerFacts(connector_type=c).kind == "DC"),
                        None)
    return ChargerFacts(
        max_power_w=max(ratings) if ratings else None,
        supply_phases=0 if 0 in phases else (max(phases) if phases else None),
        connector_type=dc_connector or (connectors[0] if connectors else None),
        phase_wiring=wirings[0] if wirings else None)
