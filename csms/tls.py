"""The OCPP gateway's TLS server context (security profiles 2 and 3), with Python's ``ssl``.

Rules:
- TLS 1.2 or higher only (1.6 security whitepaper section 2.2, 2.0.1 part 2 A00 "TLS with
  Basic authentication"); TLS 1.0/1.1 handshakes fail with a protocol-version alert.
- The CSMS must offer TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
  TLS_RSA_WITH_AES_128_GCM_SHA256 and TLS_RSA_WITH_AES_256_GCM_SHA384 (1.6 whitepaper
  A00.FR.317, 2.0.1 A00.FR.318). The first two need an ECDSA certificate, the last two an RSA
  one. We also offer ECDHE-RSA (forward secrecy for RSA certificates) and prefer ECDHE.
  NULL and anonymous suites are never enabled (same section: no unauthenticated or
  unencrypted suites).
- OpenSSL's security level decides which suites survive: level 3 and above drop every suite
  without forward secrecy, i.e. the TLS_RSA_* ones the spec requires, and Python's default
  cipher string leaves out RSA key exchange altogether. We set our own list and pin
  @SECLEVEL=2 (Debian's default: 2048-bit RSA and P-256 keys, 112-bit security), so a change
  of the distribution's default cannot silently remove a required suite.
- With ``client_ca`` the server asks for a client certificate (profile 3) without requiring one
  (profile 2 chargers send none); a certificate that does not chain to ``client_ca`` or has
  expired fails the handshake. The gateway then checks the subject against the identity.
"""

from __future__ import annotations

import ssl
from pathlib import Path

TLS12_CIPHERS = ":".join([
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
    "AES128-GCM-SHA256", "AES256-GCM-SHA384",
    "!aNULL", "!eNULL", "@SECLEVEL=2"])
# Names of the OCPP-required suites (IANA) -> OpenSSL names, for tests and docs.
REQUIRED_SUITES = {
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
}


def server_context(cert_file: str | Path, key_file: str | Path,
                   client_ca_file: str | Path | None = None) -> ssl.SSLContext:
    """The server context; ``cert_file`` holds the server certificate then its chain."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(TLS12_CIPHERS)
    ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_COMPRESSION
    ctx.options |= ssl.OP_NO_RENEGOTIATION
    ctx.load_cert_chain(str(cert_file), str(key_file), password=_no_passphrase)
    if client_ca_file:
        ctx.load_verify_locations(cafile=str(client_ca_file))
        ctx.verify_mode = ssl.CERT_OPTIONAL
    else:
        ctx.verify_mode = ssl.CERT_NONE
    return ctx



def _no_passphrase() -> str:
    # Without a callback OpenSSL would ask for the passphrase on the terminal and the server
    # would hang at start.
    raise ValueError("the TLS key is encrypted; give csms an unencrypted key file (mode 0600)")
