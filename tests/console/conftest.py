"""Console fixtures: an app around the in-process ``services`` and logged-in clients per role."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlmodel import Session

from csms.web.app import create_app
from csms.web.users_cli import upsert_user

PASSWORD = "console-pass-1"


@pytest.fixture
async def app(services):
    return create_app(services)


def add_user(services, name: str, role: str, lang: str = "en") -> None:
    with Session(services.engine) as session:
        upsert_user(session, name, PASSWORD, role, lang)
        session.commit()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


async def login(client: httpx.AsyncClient, name: str) -> str:
    """Log in through the form; returns the CSRF token of the session's pages."""
    page = await client.get("/login")
    token = csrf_of(page.text)
    r = await client.post("/login", data={"username": name, "password": PASSWORD, "next": "/",
                                          "csrf_token": token})
    assert r.status_code == 303, r.text
    return token


@pytest.fixture
async def client_for(app, services):
    clients = []

    async def make(role: str = "admin", lang: str = "en") -> httpx.AsyncClient:
        name = f"{role}-{len(clients)}"
        add_user(services, name, role, lang)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                   base_url="http://console.test")
        clients.append(client)
        client.csrf = await login(client, name)
        return client

    yield make
    for client in clients:
        await client.aclose()
