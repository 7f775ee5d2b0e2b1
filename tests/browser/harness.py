"""A live console to drive from a browser: `csms serve --open` in a subprocess, console users,
and scripted OCPP 1.6 charge points (the ``ocpp`` library's client) charging in a thread.

Used by the Playwright tests and by docs/screenshots/generate.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result

from tests.server import ServerHandle, csms_command, start_server

PASSWORD = "browser-pass-1"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
logging.getLogger("ocpp").setLevel(logging.WARNING)


def chromium_path() -> str | None:
    return shutil.which("chromium")


def add_user(server: ServerHandle, name: str, role: str) -> None:
    subprocess.run(csms_command("user", "add", name, "--role", role, "--database-url",
                                server.database_url), input=PASSWORD + "\n", text=True,
                   check=True, capture_output=True)


def _iso(dt: datetime | None = None) -> str:
    return (dt or datetime.now(UTC)).isoformat().replace("+00:00", "Z")


class ScriptedCharger(ChargePoint):
    """Accepts every command the console sends, so each command ends ``accepted``."""

    @on("TriggerMessage")
    def trigger(self, requested_message, **_):
        return call_result.TriggerMessage(status="Accepted")

    @on("Reset")
    def reset(self, type, **_):  # noqa: A002 (OCPP field name)
        return call_result.Reset(status="Accepted")

    @on("ChangeAvailability")
    def availability(self, connector_id, type, **_):  # noqa: A002
        return call_result.ChangeAvailability(status="Accepted")

    @on("UnlockConnector")
    def unlock(self, connector_id, **_):
        return call_result.UnlockConnector(status="Unlocked")

    @on("ClearChargingProfile")
    def clear(self, **_):
        return call_result.ClearChargingProfile(status="Accepted")

    @on("SetChargingProfile")
    def set_profile(self, connector_id, cs_charging_profiles, **_):
        return call_result.SetChargingProfile(status="Accepted")

    @on("RemoteStartTransaction")
    def remote_start(self, id_tag, **_):
        return call_result.RemoteStartTransaction(status="Accepted")

    @on("GetConfiguration")
    def get_configuration(self, **_):
        return call_result.GetConfiguration(configuration_key=[
            {"key": "ChargingScheduleAllowedChargingRateUnit", "readonly": True, "value": "Current,Power"},
            {"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "8"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "1"}])

    @on("GetCompositeSchedule")
    def composite(self, connector_id, duration, **_):
        return call_result.GetCompositeSchedule(status="Rejected")

    @on("RemoteStopTransaction")
    def remote_stop(self, transaction_id, **_):
        return call_result.RemoteStopTransaction(status="Accepted")


@dataclass
class Fleet:
    """Charge points that charge with a power that changes every ``interval_s``."""

    url: str
    ids: list[str]
    interval_s: float = 1.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    ready: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Fleet:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._thread.start()
        if not self.ready.wait(20):
            raise RuntimeError("scripted chargers did not start")
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)

    async def _main(self) -> None:
        async with contextlib.AsyncExitStack() as stack:
            cps = []
            for n, cid in enumerate(self.ids):
                ws = await stack.enter_async_context(
                    websockets.connect(f"{self.url}/{cid}", subprotocols=["ocpp1.6"]))
                cp = ScriptedCharger(cid, ws, response_timeout=10)
                task = asyncio.create_task(cp.start())
                stack.callback(task.cancel)
                cps.append(await self._begin(cp, n))
            self.ready.set()
            step = 0
            while not self._stop.is_set():
                step += 1
                for n, (cp, tx, state) in enumerate(cps):
                    power_w = 3000.0 + 1000.0 * ((step + 3 * n) % 8)  # visibly changes
                    state["wh"] += power_w * self.interval_s / 3600.0 * 60  # 1 s = 1 min
                    state["soc"] = min(99.0, state["soc"] + 0.5)
                    await cp.call(call.MeterValues(connector_id=1, transaction_id=tx, meter_value=[{
                        "timestamp": _iso(), "sampledValue": [
                            {"value": f"{state['wh']:.0f}", "unit": "Wh",
                             "measurand": "Energy.Active.Import.Register"},
                            {"value": f"{power_w:.0f}", "unit": "W",
                             "measurand": "Power.Active.Import"},
                            {"value": f"{power_w / 230:.1f}", "unit": "A", "phase": "L1",
                             "measurand": "Current.Import"},
                            {"value": f"{state['soc']:.0f}", "unit": "Percent",
                             "measurand": "SoC", "location": "EV"}]}]))
                await asyncio.sleep(self.interval_s)

    async def _begin(self, cp: ChargePoint, n: int):
        await cp.call(call.BootNotification(charge_point_model="Scripted", charge_point_vendor="Tests"))
        await cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
        start = await cp.call(call.StartTransaction(connector_id=1, id_tag=f"TAG{n}", meter_start=0,
                                                    timestamp=_iso()))
        return cp, start.transaction_id, {"wh": 0.0, "soc": 15.0 + 20 * n}


def seed_history(server: ServerHandle, chargers: int = 20) -> int:
    """30 days of sessions for ``chargers`` offline chargers ``H-0000``.. (the console
    benchmark's generator) and a site (200 kW, 60 kWp PV, office base load) that holds them,
    so every page has long tables and full charts; returns the last session's id. Call before
    the fleet starts: the site is the one open mode puts new chargers in ("default"), so the
    live chargers join it and the site's KPIs count them."""
    import sqlalchemy as sa

    from benchmarks.bench_console import seed

    engine = sa.create_engine(server.database_url)
    seed(engine, datetime.now(UTC), chargers=chargers, prefix="H")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE chargers SET connected = false WHERE id LIKE 'H-%'"))
        conn.execute(sa.text(
            "INSERT INTO sites (name, latitude, longitude, voltage_level, capacity_kw, "
            "transformer_kva, tariff, pv_kwp, base_load_profile, base_load_peak_kw, policy, "
            "policy_params, control_period_s, created_at) VALUES ('default', 33.57, "
            "-7.59, 'LV', 200, 400, '{\"name\": \"onee-default\"}', 60, 'office', 80, "
            "'price_optimization', '{}', 60, :now)"), {"now": datetime.now(UTC)})
        conn.execute(sa.text("UPDATE chargers SET site_id = (SELECT max(id) FROM sites) "
                             "WHERE id LIKE 'H-%'"))
        last = conn.execute(sa.text("SELECT max(id) FROM sessions")).scalar_one()
    engine.dispose()
    return last


@contextlib.contextmanager
def live_console(tmp_path, chargers: int = 2):
    """(server, fleet) with users admin/operator/viewer whose password is ``PASSWORD``."""
    server = start_server(tmp_path, open_mode=True)
    fleet = None
    try:
        for role in ("admin", "operator", "viewer"):
            add_user(server, role, role)
        fleet = Fleet(server.ocpp_url, [f"CP-{n + 1}" for n in range(chargers)]).start()
        yield server, fleet
    finally:
        if fleet:
            fleet.stop()
        server.stop()
