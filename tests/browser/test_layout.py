"""Layout of every console page in headless Chromium (Debian's package) at 1440 px and 390 px
(a phone), in English and in French: the page never scrolls sideways, and no visible element
sticks out of its card (``.card`` or ``.tile``; the viewport outside cards), nor an SVG chart's
drawing out of its ``<svg>`` (which clips it). Data: 30 days of history for 12 chargers, a site,
and two scripted 1.6 chargers charging live."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.harness import (
    CHROMIUM_ARGS,
    PASSWORD,
    Fleet,
    add_user,
    chromium_path,
    seed_history,
)
from tests.server import start_server

pytestmark = [pytest.mark.browser, pytest.mark.store,
              pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed")]

WIDTHS = (1440, 390)
LANGS = ("en", "fr")
PAGES = ("/", "/chargers", "/chargers/CP-1", "/sessions", "/sessions/{session}", "/grid",
         "/costs", "/smart-charging", "/settings", "/certificates", "/login")

# What sticks out, as "tag#id.class 'text' +Npx (container)" strings; skips the visually hidden
# (.sr, .skip), what is not rendered (display:none, closed <details>, zero-size boxes) and <title>.
PROBE = """() => {
  const vw = window.innerWidth, out = [];
  const name = el => {
    const cls = typeof el.className === 'string' ? el.className : (el.className.baseVal || '');
    return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (cls ? '.' + cls.trim().split(/\\s+/).join('.') : '');
  };
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.sr, .skip, title, option, script, style, template')) continue;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    let box, where;
    if (el instanceof SVGElement && el.tagName.toLowerCase() !== 'svg') {
      let svg = el.ownerSVGElement;
      while (svg.ownerSVGElement) svg = svg.ownerSVGElement;
      box = svg.getBoundingClientRect(); where = 'its svg';
    } else {
      const card = el.parentElement && el.parentElement.closest('.card, .tile');
      box = card ? card.getBoundingClientRect() : {left: 0, right: vw};
      where = card ? name(card) : 'viewport';
    }
    const over = Math.max(r.right - box.right, box.left - r.left);
    if (over > 1) {
      const text = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
      out.push(`${name(el)} '${text}' +${Math.round(over)}px (${where})`);
    }
  }
  return {page: document.documentElement.scrollWidth - vw, out};
}"""


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("layout"), open_mode=True)
    fleet = None
    try:
        last_history_session = seed_history(server, chargers=12)
        add_user(server, "admin", "admin")
        fleet = Fleet(server.ocpp_url, ["CP-1", "CP-2"]).start()
        time.sleep(3)  # a few live meter values
        yield server, last_history_session
    finally:
        if fleet:
            fleet.stop()
        server.stop()


@pytest.fixture(scope="module")
def pages(console):
    """One logged-in page per language (the language is remembered in a cookie), and one
    logged-out page for /login."""
    from playwright.sync_api import sync_playwright

    server, _ = console
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        out = {}
        for lang in LANGS:
            page = browser.new_context(base_url=server.http_url).new_page()
            page.set_default_timeout(15_000)
            page.goto(f"/login?lang={lang}")
            out[("anon", lang)] = browser.new_context(base_url=server.http_url).new_page()
            page.locator("#username, input[name=username]").first.fill("admin")
            page.locator("input[type=password]").first.fill(PASSWORD)
            page.locator("form button[type=submit]").first.click()
            page.wait_for_url(re.compile(r"/$"))
            out[("admin", lang)] = page
        yield out
        browser.close()


def _open(page, console, path: str, lang: str) -> None:
    _, last_history_session = console
    response = page.goto(path.format(session=last_history_session) + f"?lang={lang}")
    assert response.status == 200, f"{path}: HTTP {response.status}"
    if path == "/chargers/CP-1":
        page.locator("#charger-security").wait_for()  # loaded by htmx
    if path == "/smart-charging":  # the what-if result: two more tables and a chart
        page.locator("#whatif form button, form[action='/smart-charging/whatif'] button").first.click()
        page.get_by_test_id("whatif-table").wait_for(timeout=60_000)
    page.wait_for_timeout(200)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", PAGES)
def test_nothing_overflows_its_card(pages, console, path, width, lang):
    page = pages[("anon" if path == "/login" else "admin", lang)]
    page.set_viewport_size({"width": width, "height": 900})
    _open(page, console, path, lang)
    assert page.locator("html").get_attribute("lang") == lang
    found = page.evaluate(PROBE)
    assert found["page"] <= 0, f"{path} scrolls sideways by {found['page']} px at {width} px"
    assert found["out"] == [], (f"{len(found['out'])} elements stick out at {width} px on "
                                f"{path} ({lang}):\n" + "\n".join(found["out"][:40]))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_pages_added_to_the_menu_are_checked_too(pages, console, width, lang):
    """Every menu entry not in PAGES (a page added later) passes the same check."""
    page = pages[("admin", lang)]
    page.set_viewport_size({"width": width, "height": 900})
    _open(page, console, "/", lang)
    others = [href for href in page.locator("nav a").evaluate_all("as => as.map(a => "
                                                                  "a.getAttribute('href'))")
              if href not in PAGES]
    problems = []
    for href in others:
        _open(page, console, href, lang)
        found = page.evaluate(PROBE)
        if found["page"] > 0 or found["out"]:
            problems.append(f"{href}: scrolls sideways by {found['page']} px; "
                            + "\n".join(found["out"][:20]))
    assert problems == [], f"at {width} px ({lang}):\n" + "\n".join(problems)
