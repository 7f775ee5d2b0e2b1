"""Forms, not JSON (issue 13): the settings page's tariff editor, policy parameters and ROI
inputs go through the API's rule (sites.service.validate). A bad form gets a clear error next to
it and changes nothing; a good one changes the costs and the payback, which the REST API
computes the same way."""

from __future__ import annotations

import html
import json
import math
from datetime import datetime, time, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from csms import clock
from csms.economics.savings import DAYS_PER_MONTH
from csms.store.tables import ChargerRow, SessionRow, SiteRow

pytestmark = pytest.mark.store
TZ = ZoneInfo("Africa/Casablanca")


class _Fields(HTMLParser):
    """The fields one form of a page would submit (inputs, checked boxes and radios)."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        elif tag == "input" and self.inside and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields[a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def form_fields(html: str, form_id: str) -> dict:
    parser = _Fields(form_id)
    parser.feed(html)
    assert parser.fields, f"no form {form_id!r} on the page"
    return parser.fields


def _site(services, n_chargers: int = 1) -> int:
    """A site with ``n_chargers`` 22 kW AC chargers (the payback's 'ac22')."""
    with Session(services.engine) as s:
        site = SiteRow(name="depot", created_at=clock.now())
        s.add(site)
        s.flush()
        for i in range(n_chargers):
            s.add(ChargerRow(id=f"ROI-{i}", registered_at=clock.now(), site_id=site.id,
                             charger_type="AC", max_power_w=22_000.0))
        s.commit()
        return site.id


def _sessions(services, days_ago: list[int], kwh: float, start_h: int = 10, hours: int = 4):
    """Finished sessions of ``kwh`` each, local ``start_h``:00 for ``hours`` h (ONEE 'normal',
    05:00-18:00, 1.35 MAD/kWh), on days well inside the payback's 30-day window."""
    today = clock.now().astimezone(TZ).date()
    with Session(services.engine) as s:
        for n, d in enumerate(days_ago):
            start = datetime.combine(today - timedelta(days=d), time(start_h), TZ)
            s.add(SessionRow(charger_id="ROI-0", protocol="1.6", transaction_ref=f"r{n}",
                             evse_id=1, started_at=start, started_received_at=start,
                             stopped_at=start + timedelta(hours=hours),
                             stopped_received_at=start + timedelta(hours=hours),
                             meter_start_wh=0.0, meter_stop_wh=kwh * 1000, energy_wh=kwh * 1000,
                             active=False))
        s.commit()


def _stored(services, site_id: int) -> SiteRow:
    with Session(services.engine) as s:
        return s.get(SiteRow, site_id)


async def _tariff_form(admin, site_id: int) -> dict:
    page = (await admin.get("/settings")).text
    fields = form_fields(page, f"site{site_id}-tariff-form")
    fields["csrf_token"] = admin.csrf
    return fields


async def test_the_editor_shows_the_onee_default_and_saves_it_back(services, client_for):
    site_id = _site(services)
    admin = await client_for("admin")
    fields = await _tariff_form(admin, site_id)
    # The default's bands and prices are fields, not JSON.
    assert (fields["band0_name"], fields["band0_price"]) == ("peak", "1.85")
    assert fields["tariff_mode"] == "default"
    assert fields["s0_d0_b0_band"] == "offpeak" and fields["s0_d0_b0_start"] == "22:00"
    fields["tariff_mode"] = "custom"
    r = await admin.post("/settings/tariff", data=fields)
    assert r.status_code == 200 and 'data-testid="tariff-error"' not in r.text, r.text[:3000]
    stored = _stored(services, site_id).tariff
    assert stored["prices_mad_per_kwh"] == {"peak": 1.85, "normal": 1.35, "offpeak": 0.95}
    assert len(stored["seasons"]) == 1 and stored["seasons"][0]["start"] == "01-01"
    assert 'name="tariff_mode" value="custom" checked' in r.text


BAD_TARIFFS = [
    # (what, field changes, words of the message)
    ("overlapping bands", {"s0_d0_b1_end": "19:00"}, "overlaps"),
    ("negative price", {"band1_price": "-0.5"}, ">= 0"),
    ("NaN price", {"band0_price": "nan"}, "finite number"),
    ("missing hours", {"s0_d0_b3_band": "", "s0_d0_b3_start": "", "s0_d0_b3_end": ""},
     "uncovered"),
    ("a year not covered", {"s0_end": "06-30"}, "in no season"),
    ("a price that is no number", {"band2_price": "cheap"}, "is not a number"),
    ("a half-filled row", {"s0_d0_b4_band": "peak"}, "needs its band, start and end"),
]


@pytest.mark.parametrize("what,changes,words", BAD_TARIFFS, ids=[b[0] for b in BAD_TARIFFS])
async def test_a_bad_tariff_gets_a_clear_error_and_changes_nothing(services, client_for, what,
                                                                    changes, words):
    site_id = _site(services)
    admin = await client_for("admin")
    before = _stored(services, site_id).tariff
    fields = {**await _tariff_form(admin, site_id), "tariff_mode": "custom", **changes}
    r = await admin.post("/settings/tariff", data=fields)
    assert r.status_code == 200
    form = r.text[r.text.index(f'id="site{site_id}-tariff-form"'):]
    error = html.unescape(form[form.index('data-testid="tariff-error"'):][:400])
    assert "Not saved, nothing changed" in error and words in error, error
    assert "tariff.seasons[" not in error  # JSON paths become the form's names
    assert _stored(services, site_id).tariff == before


async def test_the_error_names_the_season_and_row_in_french_too(services, client_for):
    site_id = _site(services)
    admin = await client_for("admin", lang="fr")
    fields = {**await _tariff_form(admin, site_id), "tariff_mode": "custom",
              "s0_d0_b1_end": "19:00"}
    r = await admin.post("/settings/tariff", data=fields)
    assert "Non enregistré, rien n&#39;a changé" in r.text
    assert "season &#39;all-year&#39;, days &#39;every-day&#39;, band row 3" in r.text
    # The refused draft is shown again to correct, not the stored values.
    assert 'name="s0_d0_b1_end" value="19:00"' in r.text


async def test_a_good_tariff_changes_the_costs(services, client_for, api):
    site_id = _site(services)
    _sessions(services, [3], kwh=10.0)
    admin = await client_for("admin")
    viewer = api.tokens["viewer"]
    before = (await api.get(f"/api/v1/sites/{site_id}/payback", headers=viewer)).json()
    # The site's history is its one session (3 days ago), scaled to a month.
    per_month = DAYS_PER_MONTH / before["window_days"]
    assert 2 < before["window_days"] < 4
    assert before["energy_cost_mad_per_month"] == pytest.approx(10.0 * 1.35 * per_month)
    # One flat band all day, all year, at 2.00 MAD/kWh: the form's own fields, rewritten.
    fields = {k: v for k, v in (await _tariff_form(admin, site_id)).items()
              if not k.startswith(("band", "s0_d0_b"))}
    fields.update({"tariff_mode": "custom", "t_name": "flat", "t_peak_band": "flat",
                   "band0_name": "flat", "band0_price": "2,00",  # a French decimal comma
                   "s0_d0_b0_band": "flat", "s0_d0_b0_start": "00:00",
                   "s0_d0_b0_end": "24:00"})
    r = await admin.post("/settings/tariff", data=fields)
    assert 'data-testid="tariff-error"' not in r.text
    assert _stored(services, site_id).tariff["prices_mad_per_kwh"] == {"flat": 2.0}
    after = (await api.get(f"/api/v1/sites/{site_id}/payback", headers=viewer)).json()
    assert after["energy_cost_mad_per_month"] == pytest.approx(10.0 * 2.0 * per_month, rel=1e-3)
    costs = (await admin.get("/costs")).text
    shown = f"{after['energy_cost_mad_per_month']:,.2f}".replace(",", "\u202f")
    assert f'data-testid="payback-energy-cost">{shown} MAD<' in costs
    # Back to the default in one choice.
    fields["tariff_mode"] = "default"
    await admin.post("/settings/tariff", data=fields)
    assert _stored(services, site_id).tariff == {"name": "onee-default"}


async def test_policy_parameters_are_fields_with_bounds(services, client_for):
    site_id = _site(services)
    admin = await client_for("admin")
    page = (await admin.get("/settings")).text
    assert "Limit lease (s)" in page and "empty: 30 control periods" in page
    base = {"csrf_token": admin.csrf, "site_id": str(site_id), "policy": "peak_shaving"}
    for field, value, words in (("pp_lease_s", "5", "lease_s (s) must be >= 60"),
                                ("pp_default_energy_kwh", "nan", "default_energy_kwh"),
                                ("pp_plan_period_s", "1e9", "<= 3600"),
                                ("pp_phase_limit_kw", "0", "> 0")):
        r = await admin.post("/settings/policy", data={**base, field: value})
        error = html.unescape(r.text[r.text.index('data-testid="policy-error"'):][:300])
        assert words in error, (field, error)
        row = _stored(services, site_id)
        assert (row.policy, row.policy_params) == ("load_balancing", {})
    r = await admin.post("/settings/policy", data={**base, "pp_lease_s": "900",
                                                    "pp_default_energy_kwh": "30"})
    assert 'data-testid="policy-error"' not in r.text
    row = _stored(services, site_id)
    assert row.policy == "peak_shaving"
    assert row.policy_params == {"lease_s": 900.0, "default_energy_kwh": 30.0}
    french = await client_for("admin", lang="fr")
    assert "Durée de validité d&#39;une limite (s)" in (await french.get("/settings")).text


def _hand_payback(kwh, price_buy, chargers, capex, install, maint_pct, software, sell, grid):
    """The formula as the costs page states it, written out independently."""
    hardware = capex * chargers
    opex = hardware * maint_pct / 100 / 12 + software * chargers
    margin = kwh * sell - kwh * price_buy - opex
    return (hardware + install * chargers + grid) / margin


async def test_roi_inputs_are_stored_and_change_the_payback(services, client_for, api):
    site_id = _site(services, n_chargers=2)
    _sessions(services, list(range(1, 26)), kwh=80.0)  # 2,000 kWh at 1.35 MAD/kWh
    admin = await client_for("admin")
    viewer = api.tokens["viewer"]
    default = (await api.get(f"/api/v1/sites/{site_id}/payback", headers=viewer)).json()
    # 25 days of history (the first session 25 days ago), scaled to a month.
    assert 24 < default["window_days"] < 26
    monthly_kwh = 2000 * DAYS_PER_MONTH / default["window_days"]
    # The defaults of csms.economics: 25,000 + 15,000 MAD per 22 kW charger, 5 %/year,
    # 150 MAD/charger/month, 3 MAD/kWh, no grid works.
    assert default["months"] == pytest.approx(
        _hand_payback(monthly_kwh, 1.35, 2, 25_000, 15_000, 5, 150, 3.0, 0))
    r = await admin.post("/settings/economics", data={
        "csrf_token": admin.csrf, "site_id": str(site_id), "capex_ac22": "20000",
        "install_ac22": "10000", "econ_maintenance_pct_of_hardware_per_year": "6",
        "econ_software_mad_per_charger_month": "100", "econ_selling_price_mad_per_kwh": "4",
        "econ_grid_connection_capex_mad": "15000", "econ_fleet_size": "10"})
    assert 'data-testid="economics-error"' not in r.text
    assert _stored(services, site_id).economics == {
        "charger_capex_mad": {"ac22": 20000.0}, "installation_mad": {"ac22": 10000.0},
        "maintenance_pct_of_hardware_per_year": 6.0, "software_mad_per_charger_month": 100.0,
        "selling_price_mad_per_kwh": 4.0, "grid_connection_capex_mad": 15000.0,
        "fleet_size": 10}
    expected = _hand_payback(monthly_kwh, 1.35, 2, 20_000, 10_000, 6, 100, 4.0, 15_000)
    got = (await api.get(f"/api/v1/sites/{site_id}/payback", headers=viewer)).json()
    assert got["months"] == pytest.approx(expected)
    assert got["months"] < default["months"]
    assert got["result"]["capex_mad"] == pytest.approx(75_000)
    assert got["capex_mad_per_vehicle"] == pytest.approx(7_500)
    costs = (await admin.get("/costs")).text
    assert f'data-testid="payback-months">{expected:.1f} months<' in costs
    assert "How it is computed" in costs and 'href="/settings#economics-' in costs
    # Out of range: refused next to the form, nothing changed.
    for field, value in (("capex_ac7", "-1"), ("econ_fleet_size", "2.5"),
                         ("econ_selling_price_mad_per_kwh", "nan"),
                         ("econ_maintenance_pct_of_hardware_per_year", "150")):
        r = await admin.post("/settings/economics", data={
            "csrf_token": admin.csrf, "site_id": str(site_id), field: value})
        assert 'data-testid="economics-error"' in r.text, field
        assert _stored(services, site_id).economics["fleet_size"] == 10
    # A margin that is not positive: never, in the API (null) and on the page.
    await admin.post("/settings/economics", data={
        "csrf_token": admin.csrf, "site_id": str(site_id), "econ_selling_price_mad_per_kwh": "1"})
    got = (await api.get(f"/api/v1/sites/{site_id}/payback", headers=viewer)).json()
    assert got["months"] is None and got["result"]["months"] is None
    assert 'data-testid="payback-months">never at this margin<' in (await admin.get("/costs")).text


def _bands(*rows):
    return {"name": "t", "prices_mad_per_kwh": {"a": 1.0, "b": 2.0}, "seasons": [
        {"name": "all", "start": "01-01", "end": "12-31", "day_types": [
            {"name": "all", "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
             "bands": [{"band": b, "start": s, "end": e} for b, s, e in rows]}]}]}


REST_BAD = [
    ("overlap", _bands(("a", "00:00", "13:00"), ("b", "12:00", "24:00")), "overlaps"),
    ("gap", _bands(("a", "00:00", "12:00"), ("b", "13:00", "24:00")), "uncovered"),
    ("negative", {**_bands(("a", "00:00", "24:00")), "prices_mad_per_kwh": {"a": -1.0}},
     ">= 0"),
    ("nan", {**_bands(("a", "00:00", "24:00")), "prices_mad_per_kwh": {"a": math.nan}},
     "finite"),
    ("not an object", "onee-default", "dictionary"),
]


@pytest.mark.parametrize("what,tariff,words", REST_BAD, ids=[b[0] for b in REST_BAD])
async def test_the_api_refuses_the_same_bad_tariffs(api, what, tariff, words):
    admin = api.tokens["admin"]
    site = (await api.post("/api/v1/sites", json={"name": "s"}, headers=admin)).json()
    # json.dumps writes NaN as the bare token NaN, which a JSON reader in Python accepts.
    r = await api.patch(f"/api/v1/sites/{site['id']}", content=json.dumps({"tariff": tariff}),
                        headers={**admin, "content-type": "application/json"})
    assert r.status_code == 422 and words in str(r.json()["detail"]), r.text
    after = (await api.get(f"/api/v1/sites/{site['id']}", headers=admin)).json()
    assert after["tariff"] == site["tariff"]
    ok = await api.patch(f"/api/v1/sites/{site['id']}",
                         json={"tariff": _bands(("a", "00:00", "12:00"), ("b", "12:00", "24:00"))},
                         headers=admin)
    assert ok.status_code == 200


async def test_the_api_refuses_bad_policy_parameters_and_roi_inputs(api):
    admin = api.tokens["admin"]
    site = (await api.post("/api/v1/sites", json={"name": "s"}, headers=admin)).json()
    for body, words in (({"policy_params": {"lease_s": 1}}, "lease_s"),
                        ({"policy_params": {"lease": 600}}, "not a parameter"),
                        ({"economics": {"charger_capex_mad": {"ac99": 1}}}, "unknown charger kind"),
                        ({"economics": {"selling_price_mad_per_kwh": -3}}, ">= 0"),
                        ({"economics": {"fleet_size": 2.5}}, "whole number")):
        r = await api.patch(f"/api/v1/sites/{site['id']}", json=body, headers=admin)
        assert r.status_code == 422 and words in r.json()["detail"], (body, r.text)
    after = (await api.get(f"/api/v1/sites/{site['id']}", headers=admin)).json()
    assert (after["policy_params"], after["economics"]) == ({}, {})
    r = await api.patch(f"/api/v1/sites/{site['id']}",
                        json={"economics": {"selling_price_mad_per_kwh": 3.5}}, headers=admin)
    assert r.status_code == 200 and r.json()["economics"] == {"selling_price_mad_per_kwh": 3.5}
    payback = (await api.get(f"/api/v1/sites/{site['id']}/payback", headers=admin)).json()
    assert payback == {"site_id": site["id"], "months": None, "reason": "the site has no chargers"}
