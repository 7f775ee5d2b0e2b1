"""Tariff as data: seasons -> day types (weekday sets) -> time bands -> price per band.

The JSON shape (see ``csms/data/tariffs/onee-default.json``)::

    {"name": str, "currency": "MAD", "time_zone": "Africa/Casablanca",
     "prices_mad_per_kwh": {band: float, ...},          # default price of every band
     "peak_band": "peak",                                # which band the peak mask means
     "seasons": [{"name": str, "start": "MM-DD", "end": "MM-DD",   # inclusive, may wrap New Year
                  "prices_mad_per_kwh": {...},           # optional per-season override
                  "day_types": [{"name": str, "weekdays": ["mon", ...],
                                 "bands": [{"band": str, "start": "HH:MM", "end": "HH:MM"}]}]}],
     "subscribed_power_kw": float | null, "demand_charge_mad_per_kw_month": float | null,
     "power_factor_penalty": {"threshold_pf": float, "penalty_pct_per_0_01": float} | null}

Bands are local wall-clock intervals ``[start, end)``; ``end <= start`` wraps past midnight and
``"24:00"`` is the end of the day. The band of an instant is looked up from the instant's *local*
date (season, weekday) and local time of day, so on a DST change day a band lasts as long as the
wall clock says (an off-peak night over a repeated hour is one hour longer).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

log = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 1440


def _parse_hhmm(text: str, where: str) -> int:
    """'HH:MM' -> minute of day in [0, 1440]; '24:00' is allowed as an end."""
    try:
        hh, mm = str(text).split(":")
        hours, minutes = int(hh), int(mm)
    except ValueError:
        raise ValueError(f"{where}: time {text!r} is not 'HH:MM'") from None
    if not (0 <= minutes < 60 and (0 <= hours < 24 or (hours == 24 and minutes == 0))):
        raise ValueError(f"{where}: time {text!r} is out of range 00:00-24:00")
    return hours * 60 + minutes


def _fmt_hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _parse_mmdd(text: str, where: str) -> tuple[int, int]:
    try:
        mm, dd = str(text).split("-")
        month, day = int(mm), int(dd)
        date(2024, month, day)  # a leap year, so 02-29 is valid
    except ValueError:
        raise ValueError(f"{where}: date {text!r} is not a valid 'MM-DD'") from None
    return month, day


def _day_of_leap_year(month: int, day: int) -> int:
    """0..365 index of a (month, day) in a leap year, so every calendar day has one slot."""
    return date(2024, month, day).toordinal() - date(2024, 1, 1).toordinal()


@dataclass(frozen=True)
class Band:
    band: str
    start: str
    end: str


@dataclass(frozen=True)
class DayType:
    name: str
    weekdays: tuple[str, ...]
    bands: tuple[Band, ...]


@dataclass(frozen=True)
class Season:
    name: str
    start: str  # "MM-DD", inclusive
    end: str  # "MM-DD", inclusive
    day_types: tuple[DayType, ...]
    prices_mad_per_kwh: dict[str, float] | None = None


@dataclass(frozen=True)
class PowerFactorPenalty:
    """Energy cost rises by ``penalty_pct_per_0_01`` % for each 0.01 of PF below the threshold."""

    threshold_pf: float
    penalty_pct_per_0_01: float


@dataclass(frozen=True)
class TariffSpec:
    """The validated data of a tariff; :class:`csms.tariff.Tariff` adds the lookups."""

    name: str
    currency: str
    time_zone: str
    prices_mad_per_kwh: dict[str, float]
    seasons: tuple[Season, ...]
    peak_band: str = "peak"
    subscribed_power_kw: float | None = None
    demand_charge_mad_per_kw_month: float | None = None
    power_factor_penalty: PowerFactorPenalty | None = None
    description: str = ""
    notes: dict = field(default_factory=dict)


def _number(value, where: str, *, positive: bool = False, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise ValueError(f"{where}: expected a finite number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{where}: must be {'> 0' if positive else '>= 0'}, got {value!r}")
    return float(value)


def _prices(raw, where: str) -> dict[str, float]:
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{where}: expected a non-empty object band -> price")
    return {str(k): _number(v, f"{where}.{k}") for k, v in raw.items()}


def _weekday(value, where: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return WEEKDAYS[value]
    text = str(value).strip().lower()[:3]
    if text not in WEEKDAYS:
        raise ValueError(f"{where}: unknown weekday {value!r} (use mon..sun or 0..6, Monday = 0)")
    return text


def _band_minutes(bands: tuple[Band, ...], where: str) -> list[str]:
    """Band name of every minute of the day; raises unless the bands tile the day exactly."""
    owner: list[str | None] = [None] * MINUTES_PER_DAY
    for i, b in enumerate(bands):
        w = f"{where}.bands[{i}]"
        start, end = _parse_hhmm(b.start, w), _parse_hhmm(b.end, w)
        if start == MINUTES_PER_DAY:
            raise ValueError(f"{w}: a band cannot start at 24:00")
        if start == end:
            raise ValueError(f"{w}: empty band {b.start}-{b.end} (use 00:00-24:00 for all day)")
        minutes = range(start, end) if end > start else [*range(start, MINUTES_PER_DAY), *range(end)]
        for m in minutes:
            if owner[m] is not None:
                raise ValueError(f"{w}: band {b.band!r} overlaps band {owner[m]!r} at "
                                 f"{_fmt_hhmm(m)}")
            owner[m] = b.band
    gaps = [m for m, o in enumerate(owner) if o is None]
    if gaps:
        raise ValueError(f"{where}: bands leave {len(gaps)} minutes of the day uncovered, "
                         f"first at {_fmt_hhmm(gaps[0])}")
    return owner  # type: ignore[return-value]


def spec_from_dict(d: dict) -> TariffSpec:
    """Validate a tariff dict (the JSON file's shape); every problem is a clear ValueError."""
    if not isinstance(d, dict):
        raise ValueError(f"tariff must be an object, got {type(d).__name__}")
    for key in ("name", "seasons", "prices_mad_per_kwh"):
        if key not in d:
            raise ValueError(f"tariff: missing required key {key!r}")
    time_zone = d.get("time_zone", "Africa/Casablanca")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"tariff.time_zone: unknown time zone {time_zone!r}") from None
    prices = _prices(d["prices_mad_per_kwh"], "tariff.prices_mad_per_kwh")
    if not isinstance(d["seasons"], list) or not d["seasons"]:
        raise ValueError("tariff.seasons: expected a non-empty list")
    seasons = []
    day_owner: list[str | None] = [None] * 366
    for si, s in enumerate(d["seasons"]):
        w = f"tariff.seasons[{si}]"
        if not isinstance(s, dict):
            raise ValueError(f"{w}: expected an object")
        name = str(s.get("name", f"season{si}"))
        (m0, d0), (m1, d1) = _parse_mmdd(s.get("start"), w + ".start"), _parse_mmdd(s.get("end"), w + ".end")
        i0, i1 = _day_of_leap_year(m0, d0), _day_of_leap_year(m1, d1)
        for i in (range(i0, i1 + 1) if i1 >= i0 else [*range(i0, 366), *range(i1 + 1)]):
            if day_owner[i] is not None:
                raise ValueError(f"{w}: season {name!r} overlaps season {day_owner[i]!r}")
            day_owner[i] = name
        season_prices = None
        if s.get("prices_mad_per_kwh") is not None:
            season_prices = _prices(s["prices_mad_per_kwh"], w + ".prices_mad_per_kwh")
        if not isinstance(s.get("day_types"), list) or not s["day_types"]:
            raise ValueError(f"{w}.day_types: expected a non-empty list")
        day_types, seen_days = [], {}
        for ti, t in enumerate(s["day_types"]):
            tw = f"{w}.day_types[{ti}]"
            if not isinstance(t, dict) or not isinstance(t.get("bands"), list):
                raise ValueError(f"{tw}: expected an object with 'weekdays' and 'bands'")
            weekdays = tuple(_weekday(x, tw + ".weekdays") for x in t.get("weekdays", []))
            for wd in weekdays:
                if wd in seen_days:
                    raise ValueError(f"{tw}: weekday {wd!r} already in day type {seen_days[wd]!r}")
                seen_days[wd] = t.get("name", f"day_type{ti}")
            bands = []
            for bi, b in enumerate(t["bands"]):
                if not isinstance(b, dict) or not {"band", "start", "end"} <= b.keys():
                    raise ValueError(f"{tw}.bands[{bi}]: expected {{band, start, end}}")
                bands.append(Band(str(b["band"]), str(b["start"]), str(b["end"])))
            _band_minutes(tuple(bands), tw)
            for b in bands:
                if b.band not in {**prices, **(season_prices or {})}:
                    raise ValueError(f"{tw}: band {b.band!r} has no price in prices_mad_per_kwh")
            day_types.append(DayType(str(t.get("name", f"day_type{ti}")), weekdays, tuple(bands)))
        missing = [wd for wd in WEEKDAYS if wd not in seen_days]
        if missing:
            raise ValueError(f"{w}: weekdays {missing} belong to no day type")
        seasons.append(Season(name, s["start"], s["end"], tuple(day_types), season_prices))
    uncovered = [i for i, o in enumerate(day_owner) if o is None]
    if uncovered:
        first = date.fromordinal(date(2024, 1, 1).toordinal() + uncovered[0])
        raise ValueError(f"tariff.seasons: {len(uncovered)} days of the year are in no season, "
                         f"first {first:%m-%d}")
    pfp = d.get("power_factor_penalty")
    if pfp is not None:
        if not isinstance(pfp, dict):
            raise ValueError("tariff.power_factor_penalty: expected an object or null")
        threshold = _number(pfp.get("threshold_pf"), "tariff.power_factor_penalty.threshold_pf",
                            positive=True)
        if threshold > 1:
            raise ValueError("tariff.power_factor_penalty.threshold_pf: must be <= 1")
        pfp = PowerFactorPenalty(threshold, _number(
            pfp.get("penalty_pct_per_0_01"), "tariff.power_factor_penalty.penalty_pct_per_0_01"))
    peak_band = str(d.get("peak_band", "peak"))
    return TariffSpec(
        name=str(d["name"]), currency=str(d.get("currency", "MAD")), time_zone=time_zone,
        prices_mad_per_kwh=prices, seasons=tuple(seasons), peak_band=peak_band,
        subscribed_power_kw=_number(d.get("subscribed_power_kw"), "tariff.subscribed_power_kw",
                                    allow_none=True),
        demand_charge_mad_per_kw_month=_number(d.get("demand_charge_mad_per_kw_month"),
                                               "tariff.demand_charge_mad_per_kw_month",
                                               allow_none=True),
        power_factor_penalty=pfp, description=str(d.get("description", "")),
        notes=dict(d.get("notes", {})),
    )


