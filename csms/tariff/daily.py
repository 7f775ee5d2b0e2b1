"""Cost so far today and a projection for the whole local day.

"Today" is the tariff's local calendar day (23 or 25 hours on a DST change day). The projection
adds the rest of the day either from a forecast series starting at ``now`` or, without one, by
holding today's mean import power so far (persistence) - a simple, explainable default.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import numpy as np

from csms.tariff.tariff import Tariff, _aware

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DayCost:
    day_start: datetime  # UTC instant of local midnight
    day_end: datetime  # UTC instant of the next local midnight
    so_far_mad: float
    projected_mad: float
    so_far_kwh: float
    projected_kwh: float


def local_day_bounds(tariff: Tariff, now: datetime) -> tuple[datetime, datetime]:
    """UTC instants of the local midnight starting ``now``'s day and the next one."""
    local = _aware(now, "now").astimezone(tariff.tz)
    start = datetime.combine(local.date(), time(0), tariff.tz)
    end = datetime.combine(local.date() + timedelta(days=1), time(0), tariff.tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def cost_in_window(tariff: Tariff, start: datetime, period_s: int, import_kw: np.ndarray,
                   w0: datetime, w1: datetime) -> tuple[float, float]:
    """(cost MAD, energy kWh) of the part of a regular series (T,) inside [w0, w1)."""
    kw = np.clip(np.asarray(import_kw, dtype=float), 0.0, None)
    if kw.size == 0 or w1 <= w0:
        return 0.0, 0.0
    edges_s = _aware(start, "start").timestamp() + period_s * np.arange(kw.size + 1, dtype=float)
    a = np.maximum(edges_s[:-1], w0.timestamp())
    b = np.minimum(edges_s[1:], w1.timestamp())
    inside = b > a
    if not np.any(inside):
        return 0.0, 0.0
    lo = datetime.fromtimestamp(a[inside].min(), UTC)
    hi = datetime.fromtimestamp(b[inside].max(), UTC)
    price = tariff.mean_over("price", lo, hi, a[inside], b[inside])
    energy_kwh = kw[inside] * (b[inside] - a[inside]) / 3600.0
    return float(np.sum(energy_kwh * price)), float(np.sum(energy_kwh))


def day_cost(tariff: Tariff, now: datetime, start: datetime, period_s: int,
             import_kw: np.ndarray, forecast_kw: np.ndarray | None = None) -> DayCost:
    """Cost today until ``now`` of a measured series, and the projected cost of the whole day.

    ``import_kw`` (T,) starts at ``start``; only its part in [local midnight, now) counts.
    ``forecast_kw`` (F,) at the same ``period_s`` starts at ``now``; beyond it (or without it)
    the mean import so far today is held until local midnight.
    """
    day_start, day_end = local_day_bounds(tariff, now)
    now = now.astimezone(UTC)
    so_far_mad, so_far_kwh = cost_in_window(tariff, start, period_s, import_kw, day_start, now)
    elapsed_h = (now - day_start).total_seconds() / 3600.0
    mean_kw = so_far_kwh / elapsed_h if elapsed_h > 0 else 0.0
    rest_mad, rest_kwh, covered = 0.0, 0.0, now
    if forecast_kw is not None and len(forecast_kw):
        rest_mad, rest_kwh = cost_in_window(tariff, now, period_s, forecast_kw, now, day_end)
        covered = min(day_end, now + timedelta(seconds=period_s * len(forecast_kw)))
    if covered < day_end and mean_kw > 0:
        span_s = (day_end - covered).total_seconds()
        m, e = cost_in_window(tariff, covered, int(span_s) or 1, np.array([mean_kw]), covered,
                              day_end)
        rest_mad, rest_kwh = rest_mad + m, rest_kwh + e
    return DayCost(day_start, day_end, so_far_mad, so_far_mad + rest_mad, so_far_kwh,
                   so_far_kwh + rest_kwh)
