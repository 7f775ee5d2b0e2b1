"""Version-neutral commands: the operator's actions and their parameters.

The API and console speak these names; csms/ocpp/commands.py turns them into the OCPP call of
the charger's version (raw OCPP actions of that version are also accepted there, validated
against the official schema before sending).
"""

from __future__ import annotations

# The neutral actions and their parameters (required, optional). A parameter's meaning does not
# depend on the OCPP version: ``connector_id`` is a 1.6 connector, ``evse_id`` a 2.0.1 EVSE, and
# each version uses the ones it has.
NEUTRAL_PARAMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "remote_start": (("id_token",),
                     ("connector_id", "evse_id", "token_type", "remote_start_id")),
    "remote_stop": (("transaction_id",), ()),
    "reset": ((), ("type",)),  # "soft" (default) or "hard"
    "unlock": ((), ("connector_id", "evse_id")),
    "change_availability": (("operative",), ("connector_id", "evse_id")),
    "trigger": (("message",), ("connector_id", "evse_id")),
    "clear_profiles": ((), ()),
    "clear_cache": ((), ()),
}
NEUTRAL = tuple(NEUTRAL_PARAMS)


class CommandError(ValueError):
    """A command the CSMS cannot send as asked (HTTP 422)."""


class CommandForbidden(CommandError):
    """The caller's role may not send this command (HTTP 403)."""
