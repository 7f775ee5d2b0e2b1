"""Shared fixtures.

- ``no_error_logs`` (autouse): a test fails if anything logged at ERROR or above, which catches
  swallowed exceptions and charger mistakes logged at the wrong level.
- ``csms_server``: a real ``csms serve --open`` subprocess on ephemeral ports with a fresh SQLite
  database (or ``CSMS_TEST_DATABASE_URL``); see tests/server.py.
"""

from __future__ import annotations

import contextlib
import logging

import pytest
from hypothesis import settings

from tests.server import ServerHandle, start_server

# Property tests check properties, not speed: hypothesis's default 200-ms deadline per example
# failed them on a busy 2-core machine. Speed lives in the benchmarks.
settings.register_profile("csms", deadline=None)
settings.load_profile("csms")


class _ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The ``ocpp`` library logs at ERROR when it acts as the test charger and refuses a
        # CALL (that is the peer's log, not ours); the CSMS quiets that logger in production.
        if record.name != "ocpp":
            self.records.append(record)


@pytest.fixture(autouse=True)
def no_error_logs(request):
    collector = _ErrorCollector()
    root = logging.getLogger()
    root.addHandler(collector)
    yield collector
    root.removeHandler(collector)
    if request.node.get_closest_marker("allow_error_logs"):
        return
    if collector.records:
        lines = "\n".join(f"{r.name}: {r.getMessage()}" for r in collector.records[:10])
        pytest.fail(f"ERROR log records during the test:\n{lines}")


@pytest.fixture
def csms_server(tmp_path) -> ServerHandle:
    handle = start_server(tmp_path, open_mode=True)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def csms_server_closed(tmp_path) -> ServerHandle:
    """A server without --open: chargers must be registered first."""
    handle = start_server(tmp_path, open_mode=False)
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def database_url(tmp_path) -> str:
    """A migrated, empty database: SQLite in tmp_path, or CSMS_TEST_DATABASE_URL (reset)."""
    from csms.store.migrate import upgrade
    from tests.server import _reset_postgres, test_database_url

    url = test_database_url(tmp_path)
    if "postgresql" in url:
        _reset_postgres(url)
    upgrade(url)
    return url


async def _running_services(database_url: str, open_mode: bool, **overrides):
    """A started in-process CSMS on ephemeral ports; ``overrides``: other settings."""
    from csms.services import Services
    from csms.settings import Settings

    settings = Settings(**{"database_url": database_url, "ocpp_port": 0, "http_port": 0,
                           "open": open_mode, "call_timeout_s": 5.0, "ping_interval_s": None,
                           "auth_failures_per_minute": 3, **overrides})
    svc = Services.build(settings)
    await svc.start()
    svc.ocpp_url = f"ws://127.0.0.1:{svc.gateway.port}/ocpp"
    return svc


@pytest.fixture
async def services(database_url):
    """An in-process CSMS (gateway + store + outbox) in open mode on an ephemeral port."""
    svc = await _running_services(database_url, open_mode=True)
    try:
        yield svc
    finally:
        await svc.stop()


@pytest.fixture
async def closed_services(database_url):
    """Like ``services`` but without open mode: chargers must be registered."""
    svc = await _running_services(database_url, open_mode=False)
    try:
        yield svc
    finally:
        await svc.stop()


@contextlib.asynccontextmanager
async def api_client(services):
    """An HTTP client on the app of ``services``, with ``client.tokens[role]`` auth headers for
    admin, operator and viewer tokens, and ``client.engine``."""
    import httpx
    from sqlmodel import Session

    from csms.store.tokens import create_token
    from csms.web.app import create_app

    with Session(services.engine) as s:
        tokens = {role: create_token(s, role, role) for role in ("admin", "operator", "viewer")}
        s.commit()
    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://csms") as client:
        client.tokens = {r: {"Authorization": f"Bearer {t}"} for r, t in tokens.items()}
        client.engine = services.engine
        yield client


@pytest.fixture
async def api(services):
    """``api_client`` on the open in-process CSMS."""
    async with api_client(services) as client:
        yield client


@pytest.fixture(scope="session")
def tls_lab(tmp_path_factory):
    """The session's lab PKI (tests/tlslab.py)."""
    from tests.tlslab import make_lab

    return make_lab(tmp_path_factory.mktemp("pki"))


async def _tls_services(database_url: str, lab, kind: str = "rsa", **overrides):
    from csms.services import Services
    from csms.settings import Settings

    cert, key = lab.server[kind]
    settings = Settings(database_url=database_url, ocpp_port=0, http_port=0, open=False,
                        call_timeout_s=5.0, ping_interval_s=None, auth_failures_per_minute=50,
                        tls_cert=str(cert), tls_key=str(key), tls_client_ca=str(lab.ca_cert),
                        ocpp_tls_port=0, ca_cert=str(lab.ca_cert), ca_key=str(lab.ca_key),
                        **overrides)
    svc = Services.build(settings)
    await svc.start()
    await svc.start_tls()
    svc.ocpp_url = f"ws://127.0.0.1:{svc.gateway.port}/ocpp"
    svc.wss_url = f"wss://127.0.0.1:{svc.gateway.tls_port}/ocpp"
    return svc


@pytest.fixture
async def tls_services(database_url, tls_lab):
    """A closed CSMS with both listeners (RSA server certificate), the lab CA as client CA and
    as the CSR-signing CA."""
    svc = await _tls_services(database_url, tls_lab)
    try:
        yield svc
    finally:
        await svc.stop()


@pytest.fixture
async def tls_services_ecdsa(database_url, tls_lab):
    svc = await _tls_services(database_url, tls_lab, "ecdsa")
    try:
        yield svc
    finally:
        await svc.stop()


@pytest.fixture
async def tls_api(tls_services):
    """``api_client`` on ``tls_services``."""
    async with api_client(tls_services) as client:
        yield client


@pytest.fixture
async def api_closed(closed_services):
    """``api_client`` on ``closed_services``."""
    async with api_client(closed_services) as client:
        yield client
