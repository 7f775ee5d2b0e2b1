"""Base-load profiles (non-EV consumption) of four site kinds, normalised to a peak of 1.

Each profile is a 24 h shape given by hourly anchor values (local time, Africa/Casablanca),
linearly interpolated to 15-minute resolution (96 values a day). The shapes are reasoned, not
copied from a data set (see docs/energy-model.md for the reasoning of each):

- residential: night minimum ~0.30 (fridge, standby), a morning shoulder, and the evening peak at
  20-21 h (lighting, cooking, TV) - the shape of Morocco's national evening peak;
- office: occupancy 08-18 h on weekdays (HVAC, IT), ~0.2 at night (servers, security); on
  weekends the night level all day (0.25);
- commercial (shopping centre, 10-22 h opening): HVAC pre-cooling from 08 h, plateau until 22 h,
  ~0.25 at night (refrigeration, security);
- highway service area: open 24 h, traffic-driven with a daytime plateau and a night minimum
  ~0.45 (lighting, refrigeration, fuel pumps).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

TZ = ZoneInfo("Africa/Casablanca")

# Values at 00:00, 01:00, ..., 23:00 local (and 24:00 = 00:00 of the next day).
_ANCHORS = {
    "residential": [0.40, 0.34, 0.31, 0.30, 0.30, 0.32, 0.40, 0.55, 0.58, 0.50, 0.46, 0.46,
                    0.50, 0.52, 0.48, 0.45, 0.46, 0.55, 0.70, 0.88, 1.00, 0.98, 0.80, 0.58],
    "office": [0.20, 0.20, 0.20, 0.20, 0.20, 0.20, 0.25, 0.45, 0.80, 0.95, 1.00, 1.00,
               0.92, 0.90, 0.98, 0.97, 0.92, 0.80, 0.55, 0.35, 0.28, 0.24, 0.22, 0.20],
    "office_weekend": [0.25] * 24,
    "commercial": [0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.28, 0.35, 0.55, 0.75, 0.90, 0.95,
                   0.97, 0.98, 1.00, 1.00, 0.98, 0.97, 0.98, 1.00, 0.98, 0.90, 0.60, 0.35],
    "highway": [0.50, 0.47, 0.45, 0.45, 0.46, 0.52, 0.65, 0.80, 0.90, 0.95, 0.97, 1.00,
                1.00, 0.98, 0.95, 0.95, 0.97, 1.00, 0.98, 0.92, 0.82, 0.72, 0.62, 0.55],
}
KINDS = ("residential", "office", "commercial", "highway")


def daily_profile(kind: str, weekend: bool = False) -> np.ndarray:
    """(96,) normalised profile of one local day at 15 min (value at each quarter's midpoint)."""
    if kind not in KINDS:
        raise ValueError(f"unknown base-load kind {kind!r}; choose one of {KINDS}")
    name = "office_weekend" if (kind == "office" and weekend) else kind
    return _shape(name, (np.arange(96) + 0.5) / 4.0)


def base_load_kw(kind: str, peak_kw: float, start: datetime, period_s: int, periods: int
                 ) -> np.ndarray:
    """(T,) base load in kW of each period, at its local-time midpoint (DST-aware)."""
    if kind not in KINDS:
        raise ValueError(f"unknown base-load kind {kind!r}; choose one of {KINDS}")
    if peak_kw < 0 or not np.isfinite(peak_kw):
        raise ValueError(f"peak_kw must be >= 0, got {peak_kw!r}")
    if period_s <= 0 or periods < 0:
        raise ValueError("period_s must be > 0 and periods >= 0")
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime")
    mid = pd.date_range(start=pd.Timestamp(start) + pd.Timedelta(seconds=period_s / 2),
                        periods=periods, freq=pd.Timedelta(seconds=period_s)).tz_convert(TZ)
    hour = mid.hour.to_numpy() + mid.minute.to_numpy() / 60.0 + mid.second.to_numpy() / 3600.0
    shape = _shape(kind, hour)
    if kind == "office":
        weekend = mid.dayofweek.to_numpy() >= 5
        shape = np.where(weekend, _shape("office_weekend", hour), shape)
    return peak_kw * shape


def _shape(name: str, hour: np.ndarray) -> np.ndarray:
    """Normalised value at local hours in [0, 24], interpolated between hourly anchors."""
    anchors = np.array(_ANCHORS[name] + _ANCHORS[name][:1])  # 24:00 = next day's 00:00
    return np.interp(hour, np.arange(25), anchors)
