"""The settings page's per-site forms: the tariff editor, the policy parameters and the ROI
inputs. Stored data -> the fields a template shows; submitted fields -> the data that
``csms.sites.service.validate`` checks, the API's rule. This module only reads fields (a price
that is not a number, a half-filled row); what a valid tariff is, is decided there.

Field names are flat (``s0_d1_b2_start``: season 0, day type 1, band row 2) because the form
arrives as one value per name.
"""

from __future__ import annotations

import math
import re

from csms.sites.economics import DEFAULTS as ECONOMICS_DEFAULTS
from csms.sites.service import (
    CHARGER_KINDS,
    ECONOMICS_NUMBERS,
    POLICY_PARAMS,
)
from csms.tariff import load_tariff

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TARIFF = "onee-default"
BLANK_ROWS = 2  # empty band rows offered per day type, to add a band without a second page
# Keys of a stored tariff the form has no field for, kept as they are.
CARRIED = ("currency", "power_factor_penalty")


class FormError(ValueError):
    """A field that cannot be read (not a number, a half-filled row)."""


def _text(form: dict, key: str) -> str:
    return str(form.get(key) or "").strip()


def _number(form: dict, key: str, what: str, required: bool = False) -> float | None:
    """A decimal number (a French comma accepted); '' is None. 'nan' reads as NaN on purpose:
    the shared rule refuses it with its own message."""
    text = _text(form, key).replace(",", ".")
    if not text:
        if required:
            raise FormError(f"{what}: a number is required")
        return None
    try:
        return float(text)
    except ValueError:
        raise FormError(f"{what}: {text!r} is not a number") from None


def _indices(form: dict, pattern: str) -> list[int]:
    rx = re.compile(pattern)
    return sorted({int(m.group(1)) for k in form if (m := rx.fullmatch(k))})


# -- tariff -----------------------------------------------------------------------------------

def is_default(stored: dict | None) -> bool:
    return not stored or (set(stored) == {"name"} and stored["name"] == DEFAULT_TARIFF)


def tariff_data(stored: dict | None) -> dict:
    """The whole tariff object of a site's column ({"name": bundled} is loaded)."""
    if not stored or set(stored) == {"name"}:
        return load_tariff((stored or {}).get("name", DEFAULT_TARIFF)).to_dict()
    return stored


def tariff_view(stored: dict | None, draft: dict | None = None) -> dict:
    """Fields of the tariff form: of ``draft`` (a refused submission, shown again to correct)
    or of the stored tariff. Lenient: a draft may be invalid in any way."""
    data = draft if draft is not None else tariff_data(stored)
    prices = data.get("prices_mad_per_kwh") if isinstance(data.get("prices_mad_per_kwh"),
                                                          dict) else {}
    names = list(prices)
    seasons = []
    for s in data.get("seasons") or []:
        if not isinstance(s, dict):
            continue
        for t in s.get("day_types") or []:
            for b in (t.get("bands") or []) if isinstance(t, dict) else []:
                if isinstance(b, dict) and b.get("band") not in names and b.get("band"):
                    names.append(b["band"])
        season_prices = s.get("prices_mad_per_kwh") or {}
        seasons.append({
            "name": s.get("name", ""), "start": s.get("start", ""), "end": s.get("end", ""),
            "prices": {n: season_prices.get(n, "") for n in names},
            "day_types": [{"name": t.get("name", ""), "weekdays": set(t.get("weekdays") or ()),
                           "bands": [dict(b) for b in t.get("bands") or [] if isinstance(b, dict)]
                           + [{"band": "", "start": "", "end": ""}] * BLANK_ROWS}
                          for t in s.get("day_types") or [] if isinstance(t, dict)]})
    # One empty season (all days, one day type) to add a season, e.g. a summer with other hours.
    seasons.append({"name": "", "start": "", "end": "", "prices": dict.fromkeys(names, ""),
                    "day_types": [{"name": "", "weekdays": set(WEEKDAYS),
                                   "bands": [{"band": "", "start": "", "end": ""}] * 4}]})
    return {"default": draft is None and is_default(stored), "name": data.get("name", ""),
            "time_zone": data.get("time_zone", "Africa/Casablanca"),
            "peak_band": data.get("peak_band", "peak"),
            "bands": [{"name": n, "price": prices.get(n, "")} for n in names]
            + [{"name": "", "price": ""}],
            "seasons": seasons, "weekdays": WEEKDAYS,
            "subscribed_power_kw": data.get("subscribed_power_kw"),
            "demand_charge_mad_per_kw_month": data.get("demand_charge_mad_per_kw_month")}


