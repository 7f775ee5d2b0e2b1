"""Synthetic workplace days for benchmarks and tests (seeded, ACN-Data-like shapes).

Arrivals around 08:00 local (sd 1.5 h), stays log-normal around 6.5 h, energy log-normal around
10 kWh capped by what the stay allows, 7 kW single-phase or 11 kW three-phase EVs. The default
tariff's shape is built in (peak 18-21 h 1.85, off-peak 22-06 h 0.95, else 1.35 MAD/kWh) so the
engine can be exercised without the tariff package; the horizon starts at local midnight.
"""

from __future__ import annotations

import numpy as np

from csms.charging.problem import Problem, availability


def default_prices(periods: int = 96, period_s: float = 900.0) -> tuple[np.ndarray, np.ndarray]:
    """(prices (T,), peak_mask (T,)) of the default tariff from local midnight."""
    hour = (np.arange(periods) * period_s / 3600.0) % 24
    peak = (hour >= 18) & (hour < 21)
    off = (hour >= 22) | (hour < 6)
    price = np.where(peak, 1.85, np.where(off, 0.95, 1.35))
    return price, peak


def workplace_day(n_sessions: int = 1000, seed: int = 0, periods: int = 96,
                  period_s: float = 900.0, capacity_kw: float | None = None,
                  v2g_share: float = 0.0, pv_peak_kw: float = 0.0) -> Problem:
    """A random workplace day; the capacity defaults to 40 % of the uncontrolled peak demand."""
    rng = np.random.default_rng(seed)
    horizon_s = periods * period_s
    arrival_s = np.clip(rng.normal(8.0, 1.5, n_sessions), 0, 20) * 3600
    stay_s = np.exp(rng.normal(np.log(6.5), 0.5, n_sessions)) * 3600
    departure_s = np.minimum(arrival_s + stay_s, horizon_s)
    three_phase = rng.random(n_sessions) < 0.3
    max_kw = np.where(three_phase, 11.0, 7.0)
    energy_kwh = np.exp(rng.normal(np.log(10.0), 0.6, n_sessions))
    energy_kwh = np.minimum(energy_kwh, max_kw * (departure_s - arrival_s) / 3600 * 0.9)
    v2g = rng.random(n_sessions) < v2g_share
    avail = availability(arrival_s, departure_s, periods, period_s)
    hour = np.arange(periods) * period_s / 3600.0
    base_kw = 0.05 * n_sessions * (1 + 0.5 * np.sin((hour - 8) / 24 * 2 * np.pi))
    pv_kw = pv_peak_kw * np.clip(np.sin((hour - 6.5) / 13 * np.pi), 0, None)
    if capacity_kw is None:
        capacity_kw = float(0.4 * max_kw.sum() * 0.5 + base_kw.max())
    price, peak = default_prices(periods, period_s)
    return Problem(
        period_s=period_s, available=avail, energy_kwh=np.maximum(energy_kwh, 0.0),
        max_kw=max_kw, min_kw=np.where(three_phase, 4.14, 1.38),
        discharge_max_kw=np.where(v2g, max_kw, 0.0), phases=np.where(three_phase, 3, 1),
        capacity_kw=np.full(periods, capacity_kw), base_load_kw=base_kw, pv_kw=pv_kw,
        price_mad_per_kwh=price, peak_mask=peak,
        session_ids=tuple(f"s{i}" for i in range(n_sessions)))
