"""OCPP-J frames: parse, check structure, and build CALLERRORs with version-correct codes.

The ``ocpp`` library drops invalid JSON, non-arrays and unknown message types silently and mixes
1.6 and 2.0.1 error codes; this layer answers every malformed frame instead (OCPP-J 1.6
section 4.2.3; OCPP 2.0.1 part 4 section 4.3), using id "-1" when the message id is unreadable.
OCPP 2.1 (part 4 section 4.2) keeps the 2.0.1 codes and adds two message types: CALLRESULTERROR
(5: the peer could not process our CALLRESULT) and SEND (6: a CALL that gets no answer); both
are valid only on a 2.1 connection and are never answered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from csms.domain.model import Protocol

CALL, CALLRESULT, CALLERROR, CALLRESULTERROR, SEND = 2, 3, 4, 5, 6
_TYPES = {Protocol.V16: (CALL, CALLRESULT, CALLERROR),
          Protocol.V201: (CALL, CALLRESULT, CALLERROR),
          Protocol.V21: (CALL, CALLRESULT, CALLERROR, CALLRESULTERROR, SEND)}
MAX_MESSAGE_ID_CHARS = 36
UNKNOWN_ID = "-1"

# Error kinds -> wire code per version. 1.6 spells "FormationViolation" and
# "OccurenceConstraintViolation" (sic); 2.0.1 "FormatViolation" and "OccurrenceConstraintViolation"
# and adds RpcFrameworkError / MessageTypeNotSupported for frames that are not valid RPC.
ERROR_CODES: dict[str, dict[str, str]] = {
    Protocol.V16: {
        "rpc": "FormationViolation", "message_type": "ProtocolError",
        "format": "FormationViolation", "occurrence": "OccurenceConstraintViolation",
        "property": "PropertyConstraintViolation", "type": "TypeConstraintViolation",
        "not_implemented": "NotImplemented", "not_supported": "NotSupported",
        "protocol": "ProtocolError", "internal": "InternalError", "security": "SecurityError",
        "generic": "GenericError",
    },
    Protocol.V201: {
        "rpc": "RpcFrameworkError", "message_type": "MessageTypeNotSupported",
        "format": "FormatViolation", "occurrence": "OccurrenceConstraintViolation",
        "property": "PropertyConstraintViolation", "type": "TypeConstraintViolation",
        "not_implemented": "NotImplemented", "not_supported": "NotSupported",
        "protocol": "ProtocolError", "internal": "InternalError", "security": "SecurityError",
        "generic": "GenericError",
    },
}
ERROR_CODES[Protocol.V21] = dict(ERROR_CODES[Protocol.V201])


@dataclass(frozen=True, slots=True)
class Call:
    unique_id: str
    action: str
    payload: dict


@dataclass(frozen=True, slots=True)
class CallResult:
    unique_id: str
    payload: dict


@dataclass(frozen=True, slots=True)
class CallError:
    unique_id: str
    code: str
    description: str
    details: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallResultError(CallError):
    """2.1: the peer rejects a CALLRESULT we sent (never answered)."""


@dataclass(frozen=True, slots=True)
class Send(Call):
    """2.1: a CALL without a response (e.g. NotifyPeriodicEventStream)."""


Frame = Call | CallResult | CallError


class FrameError(Exception):
    """A frame or payload we must answer with a CALLERROR of ``kind``."""

    def __init__(self, kind: str, description: str, unique_id: str = UNKNOWN_ID,
                 answerable: bool = True) -> None:
        super().__init__(description)
        self.kind, self.description, self.unique_id = kind, description, unique_id
        self.answerable = answerable  # False for broken CALLRESULT/CALLERROR: never answer those


def parse(raw: str | bytes, max_bytes: int, version: str = Protocol.V201) -> Frame:
    if isinstance(raw, bytes):
        raise FrameError("rpc", "binary frames are not OCPP-J; send text frames")
    if len(raw) > max_bytes:
        raise FrameError("format", f"frame of {len(raw)} bytes exceeds the {max_bytes} byte limit",
                         _peek_id(raw))
    try:
        msg = json.loads(raw, parse_int=_bounded_int, parse_float=_finite_float,
                         parse_constant=_no_constant)
    except _Unreadable as bad:
        # Answered like invalid JSON, except what reads as an answer: a broken CALLRESULT or
        # CALLERROR is never answered (nor a 2.1 CALLRESULTERROR or SEND).
        head = raw.lstrip().removeprefix("[").lstrip()
        is_answer = head[:1] in ("3", "4", "5", "6") and not head[1:2].isdigit()
        raise FrameError(bad.kind, str(bad), _peek_id(raw), answerable=not is_answer) from None
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise FrameError("rpc", "frame is not valid JSON") from None
    if "\\u" in raw:  # a lone surrogate or NUL can only arrive as an escape
        msg = _storable(msg)
    if not isinstance(msg, list) or not msg:
        raise FrameError("rpc", "frame must be a non-empty JSON array")
    type_id = msg[0]
    unique_id = msg[1] if len(msg) > 1 else None
    good_id = isinstance(unique_id, str) and 0 < len(unique_id) <= MAX_MESSAGE_ID_CHARS
    reply_id = unique_id if good_id else UNKNOWN_ID
    types = _TYPES.get(version, _TYPES[Protocol.V201])
    if type(type_id) is not int or type_id not in types:
        raise FrameError("message_type", f"message type {type_id!r} is not one of "
                         f"{', '.join(map(str, types))}", reply_id)
    if not good_id:
        raise FrameError("rpc", "message id must be a string of 1-36 characters",
                         answerable=type_id == CALL)
    if type_id == SEND:
        if len(msg) != 4 or not isinstance(msg[2], str) or not isinstance(msg[3], dict):
            raise FrameError("rpc", "SEND must be [6, id, action, {payload}]", unique_id, False)
        return Send(unique_id, msg[2], msg[3])
    if type_id == CALL:
        if len(msg) != 4:
            raise FrameError("rpc", f"CALL must have 4 elements, got {len(msg)}", unique_id)
        if not isinstance(msg[2], str):
            raise FrameError("rpc", "action must be a string", unique_id)
        if not isinstance(msg[3], dict):
            raise FrameError("format", "payload must be a JSON object", unique_id)
        return Call(unique_id, msg[2], msg[3])
    if type_id == CALLRESULT:
        if len(msg) != 3 or not isinstance(msg[2], dict):
            raise FrameError("rpc", "CALLRESULT must be [3, id, {payload}]", unique_id, False)
        return CallResult(unique_id, msg[2])
    if len(msg) not in (4, 5) or not isinstance(msg[2], str) or not isinstance(msg[3], str):
        raise FrameError("rpc", "CALLERROR must be [4, id, code, description, {details}]",
                         unique_id, False)
    details = msg[4] if len(msg) == 5 and isinstance(msg[4], dict) else {}
    if type_id == CALLRESULTERROR:
        return CallResultError(unique_id, msg[2], msg[3], details)
    return CallError(unique_id, msg[2], msg[3], details)


# Work per frame stays bounded: Python parses an integer of n digits in O(n^2) and refuses more
# than 4,300 digits with a ValueError (a 5,000-digit meterStart used to close the link with 1011
# and a traceback). No OCPP integer needs more than 20 digits.
MAX_INT_DIGITS = 20
REPLACEMENT = "\ufffd"


class _Unreadable(ValueError):
    """A JSON number we refuse to read (answered FormatViolation / FormationViolation)."""

    kind = "format"


class _OutOfRange(_Unreadable):
    """An integer no store keeps (beyond 64 bits): a PropertyConstraintViolation."""

    kind = "property"


INT64 = 2**63 - 1


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _Unreadable(f"integer of {len(text.lstrip('-'))} digits (at most "
                          f"{MAX_INT_DIGITS})")
    value = int(text)
    if not -INT64 - 1 <= value <= INT64:
        raise _OutOfRange(f"integer {text} is outside the 64-bit range")
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _Unreadable(f"number {text[:40]} is out of range")
    return value


def _no_constant(name: str) -> float:
    raise _Unreadable(f"{name} is not a JSON number (RFC 8259 section 6)")


def _storable(value: Any) -> Any:
    """Strings every store can keep: lone surrogates (not UTF-8) and NUL (refused by
    PostgreSQL text) become U+FFFD, the same on SQLite and PostgreSQL."""
    if isinstance(value, str):
        if "\0" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
            return "".join(REPLACEMENT if ch == "\0" or "\ud800" <= ch <= "\udfff" else ch
                           for ch in value)
        return value
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    return value


def _peek_id(raw: str) -> str:
    """The message id of an oversized frame, read without parsing the whole frame."""
    head = raw[:64]
    start = head.find('"')
    end = head.find('"', start + 1)
    if start == -1 or end == -1 or end - start - 1 > MAX_MESSAGE_ID_CHARS:
        return UNKNOWN_ID
    return head[start + 1:end] or UNKNOWN_ID


def call_error(version: str, unique_id: str, kind: str, description: str,
               details: dict | None = None) -> str:
    code = ERROR_CODES[version][kind]
    return json.dumps([CALLERROR, unique_id, code, description[:512], details or {}],
                      separators=(",", ":"))


def call_result(unique_id: str, payload: dict[str, Any]) -> str:
    return json.dumps([CALLRESULT, unique_id, payload], separators=(",", ":"))


def call(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    return json.dumps([CALL, unique_id, action, payload], separators=(",", ":"), default=_num)


def _num(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")
