"""The OCPP-J gateway: websocket server, charger registry and the one way to call a charger.

Handshake: identity from the path, 404 for an unknown charger (unless open mode), then the
charger's security profile decides (csms/ocpp/admission.py): HTTP Basic for profiles 1 and 2, TLS
for 2 and 3, a client certificate for 3; subprotocol chosen in the charger's order of
preference. The same handlers serve the plain listener and the TLS one (``start_tls``). With no common subprotocol the handshake completes without the header and we
close the socket (OCTT TC_088); python-websockets would answer HTTP 400, hence our selector.
An authenticated second connection for the same identity replaces the first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Response

from csms import clock
from csms.domain import events as ev
from csms.domain.durability import StoreUnavailable
from csms.ocpp import admission, handshake, v16, v21, v201
from csms.ocpp.admission import AdmissionRefused, Admitted, ClientCertificate
from csms.ocpp.common import Dispatch
from csms.ocpp.handshake import HandshakeRejected
from csms.ocpp.proxy_protocol import connection_class
from csms.ocpp.quota import ChargerQuota
from csms.ocpp.rpc import ChargerOffline, RpcConnection
from csms.proxy import TrustedProxies
from csms.throttle import AuthThrottle

log = logging.getLogger(__name__)

ADAPTERS = {"ocpp1.6": (v16.V16Adapter, v16.KNOWN_ACTIONS),
            "ocpp2.0.1": (v201.V201Adapter, v201.KNOWN_ACTIONS),
            "ocpp2.1": (v21.V21Adapter, v21.KNOWN_ACTIONS)}
# Listen queue of each OCPP listener: after a network outage a whole fleet reconnects at once;
# asyncio's default of 100 overflowed (SYNs dropped, chargers retrying 1-3 s later) in the TLS
# reconnect storm of 1,000 chargers (benchmarks/bench_tls.py). The kernel caps it at somaxconn.
LISTEN_BACKLOG = 2048
REPLACEMENT_ALERT_COUNT = 3  # replacements within an hour before we warn of a cloned identity


@dataclass(frozen=True)
class ChargerCredentials:
    """What the gateway needs to know of a registered charger."""

    exists: bool
    password_hash: str | None = None
    security_profile: int = 0
    pending_password_hash: str | None = None  # during a password change (TC_073)
    allow_unauthenticated: bool = False  # the operator's explicit opt-in for profile 0


@dataclass
class Link:
    rpc: RpcConnection
    protocol: str
    connected_at: datetime
    remote: str
    tls: bool = False
    security_profile: int = 0


class _NoCredentialsInLogs(logging.Filter):
    """websockets logs every request header at DEBUG: the Authorization value is replaced
    (2.0.1 A01.FR.09: passwords never appear in a log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and isinstance(args[0], str) \
                and args[0].lower() in ("authorization", "proxy-authorization"):
            record.args = (args[0], "<withheld>")
        return True


_server_log = logging.getLogger("websockets.server")  # the library's (quieted in csms serve)
_server_log.addFilter(_NoCredentialsInLogs())


class Gateway:
    def __init__(self, settings, dispatch: Dispatch,
                 credentials: Callable[[str], Awaitable[ChargerCredentials]],
                 verify_password: Callable[[str, str], bool], now: Callable[[], datetime]):
        self.settings, self.dispatch, self.credentials = settings, dispatch, credentials
        self.verify_password, self.now = verify_password, now
        self.links: dict[str, Link] = {}
        self.quotas: dict[str, ChargerQuota] = {}
        self.frame_logs: dict[str, deque] = defaultdict(lambda: deque(maxlen=200))
        self.throttle = AuthThrottle(settings.auth_failures_per_minute,
                                     settings.auth_backoff_max_s)
        self.proxies = TrustedProxies(settings.trusted_proxies)
        self._replacements: dict[str, deque[float]] = defaultdict(deque)
        self._server = None
        self._tls_server = None
        self.port: int | None = None
        self.tls_port: int | None = None
        self.on_connect: list[Callable[[str, str], Awaitable[None]]] = []
        # True while the store is known to be down: handshakes get 503 without a lookup.
        self.store_refusing: Callable[[], bool] = lambda: False
        # Answers SignCertificate (csms/certificate_desk.py); None: every CSR is Rejected.
        self.certificates = None

    async def _listen(self, host: str, port: int, ssl=None):
        # The PROXY header precedes the TLS handshake, which the TLS layer reads first: plain
        # listener only (csms/ocpp/proxy_protocol.py).
        proxied = self.settings.proxy_protocol and ssl is None and self.proxies.networks
        return await serve(
            self._handle, host, port, process_request=self._process_request,
            select_subprotocol=self._select_subprotocol, subprotocols=list(ADAPTERS),
            compression="deflate" if self.settings.compression else None,
            ping_interval=self.settings.ping_interval_s, ping_timeout=self.settings.ping_timeout_s,
            max_size=max(4 * self.settings.max_frame_bytes, 2**20), server_header="csms",
            ssl=ssl, backlog=LISTEN_BACKLOG,
            create_connection=connection_class(self.proxies) if proxied else None)

    async def start(self, host: str, port: int) -> int:
        self._server = await self._listen(host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def start_tls(self, host: str, port: int, ssl_context) -> int:
        """The wss listener for security profiles 2 and 3 (profile 1 may use it too)."""
        self._tls_server = await self._listen(host, port, ssl_context)
        self.tls_port = self._tls_server.sockets[0].getsockname()[1]
        return self.tls_port

    async def stop(self) -> None:
        for server in (self._server, self._tls_server):
            if server is not None:
                server.close()
                await server.wait_closed()

    # -- handshake ---------------------------------------------------------------------------
    @staticmethod
    def _select_subprotocol(connection: ServerConnection, offered) -> str | None:
        return next((p for p in offered if p in ADAPTERS), None)

    async def _process_request(self, connection: ServerConnection, request) -> Response | None:
        remote = _remote(connection, self.proxies, request.headers)
        connection.csms_remote = remote
        ssl_object = connection.transport.get_extra_info("ssl_object")
        try:
            identity = handshake.identity_from_path(request.path)
            if self.store_refusing():
                raise StoreUnavailable("failed moments ago")
            creds = await self.credentials(identity)
            if not creds.exists and not self.settings.open:
                raise HandshakeRejected(404, f"unknown charge point {identity!r}")
            admitted = await self._admit(identity, remote, creds, ssl_object, request.headers)
            await self._after_admission(identity, admitted)
        except HandshakeRejected as rej:
            log.warning("%s: handshake rejected (%d): %s", request.path[:80], rej.status,
                        rej.message)
            return _reject(connection, rej)
        except StoreUnavailable:
            # Until the store is back a charger stays offline and keeps its transaction
            # messages; the store logs the outage once, not one line per reconnect.
            return _reject(connection, HandshakeRejected(
                503, "the CSMS cannot store messages now; retry later"))
        connection.csms_identity = identity  # read back in _handle
        connection.csms_admitted = admitted
        return None

    async def _admit(self, identity: str, remote: str, creds: ChargerCredentials, ssl_object,
                     headers: Headers) -> Admitted:
        tls = ssl_object is not None
        profile = admission.effective_profile(creds.security_profile, bool(creds.password_hash))
        if profile == 0 and not (self.settings.open or creds.allow_unauthenticated):
            # Anyone knowing a password-less identity could take its place (and its
            # transactions): outside lab mode the operator must say so for that charger.
            raise HandshakeRejected(401, "this charger has no password; set one, or allow it "
                                    "to connect unauthenticated (allow_unauthenticated)")
        address = remote.rsplit(":", 1)[0]
        wait_s = self.throttle.retry_after_s(identity, address) if profile >= 1 else 0.0
        if wait_s > 0:
            # Refused before the password is checked: guesses cost the attacker time, and
            # failures from other networks never hold back this one.
            log.info("%s: authentication attempt from %s refused for %.0f s: failed attempts "
                     "from its network", identity, remote, wait_s)
            raise HandshakeRejected(429, "too many failed authentication attempts; retry later",
                                    wait_s)
        der = ssl_object.getpeercert(binary_form=True) if tls else None
        try:
            certificate = ClientCertificate.from_der(der) if der else None
            admitted = admission.admit(
                identity, profile, tls=tls, certificate=certificate,
                authorization=headers.get("Authorization"),
                check_password=lambda pw: self._check_password(pw, creds),
                require_org=self.settings.tls_require_org)
        except AdmissionRefused as rej:
            if rej.incident is not None:
                self.throttle.failed(identity, address)
                scheme = "wss" if tls else "ws"
                log.warning("%s: authentication failed from %s over %s (profile %d): %s",
                            identity, remote, scheme, profile, rej.message)
                await self.dispatch(ev.SecurityIncident(
                    identity, self.now(), rej.incident,
                    f"{rej.message} (profile {profile}, {scheme} from {remote})"))
            raise
        if profile >= 1:
            self.throttle.succeeded(identity, address)
        return admitted

    def _check_password(self, password: str, creds: ChargerCredentials) -> str | None:
        if creds.password_hash and self.verify_password(password, creds.password_hash):
            return "current"
        if creds.pending_password_hash and self.verify_password(password,
                                                                creds.pending_password_hash):
            return "pending"
        return None

    # -- connection lifetime -----------------------------------------------------------------
    async def _handle(self, connection: ServerConnection) -> None:
        identity = getattr(connection, "csms_identity", None)
        if identity is None:
            return
        protocol = connection.subprotocol
        if protocol is None:
            log.warning("%s: no supported subprotocol offered; closing", identity)
            await connection.close(1002, "no supported OCPP subprotocol ("
                                   + ", ".join(ADAPTERS) + ")")
            return
        adapter_cls, known = ADAPTERS[protocol]
        adapter = adapter_cls(identity, self.dispatch, self.now)
        rpc = RpcConnection(connection, identity, adapter.version, adapter.routes, known,
                            max_frame_bytes=self.settings.max_frame_bytes,
                            call_timeout_s=self.settings.call_timeout_s,
                            validate_inline=self.settings.validate_inline,
                            frame_log=self.frame_logs[identity],
                            quota=self._quota(identity))
        adapter.certificates = self.certificates
        remote = getattr(connection, "csms_remote", None) or _remote(connection)
        admitted: Admitted = connection.csms_admitted
        tls = connection.transport.get_extra_info("ssl_object") is not None
        link = Link(rpc, adapter.version, self.now(), remote, tls, admitted.profile)
        # Take the identity's slot before any await: with simultaneous connections for one
        # identity, each newer one closes the one it replaced, so exactly one stays served.
        old = self.links.get(identity)
        self.links[identity] = link
        if old is not None:
            await self._replaced(identity, old, remote)
        if self.links.get(identity) is not link:
            return  # replaced by an even newer connection meanwhile (it closes this one)
        try:
            await self.dispatch(ev.ConnectionChanged(identity, self.now(), True,
                                                     adapter.version, remote))
        except StoreUnavailable:
            del self.links[identity]
            await rpc.close_unstored("connection")
            return
        log.info("%s: connected with OCPP %s from %s over %s (security profile %d)", identity,
                 adapter.version, remote, "wss" if tls else "ws", admitted.profile)
        for callback in self.on_connect:
            asyncio.ensure_future(callback(identity, adapter.version))
        try:
            await rpc.serve()
        finally:
            if self.links.get(identity) is link:
                del self.links[identity]
                log.info("%s: disconnected", identity)
                with contextlib.suppress(StoreUnavailable):  # marked offline at next start
                    await self.dispatch(ev.ConnectionChanged(identity, self.now(), False))

    def _quota(self, identity: str) -> ChargerQuota:
        """The charger's quota, kept across its connections (a reconnect does not refill it)."""
        quota = self.quotas.get(identity)
        if quota is None:
            async def report(detail: str) -> None:
                await self.dispatch(ev.SecurityIncident(identity, self.now(), "quota_exceeded",
                                                        detail))

            s = self.settings
            # The rates are per second of CSMS time: a demo clock at 72x sees 72 times the
            # messages, samples and bytes per wall second from chargers that behave (the
            # meter-sample quota in wall time held sped-up simulated chargers' readings back
            # and starved the control loop of them).
            speed = clock.current().speed
            quota = self.quotas[identity] = ChargerQuota(
                identity, s.charger_messages_per_s * speed, s.charger_message_burst,
                s.charger_bytes_per_s * speed, s.charger_byte_burst, s.charger_bytes_per_day,
                report=report, samples_per_s=s.charger_samples_per_s * speed,
                sample_burst=s.charger_sample_burst, day_s=86_400.0 / speed)
        return quota

    async def _after_admission(self, identity: str, admitted: Admitted) -> None:
        if admitted.used_pending_password:
            # Logging in with the new password is the charger's confirmation of the change.
            await self.dispatch(ev.PasswordConfirmed(identity, self.now()))
        cert = admitted.certificate
        if cert is not None and admitted.profile == 3:
            await self.dispatch(ev.CertificatePresented(
                identity, self.now(), cert.sha256_hex, cert.subject, cert.issuer,
                cert.serial_hex, cert.not_before, cert.not_after))

    async def _replaced(self, identity: str, old: Link, remote: str) -> None:
        recent = self._replacements[identity]
        now_s = time.monotonic()
        recent.append(now_s)
        while recent and now_s - recent[0] > 3600:
            recent.popleft()
        detail = f"new connection from {remote} replaced the one from {old.remote}"
        await self.dispatch(ev.SecurityIncident(identity, self.now(), "connection_replaced",
                                                detail))
        if len(recent) >= REPLACEMENT_ALERT_COUNT:
            log.warning("%s: %d connection replacements in the last hour: is the identity "
                        "used by two chargers?", identity, len(recent))
        await old.rpc.ws.close(1000, "replaced by a newer connection")

    async def enforce_profile(self, charger_id: str, profile: int) -> bool:
        """Close a live connection its charger's (raised) security profile no longer allows
        (1.6 security whitepaper A00.FR.002): it must reconnect with the new profile."""
        link = self.links.get(charger_id)
        if link is None:
            return False
        if (profile >= 2 and not link.tls) or (profile == 3 and link.security_profile != 3):
            await self.disconnect(charger_id, f"security profile raised to {profile}; "
                                              "reconnect with it")
            return True
        return False

    async def disconnect(self, charger_id: str, reason: str) -> None:
        """Close a charger's connection (e.g. it was removed from the registry)."""
        link = self.links.get(charger_id)
        if link is not None:
            log.info("%s: disconnecting: %s", charger_id, reason)
            await link.rpc.ws.close(1000, reason[:100])

    def silent(self, longer_than_s: float) -> list[tuple[str, float]]:
        """(identity, seconds) of the links that sent nothing for longer than ``longer_than_s``
        (wall seconds): connected, but a charger whose firmware froze or whose network lost the
        return path (OCPP 1.6 4.6 / 2.0.1 G02: a charger sends a Heartbeat when nothing else
        went out within the interval)."""
        now_s = time.monotonic()
        quiet = [(cid, now_s - link.rpc.last_message_s) for cid, link in self.links.items()]
        return sorted((q for q in quiet if q[1] > longer_than_s), key=lambda q: -q[1])

    # -- calls to chargers -------------------------------------------------------------------
    def protocol(self, charger_id: str) -> str | None:
        link = self.links.get(charger_id)
        return link.protocol if link else None

    async def call(self, charger_id: str, action: str, payload: dict,
                   timeout_s: float | None = None) -> dict:
        link = self.links.get(charger_id)
        if link is None:
            raise ChargerOffline(charger_id)
        return await link.rpc.call(action, payload, timeout_s)


def _remote(connection: ServerConnection, proxies: TrustedProxies | None = None,
            headers: Headers | None = None) -> str:
    """host:port of the charger; behind a trusted proxy, the client it forwarded for."""
    addr = connection.remote_address
    if not addr:
        return "unknown"
    if proxies is not None and headers is not None:
        client = proxies.client(addr[0], headers.get("X-Forwarded-For"))
        if client != addr[0]:
            return f"{client}:0"
    return f"{addr[0]}:{addr[1]}"


def _reject(connection: ServerConnection, rej: HandshakeRejected) -> Response:
    response = connection.respond(HTTPStatus(rej.status), rej.message + "\n")
    if rej.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
    if rej.status == 503:
        response.headers["Retry-After"] = "10"
    if rej.retry_after_s is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(rej.retry_after_s)))
    return response
