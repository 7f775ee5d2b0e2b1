"""Opening-handshake checks: identity from the URL, HTTP Basic auth, failed-attempt limits.

OCPP-J: the endpoint is ``/ocpp/{identity}``, the identity percent-encoded; we allow at most 48
characters (2.0.1 identifierString length) and no ``:``, which Basic auth cannot carry in the
username. Security profile 1: username == identity, password checked by the caller.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import unquote

MAX_IDENTITY_CHARS = 48
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class HandshakeRejected(Exception):
    def __init__(self, status: int, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.retry_after_s = status, message, retry_after_s


def identity_from_path(path: str, prefix: str = "/ocpp/") -> str:
    raw = path.split("?", 1)[0]
    if not raw.startswith(prefix) or "/" in raw[len(prefix):]:
        raise HandshakeRejected(404, f"not an OCPP endpoint; connect to {prefix}{{identity}}")
    encoded = raw[len(prefix):]
    if not encoded:
        raise HandshakeRejected(404, "missing charge point identity in the URL")
    if _BAD_PERCENT.search(encoded):
        raise HandshakeRejected(400, "bad percent-encoding in the charge point identity")
    try:
        identity = unquote(encoded, errors="strict")
    except UnicodeDecodeError:
        raise HandshakeRejected(400, "charge point identity is not valid UTF-8") from None
    if len(identity) > MAX_IDENTITY_CHARS:
        raise HandshakeRejected(400, f"charge point identity longer than {MAX_IDENTITY_CHARS} "
                                     "characters")
    if ":" in identity:
        raise HandshakeRejected(400, "charge point identity must not contain ':'")
    if not identity.isprintable() or identity.strip() != identity or "/" in identity:
        raise HandshakeRejected(400, "charge point identity has forbidden characters")
    return identity


def basic_credentials(header: str | None) -> tuple[str, str]:
    """(username, password) from an Authorization header, or HandshakeRejected(401)."""
    if not header:
        raise HandshakeRejected(401, "HTTP Basic authentication required")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        raise HandshakeRejected(401, "Authorization must use the Basic scheme")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise HandshakeRejected(401, "malformed Basic credentials") from None
    username, sep, password = decoded.partition(":")
    if not sep:
        raise HandshakeRejected(401, "malformed Basic credentials")
    return username, password
