"""Cars still to come, as expected sessions appended to a Problem.

An online plan knows only the cars present. Without a word about the cars still to come, a
policy that spreads energy out (peak shaving, valley filling) defers the present cars' energy
to hours that the next arrivals will also want; on a congested site that energy is then never
delivered. ``FutureDemand`` is the expected demand of the cars to come over a plan's periods
(built by ``csms.charging.forecast`` from the site's history), each group of them one expected
session: a fraction of a car (``cars``) with the energy, power and window that fraction wants.

Appended to a Problem (``with_expected``), expected sessions compete for the site like cars but
count only after every real kWh (``Problem.expected``, ``csms.charging.lp``): the plan first
delivers the most the present cars can take, then leaves room for the forecast by charging the
present cars earlier, then follows the policy's objective over real and expected load alike.
They have no column in the extra constraint rows (their phases are unknown), no V2G, and come
last among equals (priority 1).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from csms.charging.problem import Problem


@dataclass(frozen=True)
class FutureDemand:
    """F expected sessions over a plan's periods (period 0 = the plan's first period).

    Per expected session (F,): ``arrival_period`` (int, first period it may draw),
    ``departure_period`` (int, exclusive), ``energy_kwh`` (all its cars together), ``max_kw``
    (all its cars together), ``cars`` (expected number of cars, may be fractional).
    """

    arrival_period: np.ndarray
    departure_period: np.ndarray
    energy_kwh: np.ndarray
    max_kw: np.ndarray
    cars: np.ndarray

    def __post_init__(self) -> None:
        put = object.__setattr__
        for name in ("arrival_period", "departure_period"):
            put(self, name, np.asarray(getattr(self, name), int).reshape(-1))
        for name in ("energy_kwh", "max_kw", "cars"):
            put(self, name, np.asarray(getattr(self, name), float).reshape(-1))
        f = self.arrival_period.size
        if any(getattr(self, a).size != f for a in ("departure_period", "energy_kwh",
                                                    "max_kw", "cars")):
            raise ValueError("every FutureDemand array must have the same length")
        if np.any(self.energy_kwh < 0) or np.any(self.max_kw < 0) or np.any(self.cars < 0):
            raise ValueError("energy_kwh, max_kw and cars must be >= 0")

    @property
    def size(self) -> int:
        return self.arrival_period.size

    def after(self, period: int) -> FutureDemand:
        """Those arriving after ``period`` (the cars of ``period`` itself are known by then),
        with periods counted from ``period``: the future as seen at that period."""
        keep = self.arrival_period > period
        return FutureDemand(self.arrival_period[keep] - period,
                            self.departure_period[keep] - period, self.energy_kwh[keep],
                            self.max_kw[keep], self.cars[keep])

    def scaled(self, factor: float) -> FutureDemand:
        """The same windows with ``factor`` times the cars (and their energy and power)."""
        return replace(self, energy_kwh=self.energy_kwh * factor, max_kw=self.max_kw * factor,
                       cars=self.cars * factor)


def with_expected(problem: Problem, future: FutureDemand | None) -> Problem:
    """``problem`` with the expected sessions of ``future`` appended (rows N..N+F-1).

    An expected session's window is clipped to the problem's periods; one that falls outside
    them, or wants nothing, is dropped.
    """
    if future is None or future.size == 0:
        return problem
    p = problem
    t = np.arange(p.n_periods)
    window = (t[None, :] >= future.arrival_period[:, None]) & \
        (t[None, :] < future.departure_period[:, None])
    keep = window.any(axis=1) & (future.energy_kwh > 0) & (future.max_kw > 0)
    if not keep.any():
        return p
    window = window[keep]
    f = window.shape[0]
    matrix = p.constraint_matrix
    if matrix.shape[0]:
        matrix = np.hstack([matrix, np.zeros((matrix.shape[0], f))])
    return replace(
        p, available=np.vstack([p.available, window]),
        energy_kwh=np.concatenate([p.energy_kwh, future.energy_kwh[keep]]),
        max_kw=np.concatenate([p.max_kw, future.max_kw[keep]]),
        min_kw=np.concatenate([p.min_kw, np.zeros(f)]),
        discharge_max_kw=np.concatenate([p.discharge_max_kw, np.zeros(f)]),
        phases=np.concatenate([p.phases, np.ones(f, int)]),
        energy_floor_kwh=np.concatenate([p.energy_floor_kwh, np.zeros(f)]),
        constraint_matrix=matrix if matrix.shape[0] else None,
        constraint_limits_kw=p.constraint_limits_kw if matrix.shape[0] else None,
        session_ids=p.session_ids + tuple(f"expected{j}" for j in range(f)),
        priority=None if p.priority is None else np.concatenate([p.priority, np.ones(f)]),
        expected=np.concatenate([p.expected, np.ones(f, bool)]))
