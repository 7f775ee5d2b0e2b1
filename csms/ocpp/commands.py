"""The operator's commands as OCPP 1.6 / 2.0.1 / 2.1 calls.

The version-neutral actions and their parameters are csms/domain/commands.py; this module is
the wire format: which raw actions each version accepts, the payload of each neutral action per
version, the Basic-auth password calls and their redaction, and which raw calls change a
charger's security settings.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from csms.domain.commands import NEUTRAL, CommandError
from csms.domain.model import Protocol

# CSMS-to-charger actions the issue asks for, per version.
OUTGOING = {
    Protocol.V16: frozenset({
        "RemoteStartTransaction", "RemoteStopTransaction", "Reset", "UnlockConnector",
        "ChangeAvailability", "ChangeConfiguration", "GetConfiguration", "ClearCache",
        "TriggerMessage", "SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule",
        "DataTransfer",
        # 1.6 security whitepaper (section 4): certificate management.
        "CertificateSigned", "InstallCertificate", "DeleteCertificate",
        "GetInstalledCertificateIds", "ExtendedTriggerMessage"}),
    Protocol.V201: frozenset({
        "RequestStartTransaction", "RequestStopTransaction", "Reset", "UnlockConnector",
        "ChangeAvailability", "GetVariables", "SetVariables", "GetBaseReport", "TriggerMessage",
        "SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule",
        "GetChargingProfiles", "DataTransfer", "ClearCache",
        # A02-A05, M03-M05: certificate management.
        "CertificateSigned", "InstallCertificate", "DeleteCertificate",
        "GetInstalledCertificateIds"}),
}
# 2.1 keeps the 2.0.1 calls and adds V2X / DER control (discharge set-points travel in
# SetChargingProfile; see csms/ocpp/profiles.py).
OUTGOING[Protocol.V21] = OUTGOING[Protocol.V201] | frozenset({
    "NotifyAllowedEnergyTransfer", "UpdateDynamicSchedule", "SetDERControl", "GetDERControl",
    "ClearDERControl", "AFRRSignal"})

# Response statuses that mean the charger did what was asked (or will).
SUCCESS_STATUSES = frozenset({"Accepted", "Unlocked", "Scheduled", "RebootRequired"})

_remote_start_ids = itertools.count(1)


@dataclass(frozen=True)
class OcppCall:
    action: str
    payload: dict


def translate(protocol: str, action: str, params: dict) -> OcppCall:
    """A neutral or raw command as the OCPP call for ``protocol`` ("1.6" or "2.0.1")."""
    if action in OUTGOING.get(protocol, ()):
        if sets_password(action, params):
            raise CommandError("a charger's Basic-auth password is changed with POST "
                               "/api/v1/chargers/{id}/password (kept hashed, confirmed before "
                               "the old one is dropped)")
        return OcppCall(action, params)
    if action not in NEUTRAL:
        raise CommandError(f"unknown action {action!r} for an OCPP {protocol} charger; use one "
                           f"of {', '.join(NEUTRAL)} or {', '.join(sorted(OUTGOING[protocol]))}")
    try:
        return _NEUTRAL[action](protocol == Protocol.V16, params)
    except KeyError as missing:
        raise CommandError(f"{action} needs parameter {missing}") from None


def sets_password(action: str, params: dict) -> bool:
    """Would this raw call set the Basic-auth password (1.6 ChangeConfiguration AuthorizationKey,
    2.0.1 SetVariables SecurityCtrlr.BasicAuthPassword)?"""
    if action == "ChangeConfiguration":
        return str(params.get("key", "")).lower() == "authorizationkey"
    if action == "SetVariables":
        return any(isinstance(d, dict)
                   and str((d.get("component") or {}).get("name", "")).lower() == "securityctrlr"
                   and str((d.get("variable") or {}).get("name", "")).lower()
                   == "basicauthpassword"
                   for d in params.get("setVariableData") or ())
    return False


REDACTED = "***"


def password_of(action: str, params: dict) -> str:
    """The password a raw password-setting call carries (``sets_password`` is true); a call that
    sets anything else with it is refused, so that rotation sends exactly this password."""
    if action == "ChangeConfiguration":
        value = params.get("value")
    else:
        data = params.get("setVariableData") or []
        if len(data) != 1:
            raise CommandError("send SecurityCtrlr.BasicAuthPassword alone, not with other "
                               "variables")
        value = data[0].get("attributeValue")
    if not isinstance(value, str):
        raise CommandError("the password must be a string")
    return value


def password_call(protocol: str, password: str) -> OcppCall:
    """The call that sets a charger's Basic-auth password: 1.6 ChangeConfiguration
    AuthorizationKey (security whitepaper section 4.1), 2.0.1 SetVariables
    SecurityCtrlr.BasicAuthPassword (A01)."""
    if protocol == Protocol.V16:
        return OcppCall("ChangeConfiguration", {"key": "AuthorizationKey", "value": password})
    return OcppCall("SetVariables", {"setVariableData": [{
        "attributeValue": password, "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "BasicAuthPassword"}}]})


# Calls that change how a charger authenticates or whom it trusts: admin only (the command API
# answers 403 to anyone else). Passwords go through the rotation (sets_password).
_SECURITY_ACTIONS = frozenset({"InstallCertificate", "DeleteCertificate", "CertificateSigned"})
_SECURITY_COMPONENT = "securityctrlr"  # 2.0.1 SecurityCtrlr.* (profile, password, org name...)
_SECURITY_KEYS_16 = frozenset({"authorizationkey", "securityprofile", "cpoName".lower()})


def is_security_setting(action: str, params: dict) -> bool:
    if action in _SECURITY_ACTIONS:
        return True
    if action == "ChangeConfiguration":
        return str(params.get("key", "")).lower() in _SECURITY_KEYS_16
    if action == "SetVariables":
        return any(isinstance(d, dict) and str((d.get("component") or {}).get("name", ""))
                   .lower() == _SECURITY_COMPONENT for d in params.get("setVariableData") or ())
    return False


def redact_password(action: str, payload: dict) -> dict:
    """``payload`` with any password it sets replaced by ***: what may be stored or logged
    (2.0.1 A01.FR.09: the password is never logged)."""
    if not sets_password(action, payload):
        return payload
    if action == "ChangeConfiguration":
        return {**payload, "value": REDACTED}
    return {**payload, "setVariableData": [
        {**d, "attributeValue": REDACTED} if sets_password(action, {"setVariableData": [d]})
        else d for d in payload["setVariableData"]]}


def password_outcome(protocol: str, response: dict) -> str:
    """accepted | reboot_required | rejected, from the answer to ``password_call``."""
    if protocol == Protocol.V16:
        status = response.get("status")
    else:
        results = response.get("setVariableResult") or [{}]
        status = results[0].get("attributeStatus")
    return {"Accepted": "accepted", "RebootRequired": "reboot_required"}.get(status, "rejected")


def _remote_start(v16: bool, p: dict) -> OcppCall:
    if v16:
        payload = {"idTag": p["id_token"]}
        if p.get("connector_id") is not None:
            payload["connectorId"] = int(p["connector_id"])
        return OcppCall("RemoteStartTransaction", payload)
    payload = {"idToken": {"idToken": p["id_token"], "type": p.get("token_type", "Central")},
               "remoteStartId": int(p.get("remote_start_id") or next(_remote_start_ids))}
    if p.get("evse_id") is not None:
        payload["evseId"] = int(p["evse_id"])
    return OcppCall("RequestStartTransaction", payload)


def _remote_stop(v16: bool, p: dict) -> OcppCall:
    ref = p["transaction_id"]
    if v16:
        try:
            return OcppCall("RemoteStopTransaction", {"transactionId": int(ref)})
        except ValueError:
            raise CommandError("a 1.6 transaction_id is an integer") from None
    return OcppCall("RequestStopTransaction", {"transactionId": str(ref)})


def _reset(v16: bool, p: dict) -> OcppCall:
    kind = p.get("type", "soft").lower()
    if kind not in ("soft", "hard"):
        raise CommandError("reset type is 'soft' or 'hard'")
    if v16:
        return OcppCall("Reset", {"type": kind.capitalize()})
    return OcppCall("Reset", {"type": "OnIdle" if kind == "soft" else "Immediate"})


def _unlock(v16: bool, p: dict) -> OcppCall:
    if v16:
        return OcppCall("UnlockConnector", {"connectorId": int(p["connector_id"])})
    return OcppCall("UnlockConnector", {"evseId": int(p["evse_id"]),
                                        "connectorId": int(p.get("connector_id", 1))})


def _availability(v16: bool, p: dict) -> OcppCall:
    operative = bool(p["operative"])
    if v16:
        return OcppCall("ChangeAvailability", {
            "connectorId": int(p.get("connector_id", 0)),
            "type": "Operative" if operative else "Inoperative"})
    payload: dict = {"operationalStatus": "Operative" if operative else "Inoperative"}
    if p.get("evse_id"):
        payload["evse"] = {"id": int(p["evse_id"])}
    return OcppCall("ChangeAvailability", payload)


# Messages a 1.6 charger sends on request only through the security whitepaper's
# ExtendedTriggerMessage (1.6 TriggerMessage's enum does not have them).
EXTENDED_TRIGGERS_16 = frozenset({"SignChargePointCertificate", "LogStatusNotification"})


def _trigger(v16: bool, p: dict) -> OcppCall:
    if v16 and p["message"] in EXTENDED_TRIGGERS_16:
        payload = {"requestedMessage": p["message"]}
        if p.get("connector_id") is not None:
            payload["connectorId"] = int(p["connector_id"])
        return OcppCall("ExtendedTriggerMessage", payload)
    payload: dict = {"requestedMessage": p["message"]}
    if v16 and p.get("connector_id") is not None:
        payload["connectorId"] = int(p["connector_id"])
    if not v16 and p.get("evse_id") is not None:
        payload["evse"] = {"id": int(p["evse_id"])}
    return OcppCall("TriggerMessage", payload)


def _clear_profiles(v16: bool, p: dict) -> OcppCall:
    return OcppCall("ClearChargingProfile", {})


def _clear_cache(v16: bool, p: dict) -> OcppCall:
    return OcppCall("ClearCache", {})


_NEUTRAL = {"remote_start": _remote_start, "remote_stop": _remote_stop, "reset": _reset,
            "unlock": _unlock, "change_availability": _availability, "trigger": _trigger,
            "clear_profiles": _clear_profiles, "clear_cache": _clear_cache}
