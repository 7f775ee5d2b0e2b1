"""Exact piecewise-constant price curve of a tariff over a UTC interval.

A tariff price changes only at band boundaries (local wall time), at local midnight (season or
weekday may change) and at the time zone's UTC-offset transitions. We list those instants in UTC
(both folds of every boundary, so repeated and skipped wall hours are handled), evaluate the
scalar band lookup on each segment, and integrate: the integral of a piecewise-constant function
is piecewise linear, so ``np.interp`` over cumulative integrals gives exact means over any
interval, vectorised.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

_PROBE_S = 6 * 3600  # offset transitions are found by sampling every 6 h, then bisecting


def _offset_transitions(tz: ZoneInfo, t0: datetime, t1: datetime) -> list[datetime]:
    """UTC instants in [t0, t1] where the zone's UTC offset changes (to the second)."""
    out = []
    t, off = t0, t0.astimezone(tz).utcoffset()
    while t < t1:
        nxt = min(t + timedelta(seconds=_PROBE_S), t1)
        nxt_off = nxt.astimezone(tz).utcoffset()
        if nxt_off != off:
            # Integer-second bisection: offset(lo) == off, offset(hi) != off.
            lo, hi = math.floor(t.timestamp()), math.ceil(nxt.timestamp())
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if datetime.fromtimestamp(mid, UTC).astimezone(tz).utcoffset() == off:
                    lo = mid
                else:
                    hi = mid
            out.append(datetime.fromtimestamp(hi, UTC))
        t, off = nxt, nxt_off
    return out


@dataclass(frozen=True)
class PiecewiseCurve:
    """Segments ``[edges_s[i], edges_s[i+1])`` (UTC epoch seconds) with ``values[i]``.

    Shapes: ``edges_s`` (N+1,), ``values`` (N,), ``cumulative`` (N+1,) = integral from edges_s[0].
    """

    edges_s: np.ndarray
    values: np.ndarray

    @property
    def cumulative(self) -> np.ndarray:
        return np.concatenate(([0.0], np.cumsum(self.values * np.diff(self.edges_s))))

    def integral(self, t0_s: np.ndarray, t1_s: np.ndarray, cumulative: np.ndarray | None = None
                 ) -> np.ndarray:
        """Integral of the curve over each [t0, t1] (value x seconds); arrays of any shape."""
        cum = self.cumulative if cumulative is None else cumulative
        t0_s, t1_s = np.asarray(t0_s, float), np.asarray(t1_s, float)
        if np.any(t0_s < self.edges_s[0] - 1e-6) or np.any(t1_s > self.edges_s[-1] + 1e-6):
            raise ValueError("interval outside the curve's range")
        return np.interp(t1_s, self.edges_s, cum) - np.interp(t0_s, self.edges_s, cum)


def build_curve(tz: ZoneInfo, t0: datetime, t1: datetime,
                change_minutes_of: Callable[[datetime], tuple[int, ...]],
                value_at: Callable[[datetime], float]) -> PiecewiseCurve:
    """The curve of ``value_at`` (a function of an aware instant) over [t0, t1].

    ``change_minutes_of(local_day)`` returns the minutes of that local day where the value may
    change; local midnights and offset transitions are always added.
    """
    if t1 <= t0:
        raise ValueError("curve interval must have t1 > t0")
    t0, t1 = t0.astimezone(UTC), t1.astimezone(UTC)
    cuts = {t0, t1, *_offset_transitions(tz, t0, t1)}
    day = t0.astimezone(tz).date() - timedelta(days=1)
    last = t1.astimezone(tz).date() + timedelta(days=1)
    while day <= last:
        midnight = datetime.combine(day, time(0), tz)
        for minute in (0, *change_minutes_of(midnight)):
            wall = midnight + timedelta(minutes=minute)  # wall-clock arithmetic: same tz
            for fold in (0, 1):
                u = wall.replace(fold=fold).astimezone(UTC)
                if t0 < u < t1:
                    cuts.add(u)
        day += timedelta(days=1)
    ordered = sorted(cuts)
    values = np.array([value_at(c) for c in ordered[:-1]], dtype=float)
    edges = np.array([c.timestamp() for c in ordered], dtype=float)
    # Merge equal neighbours: fewer segments, same function.
    keep = np.concatenate(([True], values[1:] != values[:-1]))
    return PiecewiseCurve(np.concatenate((edges[:-1][keep], edges[-1:])), values[keep])
