"""The costs page's numbers mean something (issue 13): savings are "n/a" on a day without
charging, never a 0 or a negative figure, and "this month" is never below "today"."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from csms import clock
from tests.ocpp.clients import iso, raw

ROW = re.compile(r'<tr><th scope="row">([^<]+)</th><td class="num">([\d.,-]+)</td><td[^>]*>'
                 r'[^<]*</td><td class="num">([\d.,-]+)</td>')


async def test_savings_without_any_charging_today_are_n_a(services, client_for):
    viewer = await client_for("viewer")
    overview = (await viewer.get("/")).text
    assert "n/a (no charging today yet)" in overview
    french = await client_for("viewer", lang="fr")
    assert "n/d (aucune recharge aujourd&#39;hui)" in (await french.get("/costs")).text


async def test_this_month_is_never_below_today(services, client_for):
    """Today counts the registers' gains; the session row of this charger has no energy (its
    meterStart is implausible and not used), so a month summed from session rows alone showed
    0 kWh beside today's 27 kWh."""
    async with raw(services.ocpp_url, "CP-MONTH", "ocpp1.6") as ws:
        async def call(uid, action, payload):
            await ws.send(json.dumps([2, uid, action, payload]))
            return json.loads(await ws.recv())[2]

        start = clock.now() - timedelta(minutes=50)
        tx = (await call("s", "StartTransaction", {"connectorId": 1, "idTag": "T",
                                                   "meterStart": -40, "timestamp": iso(start)}))[
            "transactionId"]
        for m in range(0, 50, 5):
            await call(f"mv{m}", "MeterValues", {"connectorId": 1, "transactionId": tx,
                                                 "meterValue": [{"timestamp": iso(
                start + timedelta(minutes=m)), "sampledValue": [
                {"value": str(600 * m), "measurand": "Energy.Active.Import.Register",
                 "unit": "Wh"}]}]})
    viewer = await client_for("viewer")
    page = (await viewer.get("/costs")).text
    rows = ROW.findall(page)
    assert rows, page[:2000]
    today = sum(float(t.replace(",", "")) for _, t, _ in rows)
    month = sum(float(m.replace(",", "")) for _, _, m in rows)
    assert today > 20  # 27 kWh in 45 min
    assert month >= today - 0.2, rows  # the month column has one decimal


async def test_payback_counts_chargers_of_unknown_rating_as_the_default_evse(services):
    from sqlmodel import Session

    from csms.sites.economics import charger_kinds
    from csms.store.tables import ChargerRow

    with Session(services.engine) as s:
        for cid, kind, max_w in (("K-AC", "AC", None), ("K-AC7", "AC", 7_400.0),
                                 ("K-DC", "DC", None), ("K-DC150", "DC", 150_000.0)):
            s.add(ChargerRow(id=cid, registered_at=clock.now(), charger_type=kind,
                             max_power_w=max_w))
        s.commit()
        assert charger_kinds(s) == {"ac7": 1, "ac22": 1, "dc50": 1, "dc150": 1}
