"""Certificate management: the CA signing charger CSRs (unit), SignCertificate ->
CertificateSigned over wss for 1.6 (security whitepaper) and 2.0.1 (A02/A03), logging in with
the signed certificate as profile 3, and the certificate messages of the command API."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from sqlmodel import Session, select

from csms import certificates, clock
from csms.certificates import CsrRejected
from csms.store.tables import ChargerCertificateRow, CommandRow
from tests.ocpp.clients import connect
from tests.security.chargers import CHARGERS
from tests.security.helpers import basic, handshake, register, security_events

PROTOCOLS = pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])


# -- the CA ------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["ecdsa", "rsa"])
def test_signed_leaf_keeps_subject_and_key(tls_lab, kind):
    key = certificates.new_key(kind)
    csr = certificates.make_csr(key, "CP-9", "ACME")
    now = clock.wall_now()
    signed = tls_lab.ca.sign_csr(csr, "CP-9", now)
    chain = x509.load_pem_x509_certificates(signed.chain_pem.encode())
    leaf = chain[0]
    assert leaf.subject == x509.load_pem_x509_csr(csr.encode()).subject
    assert leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) == \
        key.public_key().public_bytes(serialization.Encoding.DER,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    leaf.verify_directly_issued_by(tls_lab.ca.cert)
    assert leaf.not_valid_before_utc <= now < leaf.not_valid_after_utc
    assert chain[1] == tls_lab.ca.cert
    assert signed.info.common_name == "CP-9" and signed.info.organization == "ACME"
    assert x509.ExtendedKeyUsageOID.CLIENT_AUTH in leaf.extensions.get_extension_for_class(
        x509.ExtendedKeyUsage).value
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_csr_rejections(tls_lab):
    now = clock.wall_now()
    key = certificates.new_key("ecdsa")
    with pytest.raises(CsrRejected, match="CN"):
        tls_lab.ca.sign_csr(certificates.make_csr(key, "SOMEONE"), "CP-9", now)
    with pytest.raises(CsrRejected, match="PEM"):
        tls_lab.ca.sign_csr("not a csr", "CP-9", now)
    with pytest.raises(CsrRejected, match="O "):
        tls_lab.ca.sign_csr(certificates.make_csr(key, "CP-9", "Other"), "CP-9", now, "ACME")
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(CsrRejected, match="2048"):
        tls_lab.ca.sign_csr(certificates.make_csr(weak, "CP-9"), "CP-9", now)
    # A CSR changed after it was signed (its CN edited in the DER): the signature fails.
    der = x509.load_pem_x509_csr(certificates.make_csr(key, "CP-9").encode()).public_bytes(
        serialization.Encoding.DER)
    assert der.count(b"CP-9") == 1
    forged = x509.load_der_x509_csr(der.replace(b"CP-9", b"CP-8"))
    forged_pem = forged.public_bytes(serialization.Encoding.PEM).decode()
    with pytest.raises(CsrRejected, match="signature"):
        tls_lab.ca.sign_csr(forged_pem, "CP-8", now)


def test_ca_key_must_match(tls_lab, tmp_path):
    other_cert, other_key = certificates.make_ca("x", clock.wall_now())
    with pytest.raises(ValueError, match="does not match"):
        certificates.CertificateAuthority(tls_lab.ca.cert, other_key)


# -- SignCertificate over the wire -----------------------------------------------------------
def _sign_call(protocol: str, csr: str):
    if protocol == "1.6":
        return call16.SignCertificate(csr=csr)
    return call201.SignCertificate(csr=csr, certificate_type="ChargingStationCertificate")


@PROTOCOLS
async def test_sign_certificate_then_login_with_profile_3(tls_services, tls_lab, tls_api,
                                                          protocol, tmp_path):
    register(tls_services, "CSR-1", 2)
    key = certificates.new_key("ecdsa")
    async with connect(tls_services.wss_url, "CSR-1", protocol, cls=CHARGERS[protocol],
                       ssl=tls_lab.client_context(), additional_headers=basic("CSR-1")) as cp:
        result = await cp.call(_sign_call(protocol, certificates.make_csr(key, "CSR-1")),
                               suppress=False)
        assert result.status == "Accepted"
        got = await cp.next("CertificateSigned")
        if protocol == "2.0.1":
            assert got["certificate_type"] == "ChargingStationCertificate"
    chain = x509.load_pem_x509_certificates(got["certificate_chain"].encode())
    chain[0].verify_directly_issued_by(tls_lab.ca.cert)
    assert chain[0].subject.rfc4514_string() == "CN=CSR-1"
    for _ in range(50):  # the answer to CertificateSigned is stored after the charger sent it
        with Session(tls_services.engine) as s:
            rows = s.exec(select(ChargerCertificateRow)).all()
        if rows and rows[0].state != "signed":
            break
        await asyncio.sleep(0.05)
    assert [(r.charger_id, r.state) for r in rows] == [("CSR-1", "accepted")]
    with Session(tls_services.engine) as s:
        sent = s.exec(select(CommandRow).where(CommandRow.action == "CertificateSigned")).one()
    assert sent.state == "accepted" and sent.source == "certificates"

    # The charger installs it and the operator raises it to profile 3.
    cert_path, key_path = tmp_path / "leaf.pem", tmp_path / "leaf.key"
    cert_path.write_text(got["certificate_chain"])
    certificates.write_private(key_path, certificates.key_pem(key))
    r = await tls_api.patch("/api/v1/chargers/CSR-1", json={"security_profile": 3},
                            headers=tls_api.tokens["admin"])
    assert r.status_code == 200
    with_cert = tls_lab.client_context(cert=(cert_path, key_path))
    assert await handshake(f"{tls_services.wss_url}/CSR-1", ssl_context=with_cert,
                           protocol=protocol) == 101
    charger = (await tls_api.get("/api/v1/chargers/CSR-1",
                                 headers=tls_api.tokens["viewer"])).json()
    assert charger["certificate"]["state"] == "accepted"
    assert charger["certificate"]["last_used_at"] is not None
    listed = (await tls_api.get("/api/v1/certificates", headers=tls_api.tokens["viewer"])).json()
    assert [c["charger_id"] for c in listed] == ["CSR-1"]


@PROTOCOLS
async def test_csr_for_another_identity_is_rejected(tls_services, tls_lab, protocol):
    register(tls_services, "CSR-2", 2)
    csr = certificates.make_csr(certificates.new_key("ecdsa"), "NOT-ME")
    async with connect(tls_services.wss_url, "CSR-2", protocol, cls=CHARGERS[protocol],
                       ssl=tls_lab.client_context(), additional_headers=basic("CSR-2")) as cp:
        result = await cp.call(_sign_call(protocol, csr), suppress=False)
        assert result.status == "Rejected"
        with pytest.raises(TimeoutError):
            await cp.next("CertificateSigned", timeout_s=0.5)
    events = security_events(tls_services, "CSR-2")
    assert [e.payload["kind"] for e in events] == ["csr_rejected"]
    assert "NOT-ME" in events[0].payload["detail"]


@PROTOCOLS
async def test_without_a_ca_every_csr_is_rejected(closed_services, protocol):
    register(closed_services, "CSR-3", 1)
    csr = certificates.make_csr(certificates.new_key("ecdsa"), "CSR-3")
    async with connect(closed_services.ocpp_url, "CSR-3", protocol, cls=CHARGERS[protocol],
                       additional_headers=basic("CSR-3")) as cp:
        result = await cp.call(_sign_call(protocol, csr), suppress=False)
        assert result.status == "Rejected"


async def test_v2g_certificates_are_not_ours(tls_services, tls_lab):
    register(tls_services, "CSR-4", 2)
    csr = certificates.make_csr(certificates.new_key("ecdsa"), "CSR-4")
    async with connect(tls_services.wss_url, "CSR-4", "2.0.1", cls=CHARGERS["2.0.1"],
                       ssl=tls_lab.client_context(), additional_headers=basic("CSR-4")) as cp:
        result = await cp.call(call201.SignCertificate(csr=csr, certificate_type="V2GCertificate"),
                               suppress=False)
        assert result.status == "Rejected"


# -- certificate messages through the command API ---------------------------------------------
HASH = {"hashAlgorithm": "SHA256", "issuerNameHash": "a" * 64, "issuerKeyHash": "b" * 64,
        "serialNumber": "1f"}
COMMANDS = {
    "1.6": [("InstallCertificate", {"certificateType": "CentralSystemRootCertificate",
                                    "certificate": "PEM"}, "InstallCertificate"),
            ("DeleteCertificate", {"certificateHashData": HASH}, "DeleteCertificate"),
            ("GetInstalledCertificateIds", {"certificateType": "ManufacturerRootCertificate"},
             "GetInstalledCertificateIds"),
            ("ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"},
             "ExtendedTriggerMessage")],
    "2.0.1": [("InstallCertificate", {"certificateType": "CSMSRootCertificate",
                                      "certificate": "PEM"}, "InstallCertificate"),
              ("DeleteCertificate", {"certificateHashData": HASH}, "DeleteCertificate"),
              ("GetInstalledCertificateIds", {"certificateType": ["V2GRootCertificate"]},
               "GetInstalledCertificateIds"),
              ("TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"},
               "TriggerMessage")],
}
INVALID = {
    "1.6": [("InstallCertificate", {"certificateType": "Nonsense", "certificate": "PEM"}),
            ("InstallCertificate", {"certificate": "PEM"}),
            ("DeleteCertificate", {"certificateHashData": {**HASH, "hashAlgorithm": "MD5"}}),
            ("GetInstalledCertificateIds", {}),
            ("ExtendedTriggerMessage", {"requestedMessage": "SignChargingStationCertificate"}),
            ("CertificateSigned", {"certificateChain": "x" * 10001})],
    "2.0.1": [("InstallCertificate", {"certificateType": "CentralSystemRootCertificate",
                                      "certificate": "PEM"}),
              ("DeleteCertificate", {}),
              ("GetInstalledCertificateIds", {"certificateType": "V2GRootCertificate"}),
              ("TriggerMessage", {"requestedMessage": "SignChargePointCertificate"}),
              ("ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"})],
}


async def test_neutral_trigger_of_a_certificate_signing(tls_services, tls_lab, tls_api):
    """1.6 has SignChargePointCertificate only in ExtendedTriggerMessage (security whitepaper);
    the neutral ``trigger`` picks it, 2.0.1 uses TriggerMessage."""
    for cid, protocol, message, received in (
            ("TRG-16", "1.6", "SignChargePointCertificate", "ExtendedTriggerMessage"),
            ("TRG-201", "2.0.1", "SignChargingStationCertificate", "TriggerMessage")):
        register(tls_services, cid, 2)
        async with connect(tls_services.wss_url, cid, protocol, cls=CHARGERS[protocol],
                           ssl=tls_lab.client_context(), additional_headers=basic(cid)) as cp:
            r = await tls_api.post(f"/api/v1/chargers/{cid}/commands", json={
                "action": "trigger", "params": {"message": message}},
                headers=tls_api.tokens["operator"])
            assert r.status_code == 202 and r.json()["action"] == received
            assert (await cp.next(received))["message"] == message


@PROTOCOLS
async def test_certificate_commands(tls_services, tls_lab, tls_api, protocol):
    register(tls_services, "CMD", 2)
    # Certificates decide whom the charger trusts: the admin's (an operator gets 403).
    admin, operator = tls_api.tokens["admin"], tls_api.tokens["operator"]
    async with connect(tls_services.wss_url, "CMD", protocol, cls=CHARGERS[protocol],
                       ssl=tls_lab.client_context(), additional_headers=basic("CMD")) as cp:
        for action, params, received in COMMANDS[protocol]:
            if action in ("InstallCertificate", "DeleteCertificate"):
                r = await tls_api.post("/api/v1/chargers/CMD/commands", headers=operator,
                                       json={"action": action, "params": params})
                assert r.status_code == 403, (action, r.text)
            r = await tls_api.post("/api/v1/chargers/CMD/commands",
                                   json={"action": action, "params": params}, headers=admin)
            assert r.status_code == 202, (action, r.text)
            await cp.next(received)
        for action, params in INVALID[protocol]:
            r = await tls_api.post("/api/v1/chargers/CMD/commands",
                                   json={"action": action, "params": params}, headers=admin)
            assert r.status_code == 422, (action, params, r.text)
    await tls_services.commands.drain()
    with Session(tls_services.engine) as s:
        states = {c.action: c.state for c in s.exec(select(CommandRow))}
    assert states == {a: "accepted" for a, _, _ in COMMANDS[protocol]}


def test_lab_ca_files(tmp_path):
    files = certificates.init_lab(tmp_path / "pki", ["csms.example", "10.0.0.5"],
                                  clock.wall_now())
    for kind in ("rsa", "ecdsa"):
        chain = x509.load_pem_x509_certificates(files[f"server_{kind}_cert"].read_bytes())
        names = chain[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert "csms.example" in names.get_values_for_type(x509.DNSName)
        assert chain[0].not_valid_after_utc - clock.wall_now() > timedelta(days=365)
        assert (files[f"server_{kind}_key"].stat().st_mode & 0o777) == 0o600