def spec_to_dict(spec: TariffSpec) -> dict:
    """Inverse of :func:`spec_from_dict` (weekdays normalised to 'mon'..'sun')."""
    out: dict = {"name": spec.name, "description": spec.description, "currency": spec.currency,
                 "time_zone": spec.time_zone, "prices_mad_per_kwh": dict(spec.prices_mad_per_kwh),
                 "peak_band": spec.peak_band, "seasons": []}
    for s in spec.seasons:
        sd: dict = {"name": s.name, "start": s.start, "end": s.end, "day_types": [
            {"name": t.name, "weekdays": list(t.weekdays),
             "bands": [{"band": b.band, "start": b.start, "end": b.end} for b in t.bands]}
            for t in s.day_types]}
        if s.prices_mad_per_kwh is not None:
            sd["prices_mad_per_kwh"] = dict(s.prices_mad_per_kwh)
        out["seasons"].append(sd)
    out["subscribed_power_kw"] = spec.subscribed_power_kw
    out["demand_charge_mad_per_kw_month"] = spec.demand_charge_mad_per_kw_month
    pfp = spec.power_factor_penalty
    out["power_factor_penalty"] = None if pfp is None else {
        "threshold_pf": pfp.threshold_pf, "penalty_pct_per_0_01": pfp.penalty_pct_per_0_01}
    if spec.notes:
        out["notes"] = dict(spec.notes)
    return out


