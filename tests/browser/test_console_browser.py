"""The console in headless Chromium (Debian's package, never a downloaded browser): log in, open
every page, see live values change without a reload, send a command and see its result, change
the policy, switch to French, and check that a viewer has no command buttons."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.browser.harness import CHROMIUM_ARGS, PASSWORD, chromium_path, live_console

pytestmark = [pytest.mark.browser, pytest.mark.store,
              pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed")]

PAGES = [("/", "Overview"), ("/chargers", "Chargers"), ("/chargers/CP-1", "Charger CP-1"),
         ("/sessions", "Sessions"), ("/sessions/1", "Session #1"), ("/grid", "Grid"),
         ("/costs", "Costs"), ("/smart-charging", "Smart charging"), ("/settings", "Settings")]


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    with live_console(tmp_path_factory.mktemp("console")) as (server, fleet):
        yield server


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _login(browser, console, user: str):
    context = browser.new_context(base_url=console.http_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/")
    assert "/login" in page.url
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))
    return page


def test_login_rejects_a_wrong_password(browser, console):
    context = browser.new_context(base_url=console.http_url)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong username or password."
    context.close()


def test_every_page_opens(browser, console):
    page = _login(browser, console, "admin")
    refused: list[str] = []  # what the Content-Security-Policy blocked (inline code, eval)
    page.on("console", lambda m: refused.append(m.text)
            if "Content Security Policy" in m.text else None)
    for path, heading in PAGES:
        response = page.goto(path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert page.locator("h1").inner_text().startswith(heading), path
        assert page.locator("main").count() == 1 and page.locator("nav").count() == 1
        page.wait_for_timeout(300)  # htmx loads and polls
    assert refused == []
    page.context.close()


def test_live_values_change_without_reload(browser, console):
    page = _login(browser, console, "operator")
    page.evaluate("window.__same_document = true")
    power = page.get_by_test_id("ev-power")
    first = power.inner_text()
    page.wait_for_function(
        "old => document.querySelector('[data-testid=ev-power]').textContent !== old", arg=first)
    assert page.evaluate("window.__same_document") is True  # htmx swapped, no reload
    assert int(page.get_by_test_id("active-sessions").inner_text()) == 2
    page.goto("/chargers/CP-1")
    page.evaluate("window.__same_document = true")
    energy = page.get_by_test_id("session-energy").first.inner_text()
    page.wait_for_function(
        "old => document.querySelector('[data-testid=session-energy]').textContent !== old",
        arg=energy)
    assert page.evaluate("window.__same_document") is True
    page.context.close()


def test_send_a_command_and_see_its_result(browser, console):
    page = _login(browser, console, "operator")
    page.goto("/chargers/CP-1")
    page.get_by_label("Trigger message").select_option("Heartbeat")
    page.get_by_role("button", name="Trigger message").click()
    # the control loop may add its own commands: find ours by action and source
    row = page.locator("#outbox tbody tr", has_text="TriggerMessage").filter(
        has_text="console").first
    row.locator(".state-accepted").wait_for()  # the outbox polled the charger's answer in
    assert '"status": "Accepted"' in row.inner_text()
    page.context.close()


def test_change_the_policy(browser, console):
    page = _login(browser, console, "operator")
    page.goto("/smart-charging")
    page.locator("#pol-select").select_option("peak_shaving")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    assert page.get_by_test_id("current-policy").inner_text() == "Peak shaving"
    engine = sa.create_engine(console.database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT policy FROM sites")).scalar_one() == "peak_shaving"
    engine.dispose()
    page.get_by_role("button", name="Run").click()
    page.get_by_test_id("whatif-table").wait_for(timeout=30_000)
    assert "Peak shaving ★" in page.get_by_test_id("whatif-table").inner_text()
    page.context.close()


def test_french_labels_and_viewer_has_no_commands(browser, console):
    page = _login(browser, console, "viewer")
    page.goto("/?lang=fr")
    assert page.locator("h1").inner_text().startswith("Vue d'ensemble")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.goto("/chargers/CP-1")  # the language is remembered in a cookie
    assert "Votre rôle (lecteur) ne permet pas d'envoyer des commandes." in page.content()
    assert page.get_by_role("button", name="Déclencher un message").count() == 0
    page.context.close()


def test_small_screen_has_no_horizontal_scroll(browser, console):
    page = _login(browser, console, "admin")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    page.context.close()
