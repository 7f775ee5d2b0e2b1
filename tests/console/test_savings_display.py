"""Savings are shown only when there is something to compare: "n/a", never a 0 or a negative
figure from a day without charging (issue 13)."""

from __future__ import annotations


async def test_savings_without_any_charging_today_are_n_a(services, client_for):
    viewer = await client_for("viewer")
    overview = (await viewer.get("/")).text
    assert "n/a (no charging today yet)" in overview
    french = await client_for("viewer", lang="fr")
    assert "n/d (aucune recharge aujourd&#39;hui)" in (await french.get("/costs")).text
