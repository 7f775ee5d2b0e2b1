"""Cost of a charging session from its energy-register samples (OCPP meter values).

The energy between two samples is spread uniformly over the interval between them and priced at
the tariff's exact time-weighted mean price over that interval, so an interval that straddles a
band boundary is split proportionally to the time on each side.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import numpy as np

from csms.tariff.tariff import Tariff, _aware

log = logging.getLogger(__name__)


def interval_energies(timestamps: list[datetime], energy_register_wh: list[float]
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted sample times -> (starts_s (N-1,), ends_s (N-1,), energy_wh (N-1,)).

    Samples are sorted by timestamp first: an offline charger replays old samples late.
    """
    if len(timestamps) != len(energy_register_wh):
        raise ValueError(f"{len(timestamps)} timestamps but {len(energy_register_wh)} register "
                         "values: they must pair up")
    times_s = np.array([_aware(t, "timestamp").timestamp() for t in timestamps], dtype=float)
    register_wh = np.asarray(energy_register_wh, dtype=float)
    if not np.all(np.isfinite(register_wh)):
        raise ValueError("energy_register_wh contains NaN or infinite values")
    order = np.argsort(times_s, kind="stable")
    times_s, register_wh = times_s[order], register_wh[order]
    energy_wh = np.diff(register_wh)
    if np.any(energy_wh < 0):
        i = int(np.argmax(energy_wh < 0))
        raise ValueError(f"energy register decreases from {register_wh[i]} Wh to "
                         f"{register_wh[i + 1]} Wh: a meter reset or a wrong measurand")
    return times_s[:-1], times_s[1:], energy_wh


def session_cost_mad(tariff: Tariff, timestamps: list[datetime],
                     energy_register_wh: list[float]) -> float:
    """Energy cost (MAD) of a session from N paired samples; 0 for fewer than two samples."""
    if len(timestamps) < 2:
        if len(timestamps) != len(energy_register_wh):
            raise ValueError("timestamps and energy_register_wh must have the same length")
        return 0.0
    starts_s, ends_s, energy_wh = interval_energies(timestamps, energy_register_wh)
    cost = 0.0
    same = ends_s <= starts_s
    if np.any(same & (energy_wh > 0)):
        # Two samples at the same instant with energy between them: price at that instant.
        for s, e in zip(starts_s[same], energy_wh[same], strict=True):
            cost += e / 1000.0 * tariff.price_at(_from_s(s))
    spans = ~same
    if np.any(spans):
        t0 = _from_s(starts_s[spans].min())
        t1 = _from_s(ends_s[spans].max())
        price = tariff.mean_over("price", t0, t1, starts_s[spans], ends_s[spans])
        cost += float(np.sum(energy_wh[spans] / 1000.0 * price))
    return cost


def _from_s(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(float(epoch_s), UTC)
