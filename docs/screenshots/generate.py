"""Regenerate the console screenshots in this directory (PNG, headless Debian chromium).

    .venv/bin/python docs/screenshots/generate.py

Starts `csms serve --open` on a temporary SQLite database, adds a site (200 kW, 60 kWp PV,
office base load), 30 days of history for 20 chargers (the console benchmark's generator) and
four scripted OCPP 1.6 chargers charging live, then opens every page as an admin:

    <page>.png         1440 px wide, English (every page, and any page added to the menu)
    <page>-fr.png      1440 px wide, French (the main pages)
    <page>-mobile.png  390 px wide (a phone), English (every page)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.browser.harness import (  # noqa: E402
    CHROMIUM_ARGS,
    PASSWORD,
    Fleet,
    add_user,
    chromium_path,
    seed_history,
)
from tests.server import start_server  # noqa: E402

OUT = Path(__file__).resolve().parent
PAGES = [("overview", "/"), ("chargers", "/chargers"), ("charger", "/chargers/CP-1"),
         ("sessions", "/sessions"), ("session", "/sessions/{session}"), ("grid", "/grid"),
         ("costs", "/costs"), ("smart-charging", "/smart-charging"), ("settings", "/settings"),
         ("certificates", "/certificates")]
FRENCH = ("overview", "chargers", "charger", "sessions", "grid", "costs", "smart-charging")
WIDE, PHONE = {"width": 1440, "height": 900}, {"width": 390, "height": 844}
FIRST_SCREEN = ("sessions", "charger")  # long tables (sessions, message log): enough to see


def _shoot(page, name: str, path: str, file: str) -> None:
    page.goto(path)
    if path == "/chargers/CP-1":
        page.locator("#charger-security").wait_for()  # loaded by htmx
    if name == "smart-charging":
        page.locator("form[action='/smart-charging/whatif'] button").click()
        page.get_by_test_id("whatif-table").wait_for(timeout=60_000)
    page.wait_for_timeout(300)
    page.screenshot(path=OUT / file, full_page=name not in FIRST_SCREEN)
    print("wrote", OUT / file)


def main() -> int:
    from playwright.sync_api import sync_playwright

    if chromium_path() is None:
        print("chromium not found: apt-get install -y chromium", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), open_mode=True)
        fleet = None
        try:
            last_history_session = seed_history(server)
            add_user(server, "admin", "admin")
            fleet = Fleet(server.ocpp_url, ["CP-1", "CP-2", "CP-3", "CP-4"]).start()
            time.sleep(4)  # a few live meter values
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
                ctx = browser.new_context(base_url=server.http_url, viewport=WIDE)
                page = ctx.new_page()
                for file, size in (("login.png", WIDE), ("login-mobile.png", PHONE)):
                    page.set_viewport_size(size)
                    _shoot(page, "login", "/login?lang=en", file)
                page.set_viewport_size(WIDE)
                page.get_by_label("Username").fill("admin")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                page.wait_for_url("**/")
                page.goto("/chargers/CP-1")
                page.get_by_role("button", name="Trigger message").click()
                page.locator("#outbox tbody tr", has_text="TriggerMessage").locator(
                    ".state-accepted").first.wait_for()
                pages = [(name, path.format(session=last_history_session))
                         for name, path in PAGES]
                known = {path for _, path in PAGES}
                pages += [(href.strip("/"), href) for href in page.locator("nav a").evaluate_all(
                    "as => as.map(a => a.getAttribute('href'))") if href not in known]
                for lang, size, suffix in (("en", WIDE, ""), ("fr", WIDE, "-fr"),
                                           ("en", PHONE, "-mobile")):
                    page.set_viewport_size(size)
                    for name, path in pages:
                        if lang == "fr" and name not in FRENCH:
                            continue
                        _shoot(page, name, f"{path}?lang={lang}", f"{name}{suffix}.png")
                page.goto("/?lang=en")
                browser.close()
        finally:
            if fleet:
                fleet.stop()
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
