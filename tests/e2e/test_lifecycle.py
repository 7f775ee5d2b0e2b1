"""Lifecycle of a real `csms serve`: restarts, shutdown, duplicate identities, slow HTTP clients.

Each test drives the server process over real sockets; a charger that never answers is a bare
websocket that boots and then reads nothing.
"""

from __future__ import annotations

import asyncio
import resource
import signal
import socket
import time

import httpx
import pytest
import websockets

from tests.server import start_server

pytestmark = pytest.mark.store

BOOT_16 = '[2,"boot","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'


async def _silent_charger(ocpp_url: str, identity: str):
    """Boots, then never answers: the CSMS's calls to it stay unanswered."""
    ws = await websockets.connect(f"{ocpp_url}/{identity}", subprotocols=["ocpp1.6"])
    await ws.send(BOOT_16)
    assert (await ws.recv()).startswith('[3,"boot"')
    return ws


async def _command(client: httpx.AsyncClient, identity: str) -> dict:
    response = await client.post(f"/api/v1/chargers/{identity}/commands",
                                 json={"action": "trigger", "params": {"message": "Heartbeat"}})
    assert response.status_code == 202, response.text
    return response.json()


async def _wait_state(client: httpx.AsyncClient, command_id: int, state: str) -> dict:
    for _ in range(100):
        row = (await client.get(f"/api/v1/commands/{command_id}")).json()
        if row["state"] == state:
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"command {command_id} never reached {state}: {row}")


async def test_commands_left_open_by_a_killed_server_end_as_unknown(tmp_path):
    server = start_server(tmp_path)
    try:
        ws = await _silent_charger(server.ocpp_url, "LC-KILL")
        async with httpx.AsyncClient(base_url=server.http_url,
                                     headers=server.auth_headers) as client:
            sent = await _command(client, "LC-KILL")
            await _wait_state(client, sent["id"], "sent")
        server.kill()
        await ws.close()
    finally:
        server.stop()
    restarted = start_server(tmp_path, fresh=False)
    try:
        async with httpx.AsyncClient(base_url=restarted.http_url,
                                     headers=restarted.auth_headers) as client:
            row = (await client.get(f"/api/v1/commands/{sent['id']}")).json()
        assert row["state"] == "unknown"
        assert "restarted" in row["error"]
        assert row["completed_at"] is not None
    finally:
        restarted.stop()


async def test_sigterm_with_queued_commands_exits_without_waiting_for_their_timeouts(tmp_path):
    # The default call timeout is 30 s: six queued commands used to hold shutdown for 180 s.
    server = start_server(tmp_path)
    ws = await _silent_charger(server.ocpp_url, "LC-TERM")
    async with httpx.AsyncClient(base_url=server.http_url, headers=server.auth_headers) as client:
        queued = [await _command(client, "LC-TERM") for _ in range(6)]
        await _wait_state(client, queued[0]["id"], "sent")
    started_s = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=25)
    except Exception:
        server.kill()
        raise AssertionError("csms serve did not exit within 25 s of SIGTERM") from None
    assert time.monotonic() - started_s < 25
    assert server.process.returncode == 0
    await ws.close()
    restarted = start_server(tmp_path, fresh=False)
    try:
        async with httpx.AsyncClient(base_url=restarted.http_url,
                                     headers=restarted.auth_headers) as client:
            states = [(await client.get(f"/api/v1/commands/{c['id']}")).json()["state"]
                      for c in queued]
        # Every command has an end state the operator can read; none is left in flight.
        assert not {"queued", "sent"} & set(states), states
    finally:
        restarted.stop()


async def test_simultaneous_connections_for_one_identity_leave_exactly_one_served(services):
    sockets = await asyncio.gather(*(
        websockets.connect(f"{services.ocpp_url}/LC-DUP", subprotocols=["ocpp1.6"])
        for _ in range(20)))

    async def alive(ws, n: int) -> bool:
        try:
            await ws.send(f'[2,"hb{n}","Heartbeat",{{}}]')
            return (await asyncio.wait_for(ws.recv(), 3)).startswith(f'[3,"hb{n}"')
        except (websockets.ConnectionClosed, TimeoutError):
            return False

    await asyncio.sleep(0.5)
    answered = await asyncio.gather(*(alive(ws, n) for n, ws in enumerate(sockets)))
    assert sum(answered) == 1, answered
    served = sockets[answered.index(True)]
    assert services.gateway.links["LC-DUP"].rpc.ws.remote_address == served.local_address
    for ws in sockets:
        await ws.close()


def _slow_client(http_url: str) -> socket.socket:
    host, port = http_url.removeprefix("http://").rsplit(":", 1)
    sock = socket.create_connection((host, int(port)))
    sock.sendall(b"GET /api/v1/chargers HTTP/1.1\r\nHost: x\r\n")  # the head never ends
    return sock


def _closed_by_server(sock: socket.socket, within_s: float) -> bool:
    sock.settimeout(within_s)
    try:
        while sock.recv(4096):
            pass
        return True
    except TimeoutError:
        return False
    except OSError:
        return True


async def test_slow_http_clients_are_closed_after_the_head_deadline(tmp_path):
    server = start_server(tmp_path, env={"CSMS_HTTP_HEAD_TIMEOUT_S": "1"})
    try:
        slow = [_slow_client(server.http_url) for _ in range(30)]
        await asyncio.sleep(0.3)
        # A byte now and then does not extend the deadline.
        for sock in slow:
            sock.sendall(b"X-Slow: 1\r\n")
        assert all(_closed_by_server(sock, 5.0) for sock in slow)
        for sock in slow:
            sock.close()
        async with httpx.AsyncClient(base_url=server.http_url,
                                     headers=server.auth_headers) as client:
            assert (await client.get("/api/v1/chargers")).status_code == 200
    finally:
        server.stop()


async def test_a_request_body_that_stops_arriving_is_closed(tmp_path):
    server = start_server(tmp_path, env={"CSMS_HTTP_BODY_TIMEOUT_S": "1"})
    try:
        host, port = server.http_url.removeprefix("http://").rsplit(":", 1)
        sock = socket.create_connection((host, int(port)))
        sock.sendall(b"POST /api/v1/chargers HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer " + server.api_token.encode() + b"\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                     b'{"id": "SLOW"')  # then nothing more
        assert _closed_by_server(sock, 5.0)
        sock.close()
    finally:
        server.stop()


def _few_descriptors() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


async def test_slow_http_clients_cannot_lock_chargers_out(tmp_path):
    """256 descriptors for the whole process and 400 HTTP clients that never finish a request:
    a charger still connects and boots, and the console answers once the slow ones give up."""
    server = start_server(tmp_path, preexec_fn=_few_descriptors)
    slow = []
    try:
        for _ in range(400):
            try:
                slow.append(_slow_client(server.http_url))
            except OSError:
                break
        await asyncio.sleep(1.0)
        async with asyncio.timeout(15):
            ws = await websockets.connect(f"{server.ocpp_url}/LC-FD", subprotocols=["ocpp1.6"])
            await ws.send(BOOT_16)
            assert (await ws.recv()).startswith('[3,"boot"')
            await ws.close()
    finally:
        for sock in slow:
            sock.close()
        server.stop()
    assert any("HTTP connection refused" in line for line in server.output)
