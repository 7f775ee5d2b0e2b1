"""Regenerate the console screenshots in this directory (PNG, headless Debian chromium).

    .venv/bin/python docs/screenshots/generate.py

Starts `csms serve --open` on a temporary SQLite database, adds a site (200 kW, 60 kWp PV,
office base load), 30 days of history for 20 chargers (the console benchmark's generator) and
four scripted OCPP 1.6 chargers charging live, then opens every page as an admin.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from benchmarks.bench_console import seed  # noqa: E402
from tests.browser.harness import (  # noqa: E402
    CHROMIUM_ARGS,
    PASSWORD,
    Fleet,
    add_user,
    chromium_path,
)
from tests.server import start_server  # noqa: E402

OUT = Path(__file__).resolve().parent
PAGES = [("overview", "/"), ("chargers", "/chargers"), ("charger", "/chargers/CP-1"),
         ("sessions", "/sessions"), ("session", "/sessions/{session}"), ("grid", "/grid"),
         ("costs", "/costs"), ("smart-charging", "/smart-charging"), ("settings", "/settings")]


def _prepare(server) -> int:
    engine = sa.create_engine(server.database_url)
    seed(engine, datetime.now(UTC), chargers=20, prefix="H")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE chargers SET connected = false WHERE id LIKE 'H-%'"))
        conn.execute(sa.text(
            "INSERT INTO sites (name, latitude, longitude, voltage_level, capacity_kw, "
            "transformer_kva, tariff, pv_kwp, base_load_profile, base_load_peak_kw, policy, "
            "policy_params, control_period_s, created_at) VALUES ('Casablanca office', 33.57, "
            "-7.59, 'LV', 200, 400, '{\"name\": \"onee-default\"}', 60, 'office', 80, "
            "'price_optimization', '{}', 60, :now)"), {"now": datetime.now(UTC)})
        last = conn.execute(sa.text("SELECT max(id) FROM sessions")).scalar_one()
    engine.dispose()
    return last


def main() -> int:
    from playwright.sync_api import sync_playwright

    if chromium_path() is None:
        print("chromium not found: apt-get install -y chromium", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), open_mode=True)
        fleet = None
        try:
            last_history_session = _prepare(server)
            add_user(server, "admin", "admin")
            fleet = Fleet(server.ocpp_url, ["CP-1", "CP-2", "CP-3", "CP-4"]).start()
            time.sleep(4)  # a few live meter values
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
                ctx = browser.new_context(base_url=server.http_url,
                                          viewport={"width": 1280, "height": 900})
                page = ctx.new_page()
                page.goto("/login")
                page.screenshot(path=OUT / "login.png")
                page.get_by_label("Username").fill("admin")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                page.wait_for_url("**/")
                page.goto("/chargers/CP-1")
                page.get_by_role("button", name="Trigger message").click()
                page.locator("#outbox tbody tr", has_text="TriggerMessage").locator(
                    ".state-accepted").first.wait_for()
                for name, path in PAGES:
                    page.goto(path.format(session=last_history_session))
                    if name == "smart-charging":
                        page.get_by_role("button", name="Run").click()
                        page.get_by_test_id("whatif-table").wait_for(timeout=60_000)
                    # long tables (sessions, message log): the first screen is enough
                    page.screenshot(path=OUT / f"{name}.png",
                                    full_page=name not in ("sessions", "charger"))
                    print("wrote", OUT / f"{name}.png")
                page.goto("/?lang=fr")
                page.screenshot(path=OUT / "overview-fr.png", full_page=True)
                page.goto("/?lang=en")
                page.set_viewport_size({"width": 390, "height": 844})
                page.goto("/")
                page.screenshot(path=OUT / "overview-mobile.png", full_page=True)
                browser.close()
        finally:
            if fleet:
                fleet.stop()
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
