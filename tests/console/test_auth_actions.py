"""Login, sessions, CSRF, roles, commands through the outbox, policy and settings writes."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from sqlmodel import Session, select

from csms.store.tables import ApiTokenRow, ChargerRow, CommandRow, IdTokenRow, SiteRow
from tests.console.conftest import PASSWORD, add_user, csrf_of
from tests.ocpp.clients import connect

pytestmark = pytest.mark.store


async def test_pages_need_a_login(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as client:
        r = await client.get("/costs")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=/costs"
        r = await client.get("/?block=live", headers={"HX-Request": "true"})
        assert r.status_code == 401 and r.headers["HX-Redirect"].startswith("/login")
        assert (await client.get("/static/vendor/htmx/htmx.min.js")).status_code == 200


@pytest.mark.parametrize("password, next_url, status, location", [
    (PASSWORD, "/grid", 303, "/grid"),
    (PASSWORD, "//evil.example/", 303, "/"),  # never redirect off-site
    (PASSWORD, "https://evil.example/", 303, "/"),
    ("wrong-password", "/", 401, None),
])
async def test_login(app, services, password, next_url, status, location):
    add_user(services, "alice", "viewer")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as client:
        token = csrf_of((await client.get("/login")).text)
        r = await client.post("/login", data={"username": "alice", "password": password,
                                              "next": next_url, "csrf_token": token})
        assert r.status_code == status
        if location:
            assert r.headers["location"] == location
            assert (await client.get("/")).status_code == 200


async def test_login_without_csrf_token_is_refused(app, services):
    add_user(services, "alice", "admin")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as client:
        await client.get("/login")
        r = await client.post("/login", data={"username": "alice", "password": PASSWORD})
        assert r.status_code == 403


async def test_forged_session_cookie_and_logout(client_for, app):
    client = await client_for("admin")
    r = await client.post("/logout", data={"csrf_token": client.csrf})
    assert r.status_code == 303
    assert (await client.get("/")).status_code == 303
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                 cookies={"csms_session": "eyJ1IjoxfQ.forged.sig"}) as other:
        assert (await other.get("/")).status_code == 303


async def test_a_password_change_ends_old_sessions(client_for, services):
    client = await client_for("operator")
    assert (await client.get("/")).status_code == 200
    from csms.web.users_cli import upsert_user
    with Session(services.engine) as s:
        upsert_user(s, "operator-0", "another-password", "operator")
        s.commit()
    assert (await client.get("/")).status_code == 303


class Accepting(ChargePoint):
    @on("TriggerMessage")
    def trigger(self, requested_message, **_):
        return call_result.TriggerMessage(status="Accepted")

    @on("Reset")
    def reset(self, **_):
        return call_result.Reset(status="Rejected")


async def _command(client, action: str, **fields):
    return await client.post("/chargers/CP-9/commands?block=outbox",
                             data={"csrf_token": client.csrf, "action": action, **fields},
                             headers={"HX-Request": "true"})


async def test_commands_go_through_the_outbox_and_show_their_result(services, client_for):
    import websockets

    operator = await client_for("operator")
    viewer = await client_for("viewer")
    ws = await websockets.connect(f"{services.ocpp_url}/CP-9", subprotocols=["ocpp1.6"])
    cp = Accepting("CP-9", ws)
    task = asyncio.create_task(cp.start())
    try:
        await cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
        r = await _command(operator, "trigger", message="Heartbeat")
        assert r.status_code == 200 and 'id="outbox"' in r.text and "<html" not in r.text
        r = await _command(operator, "reset", type="soft")
        await services.commands.drain()
        outbox = (await operator.get("/chargers/CP-9?block=outbox")).text
        assert outbox.count("state-accepted") == 1 and outbox.count("state-rejected") == 1
        # a viewer is refused, and CSRF is checked before anything is sent
        assert (await _command(viewer, "trigger", message="Heartbeat")).status_code == 403
        r = await operator.post("/chargers/CP-9/commands", data={"action": "reset"})
        assert r.status_code == 403
        # a bad command is shown, not sent
        r = await _command(operator, "trigger")
        assert "trigger needs parameter" in r.text
    finally:
        task.cancel()
        await ws.close()
    with Session(services.engine) as s:
        rows = s.exec(select(CommandRow).order_by(CommandRow.id)).all()
    assert [(c.action, c.state, c.source) for c in rows] == [
        ("TriggerMessage", "accepted", "console"), ("Reset", "rejected", "console")]


async def test_viewer_sees_no_command_forms(services, client_for):
    viewer = await client_for("viewer")
    async with connect(services.ocpp_url, "CP-1", "1.6") as cp:
        await cp.call(call.BootNotification(charge_point_model="M", charge_point_vendor="V"))
        page = (await viewer.get("/chargers/CP-1")).text
    assert "cannot send commands" in page and 'name="action"' not in page


async def test_policy_change_is_stored_and_validated(services, client_for):
    operator = await client_for("operator")
    viewer = await client_for("viewer")
    r = await operator.post("/smart-charging/policy?block=policy", data={
        "csrf_token": operator.csrf, "policy": "peak_shaving", "params": '{"lease_s": 900}'})
    assert r.status_code == 200 and 'data-testid="current-policy" data-policy="peak_shaving">Peak shaving<' in r.text
    r = await operator.post("/smart-charging/policy?block=policy", data={
        "csrf_token": operator.csrf, "policy": "no_such_policy", "params": "{}"})
    assert "unknown policy" in r.text
    r = await operator.post("/smart-charging/policy?block=policy", data={
        "csrf_token": operator.csrf, "policy": "valley_filling", "params": '{"lease_s": 1}'})
    assert "lease_s (s) must be &gt;= 60" in r.text
    r = await viewer.post("/smart-charging/policy", data={
        "csrf_token": viewer.csrf, "policy": "uncontrolled", "params": "{}"})
    assert r.status_code == 403
    with Session(services.engine) as s:
        site = s.exec(select(SiteRow)).one()
    assert (site.policy, site.policy_params) == ("peak_shaving", {"lease_s": 900})


async def test_whatif_on_a_day_without_sessions(client_for):
    client = await client_for("viewer")
    r = await client.post("/smart-charging/whatif?block=whatif",
                          data={"csrf_token": client.csrf, "day": "2026-01-05"})
    assert r.status_code == 200 and "No sessions that day." in r.text


async def test_settings_admin_writes_and_operator_cannot(services, client_for):
    admin = await client_for("admin")
    operator = await client_for("operator")

    async def post(client, section, **data):
        return await client.post(f"/settings/{section}", data={"csrf_token": client.csrf, **data})

    r = await post(admin, "site", name="Casablanca HQ", capacity_kw="200", voltage_level="LV",
                   transformer_kva="630", pv_kwp="50", base_load_profile="office",
                   base_load_peak_kw="40", tariff='{"name": "onee-default"}')
    assert "Saved." in r.text
    r = await post(admin, "site", name="Bad", capacity_kw="10", voltage_level="LV",
                   tariff='{"name": "no-such-tariff"}')
    assert "not found" in r.text
    r = await post(admin, "charger", charger_id="NEW-1", charger_type="DC", max_power_w="50000")
    assert 'data-testid="secret"' in r.text
    assert "Saved." in (await post(admin, "id_token", id_token="RFID-1", status="Blocked")).text
    r = await post(admin, "api_token", name="ci", role="viewer")
    assert "csms_" in r.text
    assert (await post(operator, "id_token", id_token="X")).status_code == 403
    with Session(services.engine) as s:
        site = s.exec(select(SiteRow)).one()
        assert (site.name, site.capacity_kw, site.pv_kwp) == ("Casablanca HQ", 200.0, 50.0)
        assert s.get(ChargerRow, "NEW-1").max_power_w == 50000
        assert s.get(ChargerRow, "NEW-1").password_hash.startswith("pbkdf2_sha256$")
        assert s.get(IdTokenRow, "RFID-1").status == "Blocked"
        assert s.exec(select(ApiTokenRow)).one().role == "viewer"
    # the grid and cost pages use the new site (PV and base load modelled)
    assert (await admin.get("/grid")).status_code == 200
    assert "Casablanca HQ" in (await admin.get("/grid")).text


async def test_french_page(client_for):
    client = await client_for("viewer", lang="fr")
    r = await client.get("/")
    assert 'lang="fr"' in r.text and "Vue d&#39;ensemble" in r.text
    r = await client.get("/?lang=en")
    assert "Overview" in r.text and r.cookies.get("csms_lang") == "en"


async def test_control_loop_limits_and_disobedience_are_shown(services, client_for):
    from datetime import UTC, datetime

    from csms.store.tables import SessionRow, SmartChargingStateRow

    client = await client_for("viewer")
    now = datetime.now(UTC)
    with Session(services.engine) as s:
        s.add(ChargerRow(id="CP-X", registered_at=now))
        s.flush()
        car = SessionRow(charger_id="CP-X", protocol="1.6", transaction_ref="X1", evse_id=1,
                         started_at=now, started_received_at=now, active=True)
        s.add(car)
        s.flush()
        s.add(SmartChargingStateRow(charger_id="CP-X", evse_id=1, session_id=car.id, limit_w=7000.0,
                                    measured_w=9500.0, why="site_limit", obeying=False,
                                    accepted=True, updated_at=now))
        s.commit()
    block = (await client.get("/smart-charging?block=control")).text
    assert block.lstrip().startswith('<section id="control"')  # keeps polling after a swap
    assert "site_limit" in block and "not obeying" in block
    live = (await client.get("/?block=live")).text
    assert "Charger CP-X draws 2.5 kW above its limit of 7.0 kW" in live


async def test_failed_logins_slow_the_attacker_not_the_owner(app, services):
    add_user(services, "mallory", "viewer")

    def client_from(address: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 4000)),
                                 base_url="http://t")

    async with client_from("203.0.113.9") as attacker:
        token = csrf_of((await attacker.get("/login")).text)
        # The free failures a minute (the fixture's setting), then a doubling backoff.
        for _ in range(services.settings.auth_failures_per_minute + 1):
            r = await attacker.post("/login", data={"username": "mallory", "password": "guess",
                                                    "next": "/", "csrf_token": token})
            assert r.status_code == 401
        # The attacker's network waits, even with the right password (not checked) ...
        r = await attacker.post("/login", data={"username": "mallory", "password": PASSWORD,
                                                "next": "/", "csrf_token": token})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    # ... while the owner logs in from elsewhere.
    async with client_from("198.51.100.20") as owner:
        token = csrf_of((await owner.get("/login")).text)
        r = await owner.post("/login", data={"username": "mallory", "password": PASSWORD,
                                             "next": "/", "csrf_token": token})
        assert r.status_code == 303
