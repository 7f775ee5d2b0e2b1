"""Payload validation against the official OCPP JSON schemas shipped with the ``ocpp`` library.

We reuse the library's schemas but map schema failures to error kinds ourselves, because the
library maps them without regard to the version (and raises 1.6 codes on 2.0.1). Valid payloads
(nearly all of them) take a fast path through fastjsonschema, which compiles each schema to
Python once (jsonschema's generic walk was a fifth of the gateway's CPU under load); only a
payload that fails is walked again by jsonschema to name the failed keyword precisely.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from pathlib import Path

import fastjsonschema
import ocpp
from jsonschema import Draft4Validator
from jsonschema.exceptions import best_match
from ocpp.messages import get_validator

from csms.domain.model import Protocol
from csms.ocpp.framing import CALL, CALLRESULT, FrameError

# jsonschema keyword -> error kind (see framing.ERROR_CODES).
_KIND_BY_KEYWORD = {
    "required": "occurrence",
    "minItems": "occurrence",
    "maxItems": "occurrence",
    "additionalProperties": "format",
    "type": "type",
    "maxLength": "type",  # CiString20Type etc. are data types: over-long is a type violation
    "minLength": "type",
    "enum": "property",
    "minimum": "property",
    "maximum": "property",
    "multipleOf": "property",
    "pattern": "property",
    "format": "property",
}

# 1.6 schemas constrain some decimals with multipleOf 0.1, which binary floats fail (21.4 is
# 21.39999...). These messages are validated with Decimal numbers, as the library does.
_DECIMAL_ACTIONS_16 = {(CALL, "SetChargingProfile"), (CALL, "RemoteStartTransaction"),
                       (CALLRESULT, "GetCompositeSchedule")}


@cache
def validator_for(version: str, message_type: int, action: str) -> Draft4Validator | None:
    decimal = version == Protocol.V16 and (message_type, action) in _DECIMAL_ACTIONS_16
    try:
        return get_validator(message_type, action, version,
                             parse_float=Decimal if decimal else float)
    except (OSError, ValueError):
        pass
    if version == Protocol.V21 and message_type == CALL:
        # 2.1 SEND messages (NotifyPeriodicEventStream) have a schema without "Request".
        path = Path(ocpp.__file__).parent / "v21" / "schemas" / f"{action}.json"
        if path.is_file():
            return Draft4Validator(json.loads(path.read_text(encoding="utf-8-sig")))
    return None


@cache
def fast_validator_for(version: str, message_type: int, action: str):
    validator = validator_for(version, message_type, action)
    if validator is None:
        return None
    schema = {k: v for k, v in validator.schema.items() if k not in ("$schema", "$id", "id")}
    return fastjsonschema.compile(schema)


def validate(version: str, message_type: int, action: str, payload: dict,
             unique_id: str) -> None:
    """Raise FrameError (kind per the failed keyword) if ``payload`` breaks the schema."""
    fast = fast_validator_for(version, message_type, action)
    if fast is None:
        raise FrameError("not_implemented", f"no schema for {action} in OCPP {version}",
                         unique_id)
    try:
        fast(payload)
        return
    except fastjsonschema.JsonSchemaException:
        pass  # find out exactly what failed (and re-check decimals exactly) below
    validator = validator_for(version, message_type, action)
    if version == Protocol.V16 and (message_type, action) in _DECIMAL_ACTIONS_16:
        payload = json.loads(json.dumps(payload, default=float), parse_float=Decimal)
    error = best_match(validator.iter_errors(payload))
    if error is None:
        return
    kind = _KIND_BY_KEYWORD.get(error.validator, "format")
    where = "/".join(str(p) for p in error.absolute_path) or "payload"
    message = error.message if len(error.message) < 200 else error.message[:200] + "..."
    raise FrameError(kind, f"{action}: {where}: {message}", unique_id)
