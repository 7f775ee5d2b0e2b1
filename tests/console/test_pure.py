"""Pure parts of the console: energy per period, uncontrolled baseline, cost, SOC bands,
history spread, profile limits, charger classes, labels. Hand-computed expectations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csms.web.console import energy, fleet, history, i18n, profiles, svg

T0 = datetime(2026, 4, 15, tzinfo=UTC)


@pytest.mark.parametrize("rows, baselines, expected, by_session", [
    # meter_start 100 Wh, samples 400 then 1000 in periods 0 and 2
    ([(1, 60.0, 400.0), (1, 1900.0, 1000.0)], {1: 100.0}, [300, 0, 600, 0], {1: 900}),
    # started yesterday: the first sample is only a baseline
    ([(2, 60.0, 5000.0), (2, 1000.0, 5200.0)], {2: None}, [0, 200, 0, 0], {2: 200}),
    # a register going backwards delivers nothing and does not lower the baseline
    ([(3, 10.0, 500.0), (3, 20.0, 400.0), (3, 950.0, 700.0)], {3: 0.0}, [500, 200, 0, 0],
     {3: 700}),
    # two sessions in the same period add up
    ([(4, 100.0, 50.0), (5, 200.0, 80.0)], {4: 0.0, 5: 30.0}, [100, 0, 0, 0], {4: 50, 5: 50}),
])
def test_accumulate(rows, baselines, expected, by_session):
    out, last, per = np.zeros(4), {}, {}
    energy.accumulate(rows, baselines, 0.0, 900.0, out, last, per)
    assert out.tolist() == expected
    assert per == by_session


@given(st.lists(st.tuples(st.integers(1, 3), st.floats(0, 3599), st.floats(0, 1e5)),
                max_size=30))
def test_accumulate_never_negative_and_sums_per_session(rows):
    rows = sorted(rows, key=lambda r: r[1])
    out, per = np.zeros(4), {}
    energy.accumulate(rows, {1: 0.0, 2: None, 3: 10.0}, 0.0, 900.0, out, {}, per)
    assert np.all(out >= 0)
    assert out.sum() == pytest.approx(sum(per.values()))


def test_uncontrolled_fills_at_max_power_from_arrival():
    # 11 kWh at 22 kW from t=450 s: 0.5 h -> 450..2250 s: 2.75 kWh, 5.5 kWh, 2.75 kWh
    s = energy.TodaySessions(np.array([450.0]), np.array([11_000.0]), np.array([22.0]))
    assert energy.uncontrolled_wh(s, 900, 4) == pytest.approx([2750, 5500, 2750, 0])


@given(st.lists(st.tuples(st.floats(0, 80_000), st.floats(0, 50_000), st.floats(1, 150)),
                max_size=20))
def test_uncontrolled_conserves_energy_within_the_day(sessions):
    s = energy.TodaySessions(*(np.array(c, float).reshape(-1) for c in zip(*sessions, strict=True))) \
        if sessions else energy.TodaySessions(np.zeros(0), np.zeros(0), np.zeros(0))
    out = energy.uncontrolled_wh(s, 900, 96)
    end_s = s.start_s + s.energy_wh / (s.max_kw * 1000) * 3600
    inside = end_s <= 86400
    assert out.sum() >= s.energy_wh[inside].sum() - 1e-6
    assert out.sum() <= s.energy_wh.sum() + 1e-6


def test_cost_today_and_persistence_projection():
    prices = np.array([1.0, 2.0, 3.0, 4.0])
    e = np.array([1000.0, 500.0, 0.0, 0.0])  # 1 kWh at 1, 0.5 kWh at 2 -> 2 MAD
    c = energy.cost_today(e, np.array([1500.0, 0, 0, 0]), prices, elapsed_periods=1.5)
    assert c.cost_mad == pytest.approx(2.0)
    assert c.uncontrolled_mad == pytest.approx(1.5)
    assert c.savings_mad == pytest.approx(-0.5)
    # mean 1 kWh per period; rest = half of period 1 (1.0 MAD) + periods 2, 3 (3 + 4)
    assert c.projected_mad == pytest.approx(2.0 + 1.0 * (0.5 * 2.0 + 3.0 + 4.0))


@pytest.mark.parametrize("socs, expected", [
    ([], {"critical": 0, "low": 0, "normal": 0, "high": 0}),
    ([19.9, 20, 49.9, 50, 80, 80.1], {"critical": 1, "low": 2, "normal": 2, "high": 1}),
])
def test_soc_bands(socs, expected):
    assert fleet.soc_bands(socs) == expected


@pytest.mark.parametrize("ctype, max_w, expected", [
    (None, None, "ac"), ("AC", 22_000, "ac"), ("DC", 50_000, "dc_fast"),
    ("DC", None, "dc_fast"), ("dc", 150_000, "dc_ultra"), ("DC", 350_000, "dc_ultra")])
def test_charger_class(ctype, max_w, expected):
    assert fleet.charger_class(ctype, max_w) == expected


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
