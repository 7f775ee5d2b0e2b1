"""Who may connect, by security profile (OCPP 1.6 security whitepaper section 2, 2.0.1 A00).

Profile 0: no authentication (lab, legacy). Profile 1: HTTP Basic over ws or wss. Profile 2:
Basic over TLS. Profile 3: TLS with a client certificate whose subject CN is the identity; no
Basic needed. No downgrade (1.6 security whitepaper section 2.2 A00.FR.002: a charger connecting
with another profile than the CSMS uses for it is rejected; A00.FR.005: a profile is never
lowered through OCPP - here only an admin can, through the registry): a profile 2 or 3 charger
is refused over plain ws, a profile-3 charger without its certificate is refused even with a
correct password. A profile-1 charger may use wss (TLS only adds protection). One gateway
serves several profiles on two ports, as A00.FR.006 allows.

Each refusal that says something about the charger (not the plain challenge of a first request
without credentials) carries an ``incident`` kind, recorded as a security event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from csms.ocpp import handshake
from csms.ocpp.handshake import HandshakeRejected

PROFILES = (0, 1, 2, 3)


class AdmissionRefused(HandshakeRejected):
    def __init__(self, status: int, message: str, incident: str | None) -> None:
        super().__init__(status, message)
        self.incident = incident


@dataclass(frozen=True)
class ClientCertificate:
    common_name: str | None
    organization: str | None
    subject: str
    issuer: str
    serial_hex: str
    sha256_hex: str
    not_before: datetime
    not_after: datetime

    @classmethod
    def from_der(cls, der: bytes) -> ClientCertificate:
        cert = x509.load_der_x509_certificate(der)

        def attr(oid) -> str | None:
            values = cert.subject.get_attributes_for_oid(oid)
            return str(values[0].value) if values else None

        return cls(attr(NameOID.COMMON_NAME), attr(NameOID.ORGANIZATION_NAME),
                   cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(),
                   f"{cert.serial_number:x}", cert.fingerprint(hashes.SHA256()).hex(),
                   cert.not_valid_before_utc, cert.not_valid_after_utc)


@dataclass(frozen=True)
class Admitted:
    profile: int
    certificate: ClientCertificate | None = None
    used_pending_password: bool = False  # the charger proved it has its new password


def effective_profile(registered: int | None, has_password: bool) -> int:
    """A charger with a password needs at least profile 1 (rows from before profiles)."""
    return max(registered or 0, 1 if has_password else 0)


def admit(identity: str, profile: int, *, tls: bool, certificate: ClientCertificate | None,
          authorization: str | None, check_password, require_org: str | None = None
          ) -> Admitted:
    """Decide on one opening handshake; ``check_password(password) -> None | "current" |
    "pending"`` says which stored password matched."""
    if profile >= 2 and not tls:
        raise AdmissionRefused(403, f"security profile {profile} requires TLS (wss://)",
                               "downgrade_refused")
    if profile == 3:
        return Admitted(3, _check_certificate(identity, certificate, require_org))
    if profile == 0:
        return Admitted(0, certificate)
    if authorization is None:
        # The usual first step of HTTP auth (a challenge), not a failed attempt.
        raise AdmissionRefused(401, "HTTP Basic authentication required", None)
    try:
        username, password = handshake.basic_credentials(authorization)
    except HandshakeRejected as rej:
        raise AdmissionRefused(rej.status, rej.message, "auth_failed") from None
    if username != identity:
        raise AdmissionRefused(401, "Basic auth username must equal the identity", "auth_failed")
    matched = check_password(password)
    if matched is None:
        raise AdmissionRefused(401, "wrong password", "auth_failed")
    return Admitted(profile, None, used_pending_password=matched == "pending")


def _check_certificate(identity: str, cert: ClientCertificate | None,
                       require_org: str | None) -> ClientCertificate:
    if cert is None:
        raise AdmissionRefused(401, "security profile 3 requires a client certificate",
                               "certificate_missing")
    if cert.common_name != identity:
        # 2.0.1 A00 "TLS with client side certificates": the certificate must be the
        # charger's own.
        raise AdmissionRefused(403, f"client certificate CN {cert.common_name!r} is not the "
                                    "charger identity", "certificate_mismatch")
    if require_org is not None and cert.organization != require_org:
        # 2.0.1 A00.FR.404: O holds the CPO's name.
        raise AdmissionRefused(403, f"client certificate O {cert.organization!r} is not "
                                    f"{require_org!r}", "certificate_mismatch")
    return cert
