"""Forecast of the cars still to come today, from the site's own history and a prior.

    forecast = fit_forecast(history, prior=elaad_prior("workplace"))
    future = forecast.future_demand(start_local, period_s=900, periods=96, max_kw=6.6)
    controlled_power(problem, "peak_shaving", future=future)     # or online_schedule(...)

Per local 15-min slot and day type (weekday, weekend), the expected number of arrivals is the
history's count blended with the prior's: ``(count + prior_days * prior_rate) / (days +
prior_days)``, where the prior's rate is its arrival share times ``prior_arrivals_per_day``
(default: the history's own mean, so ElaadNL gives the shape and the site the level). With
weeks of history the site's own counts dominate; with none, the prior alone speaks (and without
a count, nothing is expected: the plan is as before).

The level is then raised to a busy day's (``busy_day_quantile`` of the history's daily
energy over its mean; see ``fit_forecast``).

What a car arriving in a slot wants comes from the sessions (history and prior pseudo-sessions,
weighted the same way) that arrived within ``window_slots`` of it: sorted by the mean power
they need (energy / stay) and cut into ``classes`` equally likely groups, each with its mean
stay and mean energy. The prior's pseudo-sessions pair the i-th shortest stay with the i-th
smallest energy (ElaadNL gives the two separately; long stays take more).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from csms.charging.expected import FutureDemand
from csms.charging.prior import SLOTS_PER_DAY, DemandPrior

SLOT_S = 86400 // SLOTS_PER_DAY
PRIOR_DAYS = 5.0        # the prior weighs as much as a working week of the site's own history
CLASSES = 4             # classes of need (energy / stay) per arrival slot
WINDOW_SLOTS = 4        # a slot's stay and energy pool the arrivals within +-1 h
BIN_S = 3600            # expected sessions group the arrivals of an hour (a smaller LP)
MIN_DWELL_H = 0.25      # one slot: a shorter stay's mean power is taken over a slot
# Plan for the history's 90th-percentile day: 0.95 reached 97 % on one more congested day of
# October 2019 but raised the quiet days' online peak above planning without any forecast
# (mean 31.6 against 31.0 kW; 30.4 at 0.9; docs/smart-charging.md).
BUSY_DAY_QUANTILE = 0.9


@dataclass(frozen=True)
class History:
    """A site's past sessions (S,) over D whole local days, days without any car included.

    ``arrival_slot`` (int, local 15-min slot of the day), ``day`` (int, index of the local day
    of arrival), ``dwell_h``, ``energy_kwh`` (what the car took); ``day_weekend`` (D,) bool.
    """

    arrival_slot: np.ndarray
    day: np.ndarray
    dwell_h: np.ndarray
    energy_kwh: np.ndarray
    day_weekend: np.ndarray

    @property
    def weekend(self) -> np.ndarray:
        """(S,) the session arrived on a weekend day."""
        return self.day_weekend[self.day]

    @classmethod
    def from_sessions(cls, arrivals_local: list[datetime], departures_local: list[datetime],
                      energy_kwh: list[float], first_day: date, last_day: date) -> History:
        """Sessions given in the site's local time, arriving ``first_day``..``last_day``."""
        days = [first_day + timedelta(days=d) for d in range((last_day - first_day).days + 1)]
        slot = [(a.hour * 3600 + a.minute * 60 + a.second) // SLOT_S for a in arrivals_local]
        dwell = [(d - a).total_seconds() / 3600.0
                 for a, d in zip(arrivals_local, departures_local, strict=True)]
        day = np.array([(a.date() - first_day).days for a in arrivals_local], int)
        if np.any((day < 0) | (day >= len(days))):
            raise ValueError(f"sessions outside {first_day}..{last_day}")
        return cls(arrival_slot=np.array(slot, int), day=day,
                   dwell_h=np.array(dwell, float), energy_kwh=np.array(energy_kwh, float),
                   day_weekend=np.array([d.weekday() >= 5 for d in days], bool))


@dataclass(frozen=True)
class DemandForecast:
    """``arrivals`` (2, 96): expected cars per local 15-min slot, row 0 weekdays, 1 weekends;
    ``dwell_h``, ``energy_kwh`` (2, 96, classes): each equally likely class of those cars."""

    arrivals: np.ndarray
    dwell_h: np.ndarray
    energy_kwh: np.ndarray

    def future_demand(self, start_local: datetime, period_s: float, periods: int,
                      max_kw: float, bin_s: float = BIN_S) -> FutureDemand:
        """The cars expected over ``periods`` periods from ``start_local`` (the site's local
        wall-clock time; the horizon is taken as free of clock changes), as expected sessions.

        The arrivals of each ``bin_s`` make one expected session per class; a car arriving in
        a period may draw from the next one on (periods lie entirely inside a stay), at most
        ``max_kw`` (the site's usual EV power) per car.
        """
        classes = self.dwell_h.shape[2]
        step_s = min(float(period_s), float(SLOT_S))
        n_steps = int(math.ceil(periods * period_s / step_s))
        t_s = (np.arange(n_steps) + 0.5) * step_s                     # step midpoints
        when = [start_local + timedelta(seconds=float(s)) for s in t_s]
        kind = np.array([w.weekday() >= 5 for w in when], int)
        slot = np.array([(w.hour * 3600 + w.minute * 60 + w.second) // SLOT_S for w in when])
        cars = self.arrivals[kind, slot] * step_s / SLOT_S             # (steps,)
        bins = (t_s // bin_s).astype(int)
        out = {k: [] for k in ("a", "d", "e", "m", "c")}
        for b in np.unique(bins):
            sel = np.nonzero((bins == b) & (cars > 0))[0]
            total = float(cars[sel].sum())
            if total <= 0:
                continue
            mean_t_s = float((cars[sel] * t_s[sel]).sum() / total)
            weight = cars[sel] / total
            dwell = weight @ self.dwell_h[kind[sel], slot[sel]]         # (classes,)
            energy = weight @ self.energy_kwh[kind[sel], slot[sel]]
            arrival = int(math.ceil(mean_t_s / period_s))
            per_class = total / classes
            for c in range(classes):
                out["a"].append(arrival)
                out["d"].append(int((mean_t_s + dwell[c] * 3600.0) // period_s))
                out["e"].append(per_class * energy[c])
                out["m"].append(per_class * max_kw)
                out["c"].append(per_class)
        return FutureDemand(np.array(out["a"], int), np.array(out["d"], int),
                            np.array(out["e"]), np.array(out["m"]), np.array(out["c"]))


def _classes(dwell_h: np.ndarray, energy_kwh: np.ndarray, weight: np.ndarray,
             classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut weighted sessions sorted by the mean power they need (energy / stay) into
    ``classes`` equal-weight groups; each group's weighted mean stay and energy (a session on a
    cut is shared between both groups). Grouping by need rather than by stay keeps the cars
    that must charge nearly all the time they stay together: averaged with lax ones, they would
    look flexible, and the plan would leave them too little room."""
    need_kw = energy_kwh / np.maximum(dwell_h, MIN_DWELL_H)
    order = np.argsort(need_kw, kind="stable")
    d, e, w = dwell_h[order], energy_kwh[order], weight[order]
    edges = np.concatenate([[0.0], np.cumsum(w)]) / w.sum()
    out_d, out_e = np.zeros(classes), np.zeros(classes)
    for c in range(classes):
        lo, hi = c / classes, (c + 1) / classes
        share = np.clip(np.minimum(edges[1:], hi) - np.maximum(edges[:-1], lo), 0.0, None)
        out_d[c] = share @ d / share.sum()
        out_e[c] = share @ e / share.sum()
    return out_d, out_e


def fit_forecast(history: History | None, prior: DemandPrior,
                 prior_arrivals_per_day: tuple[float, float] | None = None,
                 prior_days: float = PRIOR_DAYS, classes: int = CLASSES,
                 window_slots: int = WINDOW_SLOTS,
                 busy_day_quantile: float | None = BUSY_DAY_QUANTILE) -> DemandForecast:
    """Blend the site's history with the prior (see the module docstring).

    ``prior_arrivals_per_day``: (weekday, weekend) cars a day the operator expects; default
    the history's own means (0 without history). ``busy_day_quantile``: plan for a day as
    busy as this quantile of the history's daily energy rather than for the mean day (all
    arrivals scaled by their ratio, never below 1; None: the mean day). On a congested site the
    two errors do not cost the same: energy deferred for a day that turns out busier than the
    mean is lost, while planning for a busy day that turns out quiet only charges earlier.
    """
    arrivals = np.zeros((2, SLOTS_PER_DAY))
    dwell = np.zeros((2, SLOTS_PER_DAY, classes))
    energy = np.zeros((2, SLOTS_PER_DAY, classes))
    slots = np.arange(SLOTS_PER_DAY)
    for kind in (0, 1):
        if history is None:
            days, mine, busy = 0, np.zeros(0, bool), 1.0
        else:
            of_kind = history.day_weekend == bool(kind)
            days = int(of_kind.sum())
            mine = history.weekend == bool(kind)
            daily_kwh = np.bincount(history.day[mine], weights=history.energy_kwh[mine],
                                    minlength=history.day_weekend.size)[of_kind]
            busy = 1.0
            if busy_day_quantile is not None and days and daily_kwh.mean() > 0:
                busy = max(1.0, float(np.quantile(daily_kwh, busy_day_quantile)
                                      / daily_kwh.mean()))
        h_slot = history.arrival_slot[mine] if days else np.zeros(0, int)
        counts = np.bincount(h_slot, minlength=SLOTS_PER_DAY).astype(float)
        if prior_arrivals_per_day is not None:
            level = float(prior_arrivals_per_day[kind])
        else:
            level = counts.sum() / days if days else 0.0
        prior_rate = prior.arrival_share[kind] * level                   # cars per slot a day
        weight_days = days + prior_days
        if weight_days <= 0:        # neither history nor prior for this day type
            continue
        arrivals[kind] = busy * (counts + prior_days * prior_rate) / weight_days
        h_dwell = history.dwell_h[mine] if days else np.zeros(0)
        h_energy = history.energy_kwh[mine] if days else np.zeros(0)
        q = prior.dwell_h.size
        for s in slots:
            near = np.abs((slots - s + SLOTS_PER_DAY // 2) % SLOTS_PER_DAY
                          - SLOTS_PER_DAY // 2) <= window_slots
            hist = np.isin(h_slot, slots[near])
            prior_w = prior_days * prior_rate[near].sum() / q
            w = np.concatenate([np.ones(int(hist.sum())), np.full(q, prior_w)])
            if w.sum() <= 0:
                continue
            dwell[kind, s], energy[kind, s] = _classes(
                np.concatenate([h_dwell[hist], prior.dwell_h]),
                np.concatenate([h_energy[hist], prior.energy_kwh]), w, classes)
    return DemandForecast(arrivals=arrivals, dwell_h=dwell, energy_kwh=energy)
