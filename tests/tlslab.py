"""A lab PKI for the TLS tests, made once per test session with csms.certificates: a CA, RSA and
ECDSA server certificates, charger certificates (good, wrong CN, expired, from another CA), and
Python ``ssl`` client contexts playing the charger."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from csms import clock
from csms.certificates import (
    CertificateAuthority,
    init_lab,
    issue_client,
    key_pem,
    make_ca,
    pem,
    write_private,
)


@dataclass
class Lab:
    dir: Path
    ca_cert: Path
    ca_key: Path
    server: dict[str, tuple[Path, Path]]  # "rsa" | "ecdsa" -> (cert, key)
    ca: CertificateAuthority

    def client_cert(self, identity: str, *, expired: bool = False, other_ca: bool = False,
                    kind: str = "ecdsa", organization: str | None = None) -> tuple[Path, Path]:
        now = clock.wall_now()
        if other_ca:
            ca_cert, ca_key = make_ca("another CA", now)
        else:
            ca_cert, ca_key = self.ca.cert, self.ca.key
        when = now - timedelta(days=800) if expired else now
        cert, key = issue_client(ca_cert, ca_key, identity, when, kind, organization,
                                 days=30 if expired else 365)
        tag = f"{identity}-{'x' if expired else ''}{'o' if other_ca else ''}{kind}{organization}"
        cert_path, key_path = self.dir / f"{tag}.pem", self.dir / f"{tag}.key"
        cert_path.write_text(pem(cert) + pem(ca_cert))
        write_private(key_path, key_pem(key))
        return cert_path, key_path

    def client_context(self, *, cert: tuple[Path, Path] | None = None, cipher: str | None = None,
                       version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
        """A charger's TLS context: trusts the lab CA; optionally one TLS 1.2 cipher suite,
        one protocol version, a client certificate."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cafile=str(self.ca_cert))
        if version is not None:
            ctx.minimum_version = ctx.maximum_version = version
        if cipher is not None:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # TLS 1.3 suites are not negotiable
            ctx.set_ciphers(cipher)
        if cert is not None:
            ctx.load_cert_chain(str(cert[0]), str(cert[1]))
        return ctx


def make_lab(directory: Path) -> Lab:
    files = init_lab(directory, ["127.0.0.1", "localhost"], clock.wall_now())
    return Lab(directory, files["ca_cert"], files["ca_key"],
               {k: (files[f"server_{k}_cert"], files[f"server_{k}_key"]) for k in ("rsa", "ecdsa")},
               CertificateAuthority.load(files["ca_cert"], files["ca_key"]))
