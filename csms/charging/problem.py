"""A smart-charging problem: N sessions over T periods, as arrays.

Power is in kW at the grid side; positive = charging, negative = discharging (V2G).
A session may draw power only in the periods marked in ``available`` (N x T), which are the
periods lying entirely inside its [arrival, departure) window (see ``availability``).

The site's grid connection limits the import ``base + sum(EV) - PV <= capacity_kw`` in every
period; extra constraints (phases, circuits) are a non-negative matrix ``constraint_matrix``
(M x N) with limits ``constraint_limits_kw`` (M x T): ``A @ P[:, t] <= limits[:, t]``
(acnportal's convention).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np

log = logging.getLogger(__name__)

# IEC 61851 / grid-code droop: full charging above 49.9 Hz, none at 49.8 Hz, linear between.
FREQ_FULL_HZ = 49.9
FREQ_ZERO_HZ = 49.8


def availability(arrival_s: np.ndarray, departure_s: np.ndarray, periods: int,
                 period_s: float) -> np.ndarray:
    """Mask (N, T): period t = [t*period_s, (t+1)*period_s) lies inside [arrival, departure).

    ``arrival_s``/``departure_s`` (N,) are seconds from the horizon start.
    """
    starts = np.arange(periods) * float(period_s)
    arrival_s = np.asarray(arrival_s, dtype=float)[:, None]
    departure_s = np.asarray(departure_s, dtype=float)[:, None]
    return (starts[None, :] >= arrival_s) & (starts[None, :] + period_s <= departure_s)


def frequency_derate(frequency_hz: np.ndarray) -> np.ndarray:
    """Charging-power factor (T,) in [0, 1]: 1 at >= 49.9 Hz, 0 at <= 49.8 Hz, linear between."""
    f = np.asarray(frequency_hz, dtype=float)
    return np.clip((f - FREQ_ZERO_HZ) / (FREQ_FULL_HZ - FREQ_ZERO_HZ), 0.0, 1.0)


@dataclass(frozen=True)
class Problem:
    """Sessions (N,) x periods (T,) and the site; every array is float unless noted.

    Per session (N,): ``energy_kwh`` still wanted, ``max_kw`` charging limit, ``min_kw`` smallest
    non-zero charging power (enforced when converting to charger limits, see ``limits``),
    ``discharge_max_kw`` >= 0 (0 = no V2G), ``phases`` (int), ``energy_floor_kwh`` >= 0: how far
    the running net energy of a V2G session may fall below zero (energy already delivered, online).
    Per period (T,): ``capacity_kw`` import limit, ``base_load_kw``, ``pv_kw``,
    ``price_mad_per_kwh``, ``peak_mask`` (bool, the tariff's peak band), ``frequency_hz``.
    ``peak_floor_kw``: a site peak already reached (online), below which peak costs nothing.
    ``priority`` (N,) in [0, 1], optional: the order among otherwise equal sessions (online: by
    departure, then arrival), so that re-planning every minute keeps choosing the same cars.
    ``expected`` (N,) bool, optional: sessions that are a forecast of cars still to come, not
    cars (see ``csms.charging.expected``); their energy counts only after every real kWh.
    ``now_first`` (online load balancing): the first period's energy is maximised before the
    horizon's. Power the site can take now is certain; the plan's later periods rest on
    guessed departures and no later arrivals. Where phase rows bind, a horizon-energy optimum
    can leave a third of the site unused now (a one-phase car short of energy keeps its
    phase, so three-phase cars that the plan would serve later get nothing now) while the
    cars it counted on for later leave early and new ones fill the later periods.
    ``now_first_import_kw``: the site import that stage may reach in the first period (a
    policy's free room, e.g. the day's peak so far for peak shaving); later stages may go
    beyond it. Default: no bound.
    """

    period_s: float
    available: np.ndarray                      # (N, T) bool
    energy_kwh: np.ndarray                     # (N,)
    max_kw: np.ndarray                         # (N,)
    capacity_kw: np.ndarray                    # (T,)
    min_kw: np.ndarray | None = None           # (N,)
    discharge_max_kw: np.ndarray | None = None  # (N,)
    phases: np.ndarray | None = None           # (N,) int
    energy_floor_kwh: np.ndarray | None = None  # (N,)
    base_load_kw: np.ndarray | None = None     # (T,)
    pv_kw: np.ndarray | None = None            # (T,)
    price_mad_per_kwh: np.ndarray | None = None  # (T,)
    peak_mask: np.ndarray | None = None        # (T,) bool
    frequency_hz: np.ndarray | None = None     # (T,)
    constraint_matrix: np.ndarray | None = None  # (M, N)
    constraint_limits_kw: np.ndarray | None = None  # (M, T)
    constraint_names: tuple[str, ...] = ()
    session_ids: tuple[str, ...] = ()
    peak_floor_kw: float = -np.inf
    priority: np.ndarray | None = None         # (N,) in [0, 1]: among equals, smaller first
    expected: np.ndarray | None = None         # (N,) bool: forecast, not a car
    now_first: bool = False                    # maximise period 0's energy first (online)
    now_first_import_kw: float = np.inf        # ... up to this site import in period 0
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        n, t = np.shape(self.available)
        put = object.__setattr__
        put(self, "available", np.asarray(self.available, dtype=bool).reshape(n, t))
        for name, default in [("energy_kwh", None), ("max_kw", None), ("min_kw", 0.0),
                              ("discharge_max_kw", 0.0), ("energy_floor_kwh", 0.0)]:
            value = getattr(self, name)
            arr = np.full(n, default, float) if value is None else np.asarray(value, float)
            if arr.shape != (n,):
                raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
            if np.any(arr < 0) or not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} must be finite and >= 0")
            put(self, name, arr)
        phases = np.ones(n, int) if self.phases is None else np.asarray(self.phases, int)
        put(self, "phases", phases.reshape(n))
        for name, default in [("capacity_kw", None), ("base_load_kw", 0.0), ("pv_kw", 0.0),
                              ("price_mad_per_kwh", 0.0), ("frequency_hz", 50.0)]:
            value = getattr(self, name)
            arr = np.full(t, default, float) if value is None else np.asarray(value, float)
            arr = np.broadcast_to(arr, (t,)).astype(float)
            put(self, name, arr)
        mask = np.zeros(t, bool) if self.peak_mask is None else np.asarray(self.peak_mask, bool)
        put(self, "peak_mask", np.broadcast_to(mask, (t,)).copy())
        if self.constraint_matrix is None or np.size(self.constraint_matrix) == 0:
            put(self, "constraint_matrix", np.zeros((0, n)))
            put(self, "constraint_limits_kw", np.zeros((0, t)))
        else:
            a = np.asarray(self.constraint_matrix, float).reshape(-1, n)
            lim = np.broadcast_to(np.asarray(self.constraint_limits_kw, float).reshape(
                a.shape[0], -1), (a.shape[0], t)).astype(float)
            if np.any(a < 0):
                raise ValueError("constraint_matrix must be non-negative")
            put(self, "constraint_matrix", a)
            put(self, "constraint_limits_kw", lim)
        if len(self.constraint_names) != self.constraint_matrix.shape[0]:
            put(self, "constraint_names", tuple(
                f"constraint_{m}" for m in range(self.constraint_matrix.shape[0])))
        if self.priority is not None:
            prio = np.asarray(self.priority, float).reshape(n)
            if np.any(prio < 0) or np.any(prio > 1):
                raise ValueError("priority must lie in [0, 1]")
            put(self, "priority", prio)
        expected = np.zeros(n, bool) if self.expected is None else np.asarray(self.expected,
                                                                             bool)
        put(self, "expected", expected.reshape(n))
        if len(self.session_ids) != n:
            put(self, "session_ids", tuple(str(i) for i in range(n)))

    @property
    def n_sessions(self) -> int:
        return self.available.shape[0]

    @property
    def n_periods(self) -> int:
        return self.available.shape[1]

    @property
    def period_h(self) -> float:
        return self.period_s / 3600.0

    @property
    def ev_capacity_kw(self) -> np.ndarray:
        """(T,) most the EVs together may import: capacity - base + PV, never below 0."""
        return np.maximum(0.0, self.capacity_kw - self.base_load_kw + self.pv_kw)

    def upper_kw(self, frequency_response: bool = False) -> np.ndarray:
        """(N, T) per-period charging bound: max_kw where available, else 0."""
        upper = np.where(self.available, self.max_kw[:, None], 0.0)
        if frequency_response:
            upper = upper * frequency_derate(self.frequency_hz)[None, :]
        return upper

    def lower_kw(self, allow_discharge: bool = False) -> np.ndarray:
        """(N, T) per-period bound below: -discharge_max_kw where available (V2G), else 0."""
        if not allow_discharge:
            return np.zeros(self.available.shape)
        return np.where(self.available, -self.discharge_max_kw[:, None], 0.0)

    def site_import_kw(self, power_kw: np.ndarray) -> np.ndarray:
        """(T,) net grid import for a schedule (N, T): base + sum(EV) - PV (negative = export)."""
        return self.base_load_kw + np.asarray(power_kw).sum(axis=0) - self.pv_kw

    def subset(self, sessions: np.ndarray, periods: slice | None = None) -> Problem:
        """The problem restricted to some sessions (index array) and a period range."""
        periods = periods or slice(0, self.n_periods)
        cols = np.arange(self.n_periods)[periods]
        ids = tuple(self.session_ids[i] for i in sessions)
        return replace(
            self,
            available=self.available[np.ix_(sessions, cols)],
            energy_kwh=self.energy_kwh[sessions], max_kw=self.max_kw[sessions],
            min_kw=self.min_kw[sessions], discharge_max_kw=self.discharge_max_kw[sessions],
            phases=self.phases[sessions], energy_floor_kwh=self.energy_floor_kwh[sessions],
            capacity_kw=self.capacity_kw[cols], base_load_kw=self.base_load_kw[cols],
            pv_kw=self.pv_kw[cols], price_mad_per_kwh=self.price_mad_per_kwh[cols],
            peak_mask=self.peak_mask[cols], frequency_hz=self.frequency_hz[cols],
            constraint_matrix=self.constraint_matrix[:, sessions],
            constraint_limits_kw=self.constraint_limits_kw[:, cols], session_ids=ids,
            priority=None if self.priority is None else self.priority[sessions],
            expected=self.expected[sessions],
            now_first=self.now_first and cols.size > 0 and cols[0] == 0)
