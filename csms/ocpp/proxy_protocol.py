"""The PROXY protocol (HAProxy's, v1 text and v2 binary) on the OCPP listener.

A TCP load balancer in front of the gateway (HAProxy ``mode tcp`` with ``send-proxy`` or
``send-proxy-v2``) makes every charger look as if it came from the balancer; the PROXY header it
prepends to the stream names the real client. With ``CSMS_PROXY_PROTOCOL`` on, a connection
from a trusted proxy (``CSMS_TRUSTED_PROXIES``) must start with that header, and the charger's
address (throttling, logs, the connection list) is the one it names. A connection from anyone
else is read as plain HTTP, so a client cannot forge its address with a PROXY line of its own:
the handshake parser refuses it (400). Header layouts: HAProxy's "The PROXY protocol" versions 1
and 2 (haproxy.org/download/2.9/doc/proxy-protocol.txt).

Only the plain listener: on the TLS one the header would come before the TLS handshake, which
the TLS layer reads first. A balancer terminating TLS forwards plain websockets here.
"""

from __future__ import annotations

import ipaddress
import logging
import struct

from websockets.asyncio.server import ServerConnection

from csms.proxy import TrustedProxies

log = logging.getLogger(__name__)

V1_PREFIX = b"PROXY "
V1_MAX_BYTES = 107  # the longest v1 line, CRLF included (spec section 2.1)
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V2_HEADER_BYTES = 16
V2_MAX_BYTES = V2_HEADER_BYTES + 216  # addresses of the longest family (AF_UNIX) plus TLVs
_FAMILIES = {0x1: (4, 4), 0x2: (16, 16)}  # AF_INET, AF_INET6: address bytes each


class ProxyHeaderError(ValueError):
    pass


def parse(buf: bytes) -> tuple[int, tuple[str, int] | None] | None:
    """(bytes the header takes, the client's (address, port) or None when the proxy speaks for
    itself: v1 UNKNOWN, v2 LOCAL or a family without an IP) once ``buf`` holds a whole header;
    None while it may still be incomplete. Raises ProxyHeaderError for anything else."""
    if buf.startswith(V2_SIGNATURE[:len(buf)]) and len(buf) < len(V2_SIGNATURE):
        return None
    if buf.startswith(V2_SIGNATURE):
        return _parse_v2(buf)
    if V1_PREFIX.startswith(buf[:len(V1_PREFIX)]) and len(buf) < len(V1_PREFIX):
        return None
    if buf.startswith(V1_PREFIX):
        return _parse_v1(buf)
    raise ProxyHeaderError("no PROXY header from a proxy that must send one")


def _parse_v1(buf: bytes) -> tuple[int, tuple[str, int] | None] | None:
    end = buf.find(b"\r\n", 0, V1_MAX_BYTES)
    if end < 0:
        if len(buf) >= V1_MAX_BYTES:
            raise ProxyHeaderError("PROXY v1 line longer than 107 bytes")
        return None
    fields = buf[:end].decode("ascii", "replace").split(" ")
    if len(fields) >= 2 and fields[1] == "UNKNOWN":
        return end + 2, None
    if len(fields) != 6 or fields[1] not in ("TCP4", "TCP6"):
        raise ProxyHeaderError(f"malformed PROXY v1 line {buf[:end][:60]!r}")
    _, family, source, _destination, source_port, _destination_port = fields
    try:
        address = ipaddress.ip_address(source)
        port = int(source_port)
    except ValueError:
        raise ProxyHeaderError(f"malformed PROXY v1 address {source!r}:{source_port!r}") from None
    if (address.version == 4) != (family == "TCP4") or not 0 <= port <= 65535:
        raise ProxyHeaderError(f"PROXY v1 {family} with address {source}:{source_port}")
    return end + 2, (str(address), port)


def _parse_v2(buf: bytes) -> tuple[int, tuple[str, int] | None] | None:
    if len(buf) < V2_HEADER_BYTES:
        return None
    version_command, family_protocol, length = struct.unpack("!BBH", buf[12:16])
    if version_command >> 4 != 2 or version_command & 0xF not in (0, 1):
        raise ProxyHeaderError(f"PROXY v2 version/command byte {version_command:#x}")
    total = V2_HEADER_BYTES + length
    if total > V2_MAX_BYTES:
        raise ProxyHeaderError(f"PROXY v2 header of {total} bytes")
    if len(buf) < total:
        return None
    family = _FAMILIES.get(family_protocol >> 4)
    if version_command & 0xF == 0 or family is None:  # LOCAL (health check) or no IP family
        return total, None
    size, _ = family
    if length < 2 * size + 4:
        raise ProxyHeaderError(f"PROXY v2 addresses need {2 * size + 4} bytes, got {length}")
    body = buf[V2_HEADER_BYTES:total]
    address = ipaddress.ip_address(body[:size])
    (port,) = struct.unpack("!H", body[2 * size:2 * size + 2])
    return total, (str(address), port)


def connection_class(proxies: TrustedProxies) -> type[ServerConnection]:
    """A websockets ServerConnection that reads a PROXY header first from trusted proxies."""

    class ProxiedConnection(ServerConnection):
        _proxy_buf: bytearray | None = None
        _client_address: tuple[str, int] | None = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            peer = transport.get_extra_info("peername")
            if peer and proxies.trusted(peer[0]):
                self._proxy_buf = bytearray()

        def data_received(self, data: bytes) -> None:
            if self._proxy_buf is None:
                super().data_received(data)
                return
            self._proxy_buf += data
            try:
                found = parse(bytes(self._proxy_buf))
            except ProxyHeaderError as exc:
                log.warning("connection from proxy %s closed: %s",
                            self.transport.get_extra_info("peername"), exc)
                self._proxy_buf = None
                self.transport.abort()
                return
            if found is None:
                return
            taken, self._client_address = found
            rest, self._proxy_buf = bytes(self._proxy_buf[taken:]), None
            if rest:
                super().data_received(rest)

        @property
        def remote_address(self):
            return self._client_address or super().remote_address

    return ProxiedConnection
