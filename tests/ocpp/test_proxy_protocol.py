"""The PROXY protocol from trusted proxies only (issue 12, part 4): the header parser, and a
real HAProxy (``mode tcp``, ``send-proxy`` and ``send-proxy-v2``) in front of the gateway, with
chargers connecting from 127.0.0.2 while HAProxy is 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import struct
import subprocess
import time

import pytest
import websockets
from hypothesis import given
from hypothesis import strategies as st

from csms.ocpp.proxy_protocol import V2_SIGNATURE, ProxyHeaderError, parse
from tests.conftest import _running_services

V1_TCP4 = b"PROXY TCP4 192.0.2.7 198.51.100.1 40001 9000\r\n"
V1_TCP6 = b"PROXY TCP6 2001:db8::7 2001:db8::1 40001 9000\r\n"


def _v2(command: int, family: int, body: bytes) -> bytes:
    return V2_SIGNATURE + struct.pack("!BBH", 0x20 | command, family, len(body)) + body


@pytest.mark.parametrize("header, expected", [
    (V1_TCP4 + b"GET", (len(V1_TCP4), ("192.0.2.7", 40001))),
    (V1_TCP6, (len(V1_TCP6), ("2001:db8::7", 40001))),
    (b"PROXY UNKNOWN\r\n", (15, None)),
    (_v2(1, 0x11, bytes([192, 0, 2, 7, 198, 51, 100, 1]) + struct.pack("!HH", 40001, 9000))
     + b"GET", (28, ("192.0.2.7", 40001))),
    (_v2(1, 0x21, bytes(15) + b"\x07" + bytes(16) + struct.pack("!HH", 5, 9000)),
     (52, ("::7", 5))),
    (_v2(0, 0x00, b""), (16, None)),  # LOCAL: a health check of the proxy itself
    (b"PROXY TCP4 192.0.2.7", None), (b"PRO", None), (V2_SIGNATURE[:5], None),
    (_v2(1, 0x11, bytes(12))[:20], None),
])
def test_headers(header, expected):
    assert parse(header) == expected


@pytest.mark.parametrize("header", [
    b"GET /ocpp/CP-1 HTTP/1.1\r\n",  # a trusted proxy that sends no header
    b"PROXY TCP4 192.0.2.7 198.51.100.1 40001\r\n",
    b"PROXY TCP4 2001:db8::7 198.51.100.1 1 2\r\n",
    b"PROXY TCP4 192.0.2.7 198.51.100.1 70000 9000\r\n",
    b"PROXY TCP4 " + b"1" * 120,
    V2_SIGNATURE + bytes([0x31, 0x11, 0, 12]) + bytes(12),  # version 3
    _v2(1, 0x11, bytes(4)),  # addresses too short
])
def test_bad_headers_are_refused(header):
    with pytest.raises(ProxyHeaderError):
        parse(header)


@given(st.binary(max_size=300))
def test_any_bytes_give_a_header_more_to_read_or_a_clear_refusal(data):
    try:
        found = parse(data)
    except ProxyHeaderError:
        return
    assert found is None or 0 < found[0] <= len(data)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def behind_haproxy(database_url, tmp_path):
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        pytest.skip("Debian's haproxy is not installed (.ci/run installs it)")
    svc = await _running_services(database_url, True, trusted_proxies=["127.0.0.1/32"],
                                  proxy_protocol=True)
    v1_port, v2_port = _free_port(), _free_port()
    config = tmp_path / "haproxy.cfg"
    config.write_text(f"""
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend v1
  bind 127.0.0.1:{v1_port}
  default_backend csms_v1
backend csms_v1
  server csms 127.0.0.1:{svc.gateway.port} send-proxy
frontend v2
  bind 127.0.0.1:{v2_port}
  default_backend csms_v2
backend csms_v2
  server csms 127.0.0.1:{svc.gateway.port} send-proxy-v2
""")
    proc = subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", v2_port),
                                                                          0.2):
                break
            await asyncio.sleep(0.05)
        yield svc, v1_port, v2_port
    finally:
        proc.terminate()
        proc.wait(10)
        await svc.stop()


async def _boot(url: str, identity: str, **kwargs) -> None:
    async with websockets.connect(f"{url}/{identity}", subprotocols=["ocpp1.6"],
                                  **kwargs) as ws:
        await ws.send(json.dumps([2, "b", "BootNotification", {"chargePointVendor": "V",
                                                                 "chargePointModel": "M"}]))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))[:2] == [3, "b"]


@pytest.mark.store
async def test_the_charger_behind_haproxy_is_seen_at_its_own_address(behind_haproxy):
    svc, v1_port, v2_port = behind_haproxy
    for identity, port in (("CP-PX1", v1_port), ("CP-PX2", v2_port)):
        url = f"ws://127.0.0.1:{port}/ocpp"
        async with websockets.connect(f"{url}/{identity}", subprotocols=["ocpp1.6"],
                                      local_addr=("127.0.0.2", 0)) as ws:
            await ws.send(json.dumps([2, "h", "Heartbeat", {}]))
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))[:2] == [3, "h"]
            remote = svc.gateway.links[identity].remote
            assert remote.startswith("127.0.0.2:"), remote  # not HAProxy's 127.0.0.1
            assert remote != "127.0.0.2:0"


@pytest.mark.store
async def test_no_one_else_can_claim_an_address(behind_haproxy):
    svc, _, _ = behind_haproxy
    # A client that is not a trusted proxy writes a PROXY line of its own: read as HTTP, refused.
    reader, writer = await asyncio.open_connection("127.0.0.1", svc.gateway.port,
                                                   local_addr=("127.0.0.2", 0))
    writer.write(b"PROXY TCP4 203.0.113.9 127.0.0.1 1234 9000\r\n"
                 b"GET /ocpp/CP-FORGED HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(200), 5)
    writer.close()
    assert not answer.startswith(b"HTTP/1.1 101"), answer
    assert "CP-FORGED" not in svc.gateway.links
    # The trusted address without a header (a proxy misconfigured without send-proxy) is not
    # served either: its chargers would all look like the proxy.
    with pytest.raises((websockets.exceptions.InvalidHandshake, ConnectionError, OSError)):
        await _boot(svc.ocpp_url, "CP-NOHEADER", open_timeout=5)
    assert "CP-NOHEADER" not in svc.gateway.links
    # A charger connecting directly from an untrusted address is served as before.
    await _boot(svc.ocpp_url, "CP-DIRECT",
                local_addr=("127.0.0.2", 0))
