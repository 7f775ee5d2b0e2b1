"""`csms serve` with TLS as a subprocess, started the way an operator (and the independent TLS
suite) starts it: `csms ca init`, then --tls-cert/--tls-key/--tls-client-ca/--ocpp-tls-port and
--ca-cert/--ca-key, or the CSMS_* environment variables."""

from __future__ import annotations

import asyncio
import base64
import re
import ssl
import subprocess

import httpx
import pytest
import websockets
from cryptography.hazmat.primitives import serialization
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from websockets.exceptions import InvalidStatus

from csms import certificates
from tests.ocpp.clients import connect
from tests.security.chargers import CHARGERS
from tests.server import csms_command, start_server

pytestmark = pytest.mark.store
PASSWORD = "e2e-password-for-tls-0001"
ENV = {"CSMS_AUTH_FAILURES_PER_MINUTE": "1000"}


def basic(identity: str, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(
        f"{identity}:{password}".encode()).decode()}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    out = tmp_path_factory.mktemp("pki")
    done = subprocess.run(csms_command("ca", "init", "--out", str(out), "--host", "127.0.0.1",
                                       "localhost"), capture_output=True, text=True, check=True)
    assert "server_rsa_cert" in done.stdout and "PRIVATE KEY" not in done.stdout
    return out


def client_context(pki, cert=None, cipher=None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=str(pki / "ca.pem"))
    if cipher:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(cipher)
    if cert:
        ctx.load_cert_chain(*map(str, cert))
    return ctx


async def test_serve_with_tls_options(tmp_path, pki):
    server = start_server(tmp_path, open_mode=False, env=ENV, extra=(
        "--tls-cert", str(pki / "server-rsa.pem"), "--tls-key", str(pki / "server-rsa.key"),
        "--tls-client-ca", str(pki / "ca.pem"), "--ocpp-tls-port", "0",
        "--ca-cert", str(pki / "ca.pem"), "--ca-key", str(pki / "ca.key"), "--no-control"))
    try:
        assert server.wss_base and re.search(
            r"OCPP gateway \(TLS\): wss://127\.0\.0\.1:\d+/ocpp/\{charge_point_id\}",
            "".join(server.output))
        wss = f"{server.wss_base}/ocpp"
        async with httpx.AsyncClient(base_url=server.http_url,
                                     headers=server.auth_headers) as api:
            for cid, profile in (("E2E-P2", 2), ("E2E-P16", 2)):
                r = await api.post("/api/v1/chargers", json={
                    "id": cid, "password": PASSWORD, "security_profile": profile})
                assert r.status_code == 201, r.text
            # Profile 2: wss + Basic works, plain ws is refused and recorded.
            async with connect(wss, "E2E-P2", "2.0.1", ssl=client_context(pki),
                               additional_headers=basic("E2E-P2")) as cp:
                boot = await cp.call(call201.BootNotification(
                    charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp"),
                    suppress=False)
                assert boot.status == "Accepted"
            with pytest.raises(InvalidStatus) as refused:
                await websockets.connect(f"{server.ocpp_base}/ocpp/E2E-P2",
                                         subprotocols=["ocpp2.0.1"],
                                         additional_headers=basic("E2E-P2"))
            assert refused.value.response.status_code in (401, 403)
            events = (await api.get("/api/v1/chargers/E2E-P2/events")).json()
            assert any("security" in e["kind"] for e in events)

            # 1.6: SignCertificate -> CertificateSigned, then profile 3 with that certificate.
            key = certificates.new_key("ecdsa")
            async with connect(wss, "E2E-P16", "1.6", cls=CHARGERS["1.6"],
                               ssl=client_context(pki),
                               additional_headers=basic("E2E-P16")) as cp:
                signed = await cp.call(call16.SignCertificate(
                    csr=certificates.make_csr(key, "E2E-P16")), suppress=False)
                assert signed.status == "Accepted"
                chain = (await cp.next("CertificateSigned"))["certificate_chain"]
                for _ in range(100):  # stay connected until the CSMS has the answer
                    commands = (await api.get("/api/v1/chargers/E2E-P16/commands")).json()
                    if commands and commands[0]["state"] != "sent":
                        break
                    await asyncio.sleep(0.05)
                assert commands[0]["action"] == "CertificateSigned"
                assert commands[0]["state"] == "accepted"
            (tmp_path / "cp.pem").write_text(chain)
            (tmp_path / "cp.key").write_bytes(key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))
            r = await api.patch("/api/v1/chargers/E2E-P16", json={"security_profile": 3})
            assert r.json()["security_profile"] == 3
            with_cert = client_context(pki, cert=(tmp_path / "cp.pem", tmp_path / "cp.key"))
            async with connect(wss, "E2E-P16", "1.6", ssl=with_cert) as cp:
                boot = await cp.call(call16.BootNotification(charge_point_model="M",
                                                             charge_point_vendor="V"),
                                     suppress=False)
                assert boot.status == "Accepted"
            charger = (await api.get("/api/v1/chargers/E2E-P16")).json()
            assert charger["certificate"]["state"] == "accepted"
    finally:
        server.stop()
    log = "".join(server.output)
    assert "E2E-P2" in log
    for secret in (PASSWORD, basic("E2E-P2")["Authorization"].split()[1], "PRIVATE KEY"):
        assert secret not in log


