"""Pure parts of the console and what it reads: SOC bands, history spread, profile limits,
charger classes, labels. Hand-computed expectations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csms.sites import history, live
from csms.web.console import i18n, profiles, svg

T0 = datetime(2026, 4, 15, tzinfo=UTC)


@pytest.mark.parametrize("socs, expected", [
    ([], {"optimal": 0, "good": 0, "critical": 0}),
    ([0, 49.9, 50, 70, 70.1, 100], {"optimal": 2, "good": 2, "critical": 2}),
])
def test_soc_bands(socs, expected):
    assert live.soc_bands(socs) == expected


@pytest.mark.parametrize("ctype, max_w, expected", [
    (None, None, "ac"), ("AC", 22_000, "ac"), ("DC", 50_000, "dc_fast"),
    ("DC", None, "dc_fast"), ("dc", 150_000, "dc_ultra"), ("DC", 350_000, "dc_ultra")])
def test_charger_class(ctype, max_w, expected):
    assert live.charger_class(ctype, max_w) == expected


def test_spread_kw():
    # 2 kWh from 450 s to 2250 s (0.5 h at 4 kW): periods get 2, 4, 2 kW mean
    out = history.spread_kw([(450.0, 2250.0, 2000.0)], 0.0, 4)
    assert out == pytest.approx([2.0, 4.0, 2.0, 0.0])
    assert history.spread_kw([(100.0, 100.0, 250.0)], 0.0, 2) == pytest.approx([1.0, 0.0])


@given(st.lists(st.tuples(st.floats(0, 86_000), st.floats(0, 40_000), st.floats(0, 1e5)),
                max_size=20))
def test_spread_conserves_energy_inside_the_window(items):
    intervals = [(a, a + d, e) for a, d, e in items if a + d <= 86_400]
    out = history.spread_kw(intervals, 0.0, 96)
    assert out.sum() * 0.25 * 1000 == pytest.approx(sum(e for *_, e in intervals), abs=1e-3)


def test_profile_periods_1_6_amps_and_2_0_1_watts():
    sent = T0
    p16 = {"connectorId": 1, "csChargingProfiles": {"chargingSchedule": {
        "chargingRateUnit": "A", "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 16.0, "numberPhases": 1},
            {"startPeriod": 3600, "limit": 10.0}]}}}
    ps = profiles.periods(p16, sent)
    assert [(p.start, p.limit_w) for p in ps] == [(T0, 16 * 230.0),
                                                 (T0 + timedelta(hours=1), 10 * 230.0 * 3)]
    assert profiles.limit_at(ps, T0 + timedelta(minutes=59)) == 16 * 230.0
    assert profiles.limit_at(ps, T0 - timedelta(seconds=1)) is None
    p201 = {"evseId": 1, "chargingProfile": {"chargingSchedule": [{
        "startSchedule": "2026-04-15T02:00:00Z", "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400}]}]}}
    ps = profiles.periods(p201, sent)
    assert ps[0].start == T0 + timedelta(hours=2) and ps[0].limit_w == 7400


def test_every_label_has_english_and_french():
    for key, (en, fr) in i18n.LABELS.items():
        assert en and fr, key
        assert en.count("{") == fr.count("{"), key
    assert i18n.translate("fr", "overview") == "Vue d'ensemble"
    assert i18n.translate("en", "alert_offline", "CP-1") == "Charger CP-1 is offline"
    assert i18n.pick_lang("de", "fr", "en") == "fr"
    assert i18n.pick_lang(None, None, None) == "en"


def test_svg_charts_are_labelled_images():
    chart = svg.line_chart("Load", ["00:00", "00:15"], [("EV", [1.0, float("nan")])], limit=5.0)
    assert 'role="img" aria-label="Load"' in chart and "<title>Load</title>" in chart
    radar = svg.radar_chart("PQ", [("THD", 0.5), ("PF", 1.2)])
    assert radar.count("<text") == 2
    bars = svg.bar_chart("E", ["a", "b"], [("x", [1.0, 2.0])])
    assert bars.count('class="bar s0"') == 2


def test_every_binding_constraint_has_words():
    from csms.charging.why import POLICY_REASON
    from csms.sites.phases import PHASE_NAMES
    from csms.web.console.i18n import REASONS, reason

    codes = {*POLICY_REASON.values(), *PHASE_NAMES, "not_present", "ev_max", "frequency",
             "energy_met", "site_limit", "v2g", "min_current", "floor", "failsafe",
             "not_obeying"}
    assert codes <= set(REASONS), codes - set(REASONS)
    assert reason("en", "min_current") == "below the minimum charging current"
    assert reason("fr", "site_limit") == "limite du site"
    assert reason("en", "something_new") == "something_new" and reason("en", None) == "-"


def test_every_policy_and_voltage_level_has_words_in_both_languages():
    from csms.charging import POLICIES
    from csms.web.console.i18n import LABELS

    for key in [f"policy_{p}" for p in POLICIES] + ["level_LV", "level_MV", "level_HV"]:
        en, fr = LABELS[key]
        assert en and fr and en != key
    assert LABELS["level_MV"] == ("MV", "MT")


def test_numbers_never_show_a_negative_zero():
    from csms.web.console.render import _num

    assert _num(-0.001, 2) == "0.00" and _num(-0.004) == "0.0"
    assert _num(-0.006, 2) == "-0.01" and _num(1234.5, 1) == "1\u202f234.5"
