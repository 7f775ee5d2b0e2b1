"""`csms serve`: the HTTP app and the OCPP-J gateway in one process and one event loop."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from datetime import datetime

import uvicorn
from sqlalchemy.exc import OperationalError

from csms import clock, loop_lag
from csms.domain.durability import StoreUnavailable
from csms.services import Services
from csms.settings import Settings, load
from csms.store.db import check_writable
from csms.store.migrate import upgrade
from csms.store.outage import outage_cause
from csms.web import connections
from csms.web.app import create_app

log = logging.getLogger(__name__)


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The ocpp library logs every frame at INFO and tracebacks at ERROR; we log frames at DEBUG
    # and CALLERRORs ourselves (csms.ocpp.rpc).
    logging.getLogger("ocpp").setLevel(logging.WARNING)
    logging.getLogger("websockets").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.setblocking(False)
    return sock


async def serve(settings: Settings) -> None:
    if settings.speed != 1.0 or settings.start:
        start = datetime.fromisoformat(settings.start) if settings.start else None
        clock.configure(speed=settings.speed, start=start)
        log.info("demo clock: speed %.1fx from %s", settings.speed, clock.now().isoformat())
    if settings.open:
        log.warning("open mode: any charger identity is accepted and registered, any id token "
                    "is authorized; never use this on a public network")
    services = Services.build(settings)
    # The web stack is imported before the gateway listens (it held the loop ~1 s once
    # chargers were already being served), and what the imports made is frozen at once.
    app = create_app(services)
    loop_lag.freeze()
    ocpp_port = await services.start()
    tls_port = await services.start_tls()
    if settings.control:
        services.start_control()
        warmed = (services.control.warmed,)
    else:
        warmed = ()
        log.warning("smart-charging control loop disabled (--no-control): no limits are sent")
    http_sock = _bind(settings.host, settings.http_port)
    http_port = http_sock.getsockname()[1]
    descriptors = connections.raise_descriptor_limit()
    cap = connections.http_connection_cap(settings.http_max_connections, descriptors)
    log.info("HTTP: at most %d connections (%d descriptors), head within %g s", cap,
             descriptors, settings.http_head_timeout_s)
    http_protocol = connections.guarded_protocol(cap, settings.http_head_timeout_s,
                                                 settings.http_body_timeout_s)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                            http=http_protocol)
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # we own SIGINT/SIGTERM below
    host = settings.host
    print(f"OCPP gateway: ws://{host}:{ocpp_port}/ocpp/{{charge_point_id}}", flush=True)
    if tls_port is not None:
        print(f"OCPP gateway (TLS): wss://{host}:{tls_port}/ocpp/{{charge_point_id}}", flush=True)
    print(f"HTTP console: http://{host}:{http_port}/  (API docs: http://{host}:{http_port}/docs)",
          flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    http_task = asyncio.create_task(server.serve(sockets=[http_sock]))
    services.background.append(asyncio.ensure_future(loop_lag.freeze_after_start(*warmed, lag=services.loop_lag)))
    await stop.wait()
    log.info("shutting down")
    server.should_exit = True
    await http_task
    await services.stop()


def run(args) -> int:
    settings = load(database_url=args.database_url, host=args.host, http_port=args.http_port,
                    ocpp_port=args.ocpp_port, open=args.open, migrate=args.migrate,
                    speed=args.speed, start=args.start,
                    control=args.control, **_security_args(args))
    setup_logging(args.log_level)
    _check_security(settings)
    # A database that cannot be used at start is fatal: one line and a non-zero exit for the
    # supervisor, not a traceback (outages later are ridden out: csms/store/outage.py).
    try:
        check_writable(settings.database_url)
        if settings.migrate:
            upgrade(settings.database_url)
        asyncio.run(serve(settings))
    except (OperationalError, StoreUnavailable) as exc:
        raise SystemExit(f"csms serve: cannot use the database: {outage_cause(exc) or exc}"
                         ) from None
    return 0


def _security_args(args) -> dict:
    return {name: getattr(args, name, None) for name in (
        "tls_cert", "tls_key", "tls_client_ca", "ocpp_tls_port", "tls_require_org", "ca_cert",
        "ca_key")}


def _check_security(settings: Settings) -> None:
    """Fail at start, with the option's name, rather than at the first charger."""
    if bool(settings.tls_cert) != bool(settings.tls_key):
        raise SystemExit("csms serve: --tls-cert and --tls-key go together")
    if settings.tls_client_ca and not settings.tls_cert:
        raise SystemExit("csms serve: --tls-client-ca needs --tls-cert and --tls-key")
    if bool(settings.ca_cert) != bool(settings.ca_key):
        raise SystemExit("csms serve: --ca-cert and --ca-key go together")
    import ssl

    from csms.certificates import CertificateAuthority
    from csms.tls import server_context

    try:
        if settings.tls_cert:
            server_context(settings.tls_cert, settings.tls_key, settings.tls_client_ca)
        if settings.ca_cert:
            CertificateAuthority.load(settings.ca_cert, settings.ca_key)
    except (OSError, ssl.SSLError, ValueError, TypeError) as exc:
        # The message names the file or the mismatch, never key material.
        raise SystemExit(f"csms serve: cannot use the TLS/CA files: {exc}") from None