def tariff_from_form(form: dict, stored: dict | None) -> dict:
    """The tariff the form describes: {"name": "onee-default"} for the default choice, else a
    whole tariff object (keys without a field, such as a power-factor clause, carried over)."""
    if _text(form, "tariff_mode") != "custom":
        return {"name": DEFAULT_TARIFF}
    base = tariff_data(stored)
    band_names: dict[int, str] = {}
    prices: dict[str, float] = {}
    for n in _indices(form, r"band(\d+)_name"):
        name, price = _text(form, f"band{n}_name"), _text(form, f"band{n}_price")
        if not name and not price:
            continue
        if not name:
            raise FormError(f"band row {n + 1}: a price without a band name")
        if name in prices:
            raise FormError(f"band {name!r} is listed twice")
        prices[name] = _number(form, f"band{n}_price", f"band {name!r} price (MAD/kWh)", True)
        band_names[n] = name
    seasons = []
    for i in _indices(form, r"s(\d+)_name"):
        season = {"name": _text(form, f"s{i}_name"), "start": _text(form, f"s{i}_start"),
                  "end": _text(form, f"s{i}_end"), "day_types": []}
        label = season["name"] or f"season {i + 1}"
        for j in _indices(form, rf"s{i}_d(\d+)_name"):
            p = f"s{i}_d{j}"
            bands = []
            for k in _indices(form, rf"{p}_b(\d+)_band"):
                row = {x: _text(form, f"{p}_b{k}_{x}") for x in ("band", "start", "end")}
                if not any(row.values()):
                    continue
                if not all(row.values()):
                    raise FormError(f"season {label!r}, days {_text(form, p + '_name')!r}: a "
                                    f"band row needs its band, start and end ({row})")
                bands.append(row)
            weekdays = [wd for wd in WEEKDAYS if form.get(f"{p}_{wd}")]
            if bands or _text(form, f"{p}_name"):
                season["day_types"].append({"name": _text(form, f"{p}_name") or f"days{j + 1}",
                                            "weekdays": weekdays, "bands": bands})
        if not (season["name"] or season["start"] or season["end"]
                or any(t["bands"] for t in season["day_types"])):
            continue  # the empty season offered for adding one
        overrides = {band_names[n]: _number(form, f"s{i}_price{n}",
                                            f"season {label!r} price of {band_names[n]!r}")
                     for n in band_names}
        overrides = {k: v for k, v in overrides.items() if v is not None}
        if overrides:
            season["prices_mad_per_kwh"] = overrides
        seasons.append(season)
    out = {k: base[k] for k in CARRIED if k in base}
    if not is_default(stored) and "description" in base:
        out["description"] = base["description"]
    out.update({
        "name": _text(form, "t_name") or "site tariff",
        "time_zone": _text(form, "t_time_zone") or "Africa/Casablanca",
        "prices_mad_per_kwh": prices,
        "peak_band": _text(form, "t_peak_band") or "peak",
        "seasons": seasons,
        "subscribed_power_kw": _number(form, "t_subscribed_power_kw", "subscribed power (kW)"),
        "demand_charge_mad_per_kw_month": _number(form, "t_demand_charge_mad_per_kw_month",
                                                  "demand charge (MAD/kW/month)"),
    })
    return out


_PRICE = re.compile(r"prices_mad_per_kwh\.([^:\s]+)")
_WHERE = re.compile(r"tariff\.seasons\[(\d+)\](?:\.day_types\[(\d+)\])?(?:\.bands\[(\d+)\])?")


def explain(message: str, tariff: dict) -> str:
    """A validation message with the form's names instead of JSON paths
    ('tariff.seasons[0].day_types[0].bands[1]' -> "season 'all-year', days 'every-day', row 2")."""
    def name(match: re.Match) -> str:
        try:
            season = tariff["seasons"][int(match.group(1))]
            out = f"season {season.get('name')!r}"
            if match.group(2) is not None:
                out += f", days {season['day_types'][int(match.group(2))].get('name')!r}"
            if match.group(3) is not None:
                out += f", band row {int(match.group(3)) + 1}"
            return out
        except (KeyError, IndexError, TypeError):
            return match.group(0)

    message = _PRICE.sub(lambda m: f"price of band {m.group(1)!r} (MAD/kWh)",
                         _WHERE.sub(name, message))
    return message.replace("tariff.", "")


# -- policy parameters ------------------------------------------------------------------------

def policy_view(params: dict | None) -> list[dict]:
    params = params or {}
    return [{"key": key, "unit": unit, "value": params.get(key, ""), "default": default,
             "min": low, "max": high}
            for key, (unit, low, high, _, default) in POLICY_PARAMS.items()]


def policy_from_form(form: dict) -> dict:
    """The parameters filled in (an empty field: the loop's default)."""
    out = {}
    for key, (unit, *_) in POLICY_PARAMS.items():
        value = _number(form, f"pp_{key}", f"{key} ({unit})")
        if value is not None:
            out[key] = value
    return out


# -- ROI inputs -------------------------------------------------------------------------------

def economics_view(stored: dict | None) -> dict:
    stored = stored or {}
    return {"kinds": CHARGER_KINDS, "stored": stored, "defaults": ECONOMICS_DEFAULTS,
            "numbers": list(ECONOMICS_NUMBERS.items())}


def economics_from_form(form: dict) -> dict:
    """The inputs filled in (an empty field: the default of csms.economics)."""
    out: dict = {}
    for key, prefix in (("charger_capex_mad", "capex"), ("installation_mad", "install")):
        per_kind = {kind: _number(form, f"{prefix}_{kind}", f"{key}.{kind} (MAD)")
                    for kind in CHARGER_KINDS}
        per_kind = {k: v for k, v in per_kind.items() if v is not None}
        if per_kind:
            out[key] = per_kind
    for key, (unit, _) in ECONOMICS_NUMBERS.items():
        value = _number(form, f"econ_{key}", f"{key} ({unit})")
        if value is None:
            continue
        if key == "fleet_size" and math.isfinite(value) and value == int(value):
            value = int(value)  # 12.0 from the field is 12 vehicles; 12.5 is refused there
        out[key] = value
    return out