@dataclass(frozen=True)
class DayTable:
    """Compiled day type: band name per minute and the minutes where the band changes."""

    band_by_minute: tuple[str, ...]  # (1440,)
    change_minutes: tuple[int, ...]  # ascending, in (0, 1440)
    prices_mad_per_kwh: dict[str, float]


def compile_days(spec: TariffSpec) -> tuple[list[DayTable], np.ndarray]:
    """Tables of all (season, day type) pairs and an index array (366 days, 7 weekdays) -> table."""
    tables: list[DayTable] = []
    index = np.full((366, 7), -1, dtype=np.int64)
    for s in spec.seasons:
        prices = {**spec.prices_mad_per_kwh, **(s.prices_mad_per_kwh or {})}
        (m0, d0), (m1, d1) = _parse_mmdd(s.start, ""), _parse_mmdd(s.end, "")
        i0, i1 = _day_of_leap_year(m0, d0), _day_of_leap_year(m1, d1)
        days = list(range(i0, i1 + 1)) if i1 >= i0 else [*range(i0, 366), *range(i1 + 1)]
        for t in s.day_types:
            by_minute = _band_minutes(t.bands, s.name)
            changes = tuple(m for m in range(1, MINUTES_PER_DAY) if by_minute[m] != by_minute[m - 1])
            tables.append(DayTable(tuple(by_minute), changes, prices))
            for wd in t.weekdays:
                index[days, WEEKDAYS.index(wd)] = len(tables) - 1
    return tables, index


def day_table_index(index: np.ndarray, local: datetime) -> int:
    """Which compiled table applies to a local datetime (its local date's season and weekday)."""
    return int(index[_day_of_leap_year(local.month, local.day), local.weekday()])
