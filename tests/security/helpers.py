"""Helpers of the security tests: register chargers with a profile, open (w)ss handshakes with a
Python ``ssl`` charger side, read security events."""

from __future__ import annotations

import base64
import ssl

import websockets
from sqlmodel import Session, select
from websockets.exceptions import InvalidMessage, InvalidStatus

from csms import clock, security
from csms.store.tables import ChargerEventRow, ChargerRow

PASSWORD = "correct-horse-battery-staple-42"
SUBPROTOCOL = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}


def register(services, identity: str, profile: int, password: str | None = PASSWORD,
             allow_unauthenticated: bool = False) -> None:
    with Session(services.engine) as s:
        s.add(ChargerRow(id=identity, registered_at=clock.now(), security_profile=profile,
                         password_hash=security.hash_password(password) if password else None,
                         allow_unauthenticated=allow_unauthenticated))
        s.commit()


def basic(user: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def handshake(url: str, *, ssl_context: ssl.SSLContext | None = None,
                    headers: dict | None = None, protocol: str = "1.6") -> int | str:
    """101 after a completed handshake, the HTTP status of a refusal, or "tls" when the TLS
    handshake itself failed (an alert, a reset)."""
    try:
        ws = await websockets.connect(url, ssl=ssl_context, additional_headers=headers,
                                      subprotocols=[SUBPROTOCOL[protocol]], open_timeout=5)
    except InvalidStatus as exc:
        return exc.response.status_code
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError, EOFError):
        return "tls"
    except InvalidMessage:
        # TLS 1.3: the client finishes its side first, the server's verdict on the client
        # certificate arrives as an alert instead of the HTTP response.
        return "tls"
    await ws.close()
    return 101


def security_events(services, identity: str) -> list[ChargerEventRow]:
    with Session(services.engine) as s:
        rows = s.exec(select(ChargerEventRow).where(ChargerEventRow.charger_id == identity)
                      .order_by(ChargerEventRow.id)).all()
    return [r for r in rows if "security" in r.kind]
