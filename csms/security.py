"""Secrets: charger passwords (OCPP security profile 1) and API tokens.

Charger passwords are 16-40 characters (OCPP 2.0.1 BasicAuthPassword; 1.6 security whitepaper:
at least 16 bytes), kept as salted PBKDF2-SHA256. The iteration count is deliberately low: the
passwords are long random machine secrets, not human ones, and a reconnect storm of 10k chargers
must cost seconds of CPU, not minutes (0.23 ms per check measured on the 2-core dev machine). API tokens are 256-bit
random values, so a plain SHA-256 is enough to store them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PBKDF2_ITERATIONS = 1000
PASSWORD_MIN_CHARS = 16
PASSWORD_MAX_CHARS = 40


def validate_charger_password(password: str) -> None:
    if not PASSWORD_MIN_CHARS <= len(password) <= PASSWORD_MAX_CHARS:
        raise ValueError(f"charger password must be {PASSWORD_MIN_CHARS}-{PASSWORD_MAX_CHARS} "
                         f"characters, got {len(password)}")
    if not password.isprintable():
        raise ValueError("charger password must be printable characters")


def hash_password(password: str, iterations: int = PBKDF2_ITERATIONS) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of ``password`` against a stored hash; False for a malformed hash."""
    try:
        scheme, iterations, salt_b64, digest_b64 = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(digest_b64)
        actual = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def new_api_token() -> str:
    return "csms_" + secrets.token_urlsafe(32)


def hash_api_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_charger_password() -> str:
    return secrets.token_urlsafe(24)[:32]