async def test_serve_with_tls_environment_and_ecdsa(tmp_path, pki):
    env = {**ENV, "CSMS_TLS_CERT": str(pki / "server-ecdsa.pem"),
           "CSMS_TLS_KEY": str(pki / "server-ecdsa.key"),
           "CSMS_TLS_CLIENT_CA": str(pki / "ca.pem"), "CSMS_OCPP_TLS_PORT": "0"}
    server = start_server(tmp_path, open_mode=True, env=env, extra=("--no-control",))
    try:
        assert server.wss_base is not None
        ctx = client_context(pki, cipher="ECDHE-ECDSA-AES256-GCM-SHA384")
        async with websockets.connect(f"{server.wss_base}/ocpp/ENV-1", ssl=ctx,
                                      subprotocols=["ocpp1.6"]) as ws:
            assert ws.transport.get_extra_info("ssl_object").cipher()[0] == \
                "ECDHE-ECDSA-AES256-GCM-SHA384"
    finally:
        server.stop()


def test_encrypted_keys_are_refused_without_a_prompt(tmp_path, pki):
    from csms.serve import _check_security
    from csms.settings import Settings

    key = serialization.load_pem_private_key((pki / "server-ecdsa.key").read_bytes(), None)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret-passphrase")))
    # As a process with no terminal: refused at once, no passphrase prompt that would hang.
    done = subprocess.run(csms_command(
        "serve", "--database-url", f"sqlite:///{tmp_path / 'x.db'}",
        "--tls-cert", str(pki / "server-ecdsa.pem"), "--tls-key", str(encrypted)),
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode != 0 and "encrypted" in done.stderr, done.stderr
    with pytest.raises(SystemExit, match="encrypted"):
        _check_security(Settings(ca_cert=str(pki / "ca.pem"), ca_key=str(encrypted)))


@pytest.mark.parametrize("options,message", [
    ({"tls_cert": "x.pem"}, "--tls-cert and --tls-key"),
    ({"tls_client_ca": "ca.pem"}, "--tls-client-ca needs"),
    ({"ca_cert": "ca.pem"}, "--ca-cert and --ca-key"),
    ({"tls_cert": "/nonexistent.pem", "tls_key": "/nonexistent.key"}, "cannot use"),
    ({"ca_cert": "/nonexistent.pem", "ca_key": "/nonexistent.key"}, "cannot use"),
])
def test_bad_tls_options_stop_at_start(options, message):
    from csms.serve import _check_security
    from csms.settings import Settings

    with pytest.raises(SystemExit, match=message):
        _check_security(Settings(**options))


def test_bad_tls_option_exits_the_process(tmp_path):
    done = subprocess.run(csms_command("serve", "--database-url",
                                       f"sqlite:///{tmp_path / 'x.db'}", "--tls-cert", "x.pem"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "--tls-cert and --tls-key" in done.stderr
