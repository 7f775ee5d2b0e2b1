"""The :class:`Tariff`: band and price lookups and the cost of power series.

Every series is regular: ``start`` (aware), ``period_s`` seconds per step, ``T`` steps; period i
covers ``[start + i*period_s, start + (i+1)*period_s)``. Prices over a period are the exact
time-weighted mean of the tariff over it, so a period that straddles a band boundary is priced
proportionally.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from csms.tariff.curve import PiecewiseCurve, build_curve
from csms.tariff.model import (
    TariffSpec,
    compile_days,
    day_table_index,
    spec_from_dict,
    spec_to_dict,
)

log = logging.getLogger(__name__)

TARIFF_DIR = Path(__file__).resolve().parent.parent / "data" / "tariffs"
_CACHE_SIZE = 8


def _aware(instant: datetime, what: str = "instant") -> datetime:
    if not isinstance(instant, datetime):
        raise ValueError(f"{what} must be a datetime, got {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} {instant!r} is naive: pass an aware datetime (UTC)")
    return instant


def _period(period_s: int, periods: int) -> tuple[int, int]:
    if not period_s or period_s <= 0:
        raise ValueError(f"period_s must be > 0, got {period_s!r}")
    if periods < 0:
        raise ValueError(f"periods must be >= 0, got {periods!r}")
    return int(period_s), int(periods)


class Tariff:
    """A validated tariff with fast lookups. Build with :func:`load_tariff` or ``from_dict``."""

    def __init__(self, spec: TariffSpec) -> None:
        self.spec = spec
        self.tz = ZoneInfo(spec.time_zone)
        self._tables, self._index = compile_days(spec)
        self._curves: dict[tuple, tuple[PiecewiseCurve, np.ndarray]] = {}

    # -- data round-trip ---------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: dict) -> Tariff:
        return cls(spec_from_dict(d))

    def to_dict(self) -> dict:
        return spec_to_dict(self.spec)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def bands(self) -> tuple[str, ...]:
        """Band names in first-seen order."""
        names = dict.fromkeys(b.band for s in self.spec.seasons for t in s.day_types for b in t.bands)
        return tuple(names)

    def __repr__(self) -> str:
        return f"Tariff({self.spec.name!r}, {self.spec.time_zone})"

    # -- scalar lookups ----------------------------------------------------------------------
    def _table(self, local: datetime):
        return self._tables[day_table_index(self._index, local)]

    def band_at(self, instant: datetime) -> str:
        """Band name in force at an aware instant (local wall time of the tariff's zone)."""
        local = _aware(instant).astimezone(self.tz)
        return self._table(local).band_by_minute[local.hour * 60 + local.minute]

    def price_at(self, instant: datetime) -> float:
        """Energy price (MAD/kWh) at an aware instant."""
        local = _aware(instant).astimezone(self.tz)
        table = self._table(local)
        return table.prices_mad_per_kwh[table.band_by_minute[local.hour * 60 + local.minute]]

    # -- curves ------------------------------------------------------------------------------
    def _curve(self, kind: str, t0: datetime, t1: datetime) -> tuple[PiecewiseCurve, np.ndarray]:
        """Cached curve of ``kind`` with its cumulative integral.

        Kinds: "price" (MAD/kWh), "band:<name>" (1 inside the band, else 0) and
        "bandprice:<name>" (the price inside the band, else 0).
        """
        key = (kind, t0.astimezone(UTC), t1.astimezone(UTC))
        hit = self._curves.get(key)
        if hit is not None:
            return hit
        if kind == "price":
            value_at = self.price_at
        else:
            what, band = kind.split(":", 1)

            def value_at(instant: datetime) -> float:
                if self.band_at(instant) != band:
                    return 0.0
                return self.price_at(instant) if what == "bandprice" else 1.0
        curve = build_curve(self.tz, t0, t1,
                            lambda midnight: self._table(midnight).change_minutes, value_at)
        if len(self._curves) >= _CACHE_SIZE:
            self._curves.pop(next(iter(self._curves)))
        self._curves[key] = (curve, curve.cumulative)
        return self._curves[key]

    def mean_over(self, kind: str, t0: datetime, t1: datetime, starts_s: np.ndarray,
                  ends_s: np.ndarray) -> np.ndarray:
        """Time-weighted mean of a curve over intervals (UTC epoch s, within [t0, t1]); shape kept."""
        curve, cum = self._curve(kind, t0, t1)
        width_s = np.asarray(ends_s, float) - np.asarray(starts_s, float)
        if np.any(width_s <= 0):
            raise ValueError("every interval must have end > start")
        return curve.integral(starts_s, ends_s, cum) / width_s

    def _grid(self, start: datetime, period_s: int, periods: int):
        period_s, periods = _period(period_s, periods)
        t0 = _aware(start, "start").astimezone(UTC)
        t1 = t0 + timedelta(seconds=period_s * max(periods, 1))
        edges_s = t0.timestamp() + period_s * np.arange(periods + 1, dtype=float)
        return t0, t1, edges_s

    def prices_mad_per_kwh(self, start: datetime, period_s: int, periods: int) -> np.ndarray:
        """(T,) time-weighted mean price (MAD/kWh) of each period."""
        t0, t1, e = self._grid(start, period_s, periods)
        if periods == 0:
            return np.zeros(0)
        return self.mean_over("price", t0, t1, e[:-1], e[1:])

    def band_fraction(self, band: str, start: datetime, period_s: int, periods: int) -> np.ndarray:
        """(T,) share of each period (0..1) that lies in ``band``."""
        if band not in self.bands:
            raise ValueError(f"unknown band {band!r}; this tariff has {list(self.bands)}")
        t0, t1, e = self._grid(start, period_s, periods)
        if periods == 0:
            return np.zeros(0)
        return self.mean_over(f"band:{band}", t0, t1, e[:-1], e[1:])

    def peak_mask(self, start: datetime, period_s: int, periods: int) -> np.ndarray:
        """(T,) bool: the period overlaps the peak band (``spec.peak_band``) for any time > 0."""
        if self.spec.peak_band not in self.bands:
            return np.zeros(periods, dtype=bool)
        # 1e-9 of a period: a period that only touches the boundary does not overlap.
        return self.band_fraction(self.spec.peak_band, start, period_s, periods) > 1e-9

    # -- costs -------------------------------------------------------------------------------
    def cost_mad(self, start: datetime, period_s: int, import_kw: np.ndarray) -> float:
        """Energy cost (MAD) of a grid-import series (T,) in kW; export (negative) costs 0."""
        kw = np.clip(np.asarray(import_kw, dtype=float), 0.0, None)
        if kw.ndim != 1:
            raise ValueError(f"import_kw must be 1-D (T,), got shape {kw.shape}")
        if not np.all(np.isfinite(kw)):
            raise ValueError("import_kw contains NaN or infinite values")
        prices = self.prices_mad_per_kwh(start, period_s, len(kw))
        return float(np.sum(kw * prices) * period_s / 3600.0)

    def cost_by_band(self, start: datetime, period_s: int, import_kw: np.ndarray) -> dict:
        """``{band: {"energy_kwh": float, "cost_mad": float}}`` of a grid-import series (T,)."""
        kw = np.clip(np.asarray(import_kw, dtype=float), 0.0, None)
        t0, t1, e = self._grid(start, period_s, len(kw))
        out = {}
        for band in self.bands:
            if len(kw) == 0:
                out[band] = {"energy_kwh": 0.0, "cost_mad": 0.0}
                continue
            frac = self.mean_over(f"band:{band}", t0, t1, e[:-1], e[1:])
            band_price = self.mean_over(f"bandprice:{band}", t0, t1, e[:-1], e[1:])
            out[band] = {"energy_kwh": float(np.sum(kw * frac) * period_s / 3600.0),
                         "cost_mad": float(np.sum(kw * band_price) * period_s / 3600.0)}
        return out

    def demand_charge_mad(self, peak_kw: float, months: float = 1.0) -> float:
        """Demand charge: billed on max(subscribed, measured peak) kW per month; 0 if none."""
        rate = self.spec.demand_charge_mad_per_kw_month
        if rate is None:
            return 0.0
        billed_kw = max(float(peak_kw), self.spec.subscribed_power_kw or 0.0)
        return rate * billed_kw * months

    def power_factor_penalty_mad(self, energy_cost_mad: float, power_factor: float) -> float:
        """Penalty added to the energy cost when the mean power factor is below the threshold."""
        if not 0 < power_factor <= 1:
            raise ValueError(f"power_factor must be in (0, 1], got {power_factor!r}")
        pfp = self.spec.power_factor_penalty
        if pfp is None:
            return 0.0
        shortfall_hundredths = max(0.0, (pfp.threshold_pf - power_factor) * 100.0)
        return energy_cost_mad * pfp.penalty_pct_per_0_01 / 100.0 * shortfall_hundredths


def load_tariff(source: str | Path | dict | Tariff = "onee-default") -> Tariff:
    """A tariff from a bundled name ("onee-default"), a JSON file path, a dict or a Tariff."""
    if isinstance(source, Tariff):
        return source
    if isinstance(source, dict):
        return Tariff.from_dict(source)
    path = Path(source)
    if not isinstance(source, Path) and path.suffix != ".json":
        path = TARIFF_DIR / f"{source}.json"
    if not path.is_file():
        bundled = sorted(p.stem for p in TARIFF_DIR.glob("*.json"))
        raise ValueError(f"tariff {str(source)!r} not found (bundled tariffs: {bundled})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"tariff file {path}: invalid JSON: {exc}") from None
    return Tariff.from_dict(data)
