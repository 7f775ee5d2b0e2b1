"""X.509 work with the ``cryptography`` library: the CA that signs charger CSRs, lab certificates
(``csms ca init``) and what the console shows of a certificate.

Rules (OCPP 1.6 security whitepaper section 3 / 2.0.1 part 2 A00 and A02/A03):
- a charger certificate's subject CN is the charger identity (A00 "Certificate Properties"
  asks for the serial number; we use the identity the charger connects with, which is what the
  gateway can check), O is the CPO name (A00.FR.404, checked only when ``require_org`` is set);
- keys are RSA of at least 2048 bits or EC of at least 224 bits (1.6 whitepaper section 3.1,
  2.0.1 A00 "Certificate Properties");
- the CSMS signs the CSR, keeping its subject and public key (A02/A03) and returns the leaf
  followed by the CA chain, PEM, at most 10000 characters (certificateChain maxLength).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CHARGER_CERT_DAYS = 2 * 365
SERVER_CERT_DAYS = 825
CA_DAYS = 10 * 365
CLOCK_SKEW_S = 3600  # not-before is backdated so a charger whose clock is a little late accepts it
MAX_CHAIN_CHARS = 10000
MIN_RSA_BITS = 2048
MIN_EC_BITS = 224

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class CsrRejected(ValueError):
    """A CSR the CA will not sign (the charger gets SignCertificate status Rejected)."""


@dataclass(frozen=True)
class CertInfo:
    subject: str
    common_name: str | None
    organization: str | None
    issuer: str
    serial_hex: str
    not_before: datetime
    not_after: datetime
    sha256_hex: str


@dataclass(frozen=True)
class Signed:
    chain_pem: str
    info: CertInfo


def new_key(kind: str = "rsa") -> PrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"key kind is 'rsa' or 'ecdsa', not {kind!r}")


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attrs)


def _attr(name: x509.Name, oid) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def info(cert: x509.Certificate) -> CertInfo:
    return CertInfo(
        subject=cert.subject.rfc4514_string(),
        common_name=_attr(cert.subject, NameOID.COMMON_NAME),
        organization=_attr(cert.subject, NameOID.ORGANIZATION_NAME),
        issuer=cert.issuer.rfc4514_string(), serial_hex=f"{cert.serial_number:x}",
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
        sha256_hex=cert.fingerprint(hashes.SHA256()).hex())


def _hash_for(key) -> hashes.HashAlgorithm:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


def _builder(subject: x509.Name, issuer: x509.Name, public_key, now: datetime, days: int
             ) -> x509.CertificateBuilder:
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(seconds=CLOCK_SKEW_S))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False))


def _key_usage(public_key, ca: bool = False) -> x509.KeyUsage:
    rsa_key = isinstance(public_key, rsa.RSAPublicKey)
    return x509.KeyUsage(digital_signature=True, content_commitment=False,
                         key_encipherment=rsa_key and not ca, data_encipherment=False,
                         key_agreement=not rsa_key and not ca, key_cert_sign=ca, crl_sign=ca,
                         encipher_only=False, decipher_only=False)


def make_ca(common_name: str, now: datetime, organization: str | None = None,
            kind: str = "ecdsa", days: int = CA_DAYS) -> tuple[x509.Certificate, PrivateKey]:
    key = new_key(kind)
    name = _name(common_name, organization)
    cert = (_builder(name, name, key.public_key(), now, days)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .add_extension(_key_usage(key.public_key(), ca=True), True)
            .sign(key, _hash_for(key)))
    return cert, key


def _issue(ca_cert: x509.Certificate, ca_key: PrivateKey, subject: x509.Name, public_key,
           now: datetime, days: int, usage, san: list[str] | None = None) -> x509.Certificate:
    builder = (_builder(subject, ca_cert.subject, public_key, now, days)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
               .add_extension(_key_usage(public_key), True)
               .add_extension(x509.ExtendedKeyUsage([usage]), False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   ca_cert.public_key()), False))
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [_general_name(h) for h in san]), False)
    return builder.sign(ca_key, _hash_for(ca_key))


def _general_name(host: str) -> x509.GeneralName:
    import ipaddress

    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def issue_server(ca_cert, ca_key, hosts: list[str], now: datetime, kind: str = "rsa",
                 days: int = SERVER_CERT_DAYS) -> tuple[x509.Certificate, PrivateKey]:
    """A CSMS server certificate for ``hosts`` (DNS names or IP addresses)."""
    key = new_key(kind)
    cert = _issue(ca_cert, ca_key, _name(hosts[0]), key.public_key(), now, days,
                  ExtendedKeyUsageOID.SERVER_AUTH, san=hosts)
    return cert, key


def issue_client(ca_cert, ca_key, identity: str, now: datetime, kind: str = "ecdsa",
                 organization: str | None = None, days: int = CHARGER_CERT_DAYS
                 ) -> tuple[x509.Certificate, PrivateKey]:
    """A charger (client) certificate, CN = identity: for labs and tests."""
    key = new_key(kind)
    cert = _issue(ca_cert, ca_key, _name(identity, organization), key.public_key(), now, days,
                  ExtendedKeyUsageOID.CLIENT_AUTH)
    return cert, key


def make_csr(key: PrivateKey, common_name: str, organization: str | None = None) -> str:
    csr = (x509.CertificateSigningRequestBuilder().subject_name(_name(common_name, organization))
           .sign(key, _hash_for(key)))
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _check_key(public_key) -> None:
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            raise CsrRejected(f"RSA key of {public_key.key_size} bits; at least {MIN_RSA_BITS}")
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.key_size < MIN_EC_BITS:
            raise CsrRejected(f"EC key of {public_key.curve.key_size} bits; at least "
                              f"{MIN_EC_BITS}")
    else:
        raise CsrRejected("key type must be RSA or EC")


class CertificateAuthority:
    """The CA that signs charger CSRs (``--ca-cert`` / ``--ca-key``). The certificate file may
    hold the CA followed by its own chain; everything in it is appended to signed leaves."""

    def __init__(self, cert: x509.Certificate, key: PrivateKey,
                 chain: list[x509.Certificate] | None = None) -> None:
        if cert.public_key().public_numbers() != key.public_key().public_numbers():
            raise ValueError("the CA key does not match the CA certificate")
        self.cert, self.key = cert, key
        self.chain = chain if chain is not None else [cert]

    @classmethod
    def load(cls, cert_path: str | Path, key_path: str | Path) -> CertificateAuthority:
        chain = x509.load_pem_x509_certificates(Path(cert_path).read_bytes())
        try:
            key = serialization.load_pem_private_key(Path(key_path).read_bytes(), password=None)
        except TypeError:
            raise ValueError("the CA key is encrypted; give csms an unencrypted key file "
                             "(mode 0600)") from None
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError("the CA key must be RSA or EC")
        return cls(chain[0], key, chain)

    def sign_csr(self, csr_pem: str, identity: str, now: datetime,
                 require_org: str | None = None, days: int = CHARGER_CERT_DAYS) -> Signed:
        """The PEM chain for a charger's CSR, or CsrRejected with the reason."""
        try:
            csr = x509.load_pem_x509_csr(csr_pem.encode())
        except ValueError:
            raise CsrRejected("not a PEM certificate signing request") from None
        try:
            if not csr.is_signature_valid:
                raise CsrRejected("CSR signature does not verify")
        except InvalidSignature:
            raise CsrRejected("CSR signature does not verify") from None
        cn = _attr(csr.subject, NameOID.COMMON_NAME)
        if cn != identity:
            raise CsrRejected(f"CSR subject CN {cn!r} is not the charger identity {identity!r}")
        org = _attr(csr.subject, NameOID.ORGANIZATION_NAME)
        if require_org is not None and org != require_org:
            raise CsrRejected(f"CSR subject O {org!r} is not {require_org!r}")
        public_key = csr.public_key()
        _check_key(public_key)
        leaf = _issue(self.cert, self.key, csr.subject, public_key, now, days,
                      ExtendedKeyUsageOID.CLIENT_AUTH)
        chain_pem = pem(leaf) + "".join(pem(c) for c in self.chain)
        if len(chain_pem) > MAX_CHAIN_CHARS:
            raise CsrRejected(f"certificate chain of {len(chain_pem)} characters is longer "
                              f"than the {MAX_CHAIN_CHARS} OCPP allows")
        return Signed(chain_pem, info(leaf))


def write_private(path: Path, data: bytes) -> None:
    """A private key file readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def init_lab(out: Path, hosts: list[str], now: datetime, organization: str | None = None
             ) -> dict[str, Path]:
    """``csms ca init``: a lab CA, an RSA and an ECDSA server certificate, in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = make_ca("csms lab CA", now, organization)
    files = {"ca_cert": out / "ca.pem", "ca_key": out / "ca.key"}
    files["ca_cert"].write_text(pem(ca_cert))
    write_private(files["ca_key"], key_pem(ca_key))
    for kind in ("rsa", "ecdsa"):
        cert, key = issue_server(ca_cert, ca_key, hosts, now, kind)
        files[f"server_{kind}_cert"] = out / f"server-{kind}.pem"
        files[f"server_{kind}_key"] = out / f"server-{kind}.key"
        files[f"server_{kind}_cert"].write_text(pem(cert) + pem(ca_cert))
        write_private(files[f"server_{kind}_key"], key_pem(key))
    return files
