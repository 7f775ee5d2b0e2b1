"""The gateway's TLS listener with Python ``ssl`` as the charger: protocol versions and the cipher
suites OCPP requires (1.6 security whitepaper A00.FR.317, 2.0.1 A00.FR.318), each with the
certificate type it needs, and the suites that must be refused."""

from __future__ import annotations

import asyncio
import json
import ssl

import pytest
import websockets

from csms.tls import REQUIRED_SUITES
from tests.security.helpers import SUBPROTOCOL, basic, handshake, register

RSA_SUITES = ["TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384"]
ECDSA_SUITES = ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"]


async def _heartbeat_over(url: str, ctx: ssl.SSLContext, identity: str, protocol: str) -> tuple:
    async with websockets.connect(f"{url}/{identity}", ssl=ctx, subprotocols=[
            SUBPROTOCOL[protocol]], additional_headers=basic(identity)) as ws:
        await ws.send(json.dumps([2, "hb-1", "Heartbeat", {}]))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
        ssl_object = ws.transport.get_extra_info("ssl_object")
        return reply, ssl_object.cipher()[0], ssl_object.version()


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
@pytest.mark.parametrize("suite", RSA_SUITES)
async def test_rsa_suites_with_an_rsa_certificate(tls_services, tls_lab, suite, protocol):
    register(tls_services, "CP-RSA", 2)
    ctx = tls_lab.client_context(cipher=REQUIRED_SUITES[suite])
    reply, cipher, version = await _heartbeat_over(tls_services.wss_url, ctx, "CP-RSA", protocol)
    assert reply[0] == 3 and reply[1] == "hb-1" and "currentTime" in reply[2]
    assert (cipher, version) == (REQUIRED_SUITES[suite], "TLSv1.2")


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
@pytest.mark.parametrize("suite", ECDSA_SUITES)
async def test_ecdsa_suites_with_an_ecdsa_certificate(tls_services_ecdsa, tls_lab, suite,
                                                      protocol):
    register(tls_services_ecdsa, "CP-EC", 2)
    ctx = tls_lab.client_context(cipher=REQUIRED_SUITES[suite])
    reply, cipher, version = await _heartbeat_over(tls_services_ecdsa.wss_url, ctx, "CP-EC",
                                                   protocol)
    assert reply[0] == 3 and "currentTime" in reply[2]
    assert (cipher, version) == (REQUIRED_SUITES[suite], "TLSv1.2")


async def test_a_suite_needs_its_certificate_type(tls_services, tls_services_ecdsa, tls_lab):
    register(tls_services, "CP-T", 2)  # one database behind both servers
    ecdsa_only = tls_lab.client_context(cipher=REQUIRED_SUITES[ECDSA_SUITES[0]])
    rsa_only = tls_lab.client_context(cipher=REQUIRED_SUITES[RSA_SUITES[0]])
    assert await handshake(f"{tls_services.wss_url}/CP-T", ssl_context=ecdsa_only,
                           headers=basic("CP-T")) == "tls"
    assert await handshake(f"{tls_services_ecdsa.wss_url}/CP-T", ssl_context=rsa_only,
                           headers=basic("CP-T")) == "tls"


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
async def test_tls_12_and_13_work(tls_services, tls_lab, version):
    register(tls_services, "CP-V", 2)
    ctx = tls_lab.client_context(version=version)
    reply, _, negotiated = await _heartbeat_over(tls_services.wss_url, ctx, "CP-V", "2.0.1")
    assert reply[0] == 3
    assert negotiated == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[
        version]


def _old_client(tls_lab, version: ssl.TLSVersion) -> ssl.SSLContext:
    ctx = tls_lab.client_context()
    ctx.minimum_version = ctx.maximum_version = version
    ctx.set_ciphers("ALL:@SECLEVEL=0")  # let the client itself offer what old TLS needs
    return ctx


async def _permissive_server(tls_lab, ciphers: str,
                             minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
                             ) -> tuple[asyncio.Server, int]:
    """A server that accepts old TLS and weak suites: proves our refusals come from the CSMS's
    configuration, not from the client or this machine's OpenSSL."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = minimum
    ctx.set_ciphers(ciphers)
    ctx.load_cert_chain(*map(str, tls_lab.server["rsa"]))

    async def close(reader, writer):
        writer.close()

    server = await asyncio.start_server(close, "127.0.0.1", 0, ssl=ctx)
    return server, server.sockets[0].getsockname()[1]


async def _tls_ok(port: int, ctx: ssl.SSLContext) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                                  server_hostname="127.0.0.1")
    except (ssl.SSLError, ConnectionResetError):
        return False
    writer.close()
    return True


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
async def test_tls_10_and_11_are_refused(tls_services, tls_lab, version):
    register(tls_services, "CP-OLD", 2)
    ctx = _old_client(tls_lab, version)
    server, port = await _permissive_server(tls_lab, "ALL:@SECLEVEL=0", version)
    try:
        assert await _tls_ok(port, ctx)  # the client can speak it ...
    finally:
        server.close()
    assert await handshake(f"{tls_services.wss_url}/CP-OLD", ssl_context=ctx,
                           headers=basic("CP-OLD")) == "tls"  # ... the CSMS refuses it


@pytest.mark.parametrize("cipher,control", [
    ("NULL-SHA256:@SECLEVEL=0", True), ("eNULL:@SECLEVEL=0", True),
    ("ADH-AES128-GCM-SHA256:@SECLEVEL=0", False), ("aNULL:@SECLEVEL=0", False)])
async def test_null_and_anonymous_suites_are_refused(tls_services, tls_lab, cipher, control):
    register(tls_services, "CP-NULL", 2)
    ctx = tls_lab.client_context(cipher=cipher)
    if control:
        server, port = await _permissive_server(tls_lab, "ALL:eNULL:@SECLEVEL=0")
        try:
            assert await _tls_ok(port, ctx)
        finally:
            server.close()
    assert await handshake(f"{tls_services.wss_url}/CP-NULL", ssl_context=ctx,
                           headers=basic("CP-NULL")) == "tls"
