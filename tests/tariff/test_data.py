"""Tariff file format: round trip, loading, seasons and weekday sets, validation messages."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from csms.tariff import DEFAULT_TARIFF, TARIFF_DIR, Tariff, load_tariff
from tests.tariff.helpers import default_dict, local


def test_default_is_the_bundled_file_and_round_trips():
    d = default_dict()
    assert DEFAULT_TARIFF.to_dict() == d
    again = Tariff.from_dict(json.loads(json.dumps(DEFAULT_TARIFF.to_dict())))
    assert again.to_dict() == d
    assert DEFAULT_TARIFF.spec.time_zone == "Africa/Casablanca"
    assert DEFAULT_TARIFF.spec.prices_mad_per_kwh == {"peak": 1.85, "normal": 1.35, "offpeak": 0.95}


def test_load_from_name_path_dict_and_tariff(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(default_dict()))
    for source in ("onee-default", TARIFF_DIR / "onee-default.json", path, default_dict(),
                   DEFAULT_TARIFF):
        assert load_tariff(source).to_dict() == DEFAULT_TARIFF.to_dict()


def test_unknown_name_lists_bundled_tariffs():
    with pytest.raises(ValueError, match="onee-default"):
        load_tariff("no-such-tariff")


def test_invalid_json_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="invalid JSON"):
        load_tariff(path)


def _seasonal() -> dict:
    """Winter Oct-Mar (wraps New Year) with a cheap weekend; summer Apr-Sep with dearer peak."""
    d = copy.deepcopy(default_dict())
    d["prices_mad_per_kwh"] = {"peak": 2.0, "normal": 1.5, "offpeak": 1.0}
    weekday_bands = d["seasons"][0]["day_types"][0]["bands"]
    d["seasons"] = [
        {"name": "winter", "start": "10-01", "end": "03-31", "day_types": [
            {"name": "weekday", "weekdays": ["mon", "tue", "wed", "thu", "fri"],
             "bands": weekday_bands},
            {"name": "weekend", "weekdays": [5, 6],
             "bands": [{"band": "offpeak", "start": "00:00", "end": "24:00"}]}]},
        {"name": "summer", "start": "04-01", "end": "09-30",
         "prices_mad_per_kwh": {"peak": 3.0},
         "day_types": [{"name": "all", "weekdays": list(range(7)), "bands": weekday_bands}]},
    ]
    return d


@pytest.mark.parametrize(("instant", "price"), [
    (local(2024, 12, 31, 19, 0), 2.0),  # Tuesday, winter, peak
    (local(2025, 1, 1, 19, 0), 2.0),  # Wednesday, winter after New Year
    (local(2025, 1, 4, 19, 0), 1.0),  # Saturday, winter weekend: all off-peak
    (local(2024, 7, 6, 19, 0), 3.0),  # Saturday in summer: season price override
    (local(2024, 7, 6, 12, 0), 1.5),  # summer normal keeps the tariff-wide price
    (local(2024, 3, 31, 19, 0), 1.0),  # Sunday 31 March, last winter day
    (local(2024, 4, 1, 19, 0), 3.0),  # Monday 1 April, first summer day
])
def test_seasons_and_weekdays(instant, price):
    t = load_tariff(_seasonal())
    assert t.price_at(instant) == price
    assert Tariff.from_dict(t.to_dict()).price_at(instant) == price


def test_season_change_at_local_midnight_in_a_series():
    t = load_tariff(_seasonal())
    # Sunday 31 March 23:00 -> Monday 1 April 01:00 local: weekend off-peak, then summer off-peak.
    start = local(2024, 3, 31, 18, 0)
    prices = t.prices_mad_per_kwh(start, 3600, 4)  # 18, 19, 20 h Sunday (weekend), 21 h
    assert list(prices) == [1.0, 1.0, 1.0, 1.0]
    prices = t.prices_mad_per_kwh(local(2024, 4, 1, 17, 0), 3600, 3)
    assert list(prices) == [1.5, 3.0, 3.0]


def _with(path: list, value, base: dict | None = None) -> dict:
    d = copy.deepcopy(base or default_dict())
    node = d
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return d


_DELETE = object()
_BANDS = ["seasons", 0, "day_types", 0, "bands"]


@pytest.mark.parametrize(("d", "message"), [
    (_with(["time_zone"], "Mars/Olympus"), "unknown time zone"),
    (_with(["prices_mad_per_kwh", "peak"], -1.0), "must be >= 0"),
    (_with(["prices_mad_per_kwh", "peak"], "cheap"), "finite number"),
    (_with(["prices_mad_per_kwh"], _DELETE), "missing required key 'prices_mad_per_kwh'"),
    (_with(["prices_mad_per_kwh"], {"normal": 1.0, "offpeak": 1.0}), "band 'peak' has no price"),
    (_with(_BANDS + [2, "end"], "20:00"), "uncovered, first at 20:00"),
    (_with(_BANDS + [2, "end"], "21:30"), "overlaps band 'peak' at 21:00"),
    (_with(_BANDS + [0, "start"], "25:00"), "out of range"),
    (_with(_BANDS + [0, "start"], "noon"), "not 'HH:MM'"),
    (_with(_BANDS + [1, "end"], "05:00"), "empty band"),
    (_with(["seasons", 0, "end"], "11-30"), "31 days of the year are in no season, first 12-01"),
    (_with(["seasons", 0, "start"], "02-30"), "not a valid 'MM-DD'"),
    (_with(["seasons", 0, "day_types", 0, "weekdays"], ["mon"]), "belong to no day type"),
    (_with(["seasons", 0, "day_types", 0, "weekdays"], ["mon", "funday"]), "unknown weekday"),
    (_with(["seasons"], []), "non-empty list"),
    (_with(["power_factor_penalty"], {"threshold_pf": 1.2, "penalty_pct_per_0_01": 1}), "<= 1"),
    ("not a dict", "must be an object"),
])
def test_validation_messages(d, message):
    with pytest.raises(ValueError, match=message):
        Tariff.from_dict(d)


def test_demand_charge_and_power_factor_penalty():
    d = _with(["demand_charge_mad_per_kw_month"], 40.0)
    d["subscribed_power_kw"] = 100.0
    d["power_factor_penalty"] = {"threshold_pf": 0.8, "penalty_pct_per_0_01": 1.0}
    t = Tariff.from_dict(d)
    assert t.demand_charge_mad(80.0) == 40.0 * 100.0  # billed at least the subscribed power
    assert t.demand_charge_mad(150.0, months=2) == 40.0 * 150.0 * 2
    assert t.power_factor_penalty_mad(1000.0, 0.75) == pytest.approx(1000.0 * 0.05)
    assert t.power_factor_penalty_mad(1000.0, 0.9) == 0.0
    assert DEFAULT_TARIFF.demand_charge_mad(500.0) == 0.0
    assert DEFAULT_TARIFF.power_factor_penalty_mad(1000.0, 0.5) == 0.0
    with pytest.raises(ValueError, match="power_factor"):
        t.power_factor_penalty_mad(1000.0, 1.5)
    with pytest.raises(ValueError, match="unknown band"):
        t.band_fraction("shoulder", local(2024, 1, 15, 0, 0), 900, 4)


def test_cost_by_band_hand_case():
    # 2 kW for the whole of 15 Jan 2024 local: 7 h off-peak, 14 h normal, 3 h peak.
    by_band = DEFAULT_TARIFF.cost_by_band(local(2024, 1, 15, 0, 0), 900, [2.0] * 96)
    assert by_band["offpeak"] == pytest.approx({"energy_kwh": 14.0, "cost_mad": 14 * 0.95})
    assert by_band["normal"] == pytest.approx({"energy_kwh": 28.0, "cost_mad": 28 * 1.35})
    assert by_band["peak"] == pytest.approx({"energy_kwh": 6.0, "cost_mad": 6 * 1.85})


def test_export_costs_nothing_and_bad_series_rejected():
    start = datetime(2024, 1, 15, 12, tzinfo=UTC)
    assert DEFAULT_TARIFF.cost_mad(start, 900, [-5.0, 4.0]) == pytest.approx(1.0 * 1.35)
    with pytest.raises(ValueError, match="1-D"):
        DEFAULT_TARIFF.cost_mad(start, 900, [[1.0, 2.0]])
    with pytest.raises(ValueError, match="NaN"):
        DEFAULT_TARIFF.cost_mad(start, 900, [float("nan")])
    with pytest.raises(ValueError, match="period_s"):
        DEFAULT_TARIFF.prices_mad_per_kwh(start, 0, 3)
