"""Objective vectors of the controlled policies, built on a ScheduleLP.

Each builder may append auxiliary columns and rows to the LP and returns the list of objective
vectors minimised after the first (energy) stage. Aux variables, all per period t:
- ``g_t >= max(0, base + sum x - PV)``: grid import (export is not paid for);
- ``z >= base + sum x - PV`` for every t: the site peak;
- PWL segments ``w_tk`` whose sum is the site import, with increasing slopes (convex square).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from csms.charging.lp import ScheduleLP

PWL_SEGMENTS = 48   # valley filling: error of s^2 <= (range/48)^2 / 4 per period


def _import_columns(lp: ScheduleLP) -> int:
    """Append g (T,) >= 0 with g_t >= base + sum x - PV; returns the first column index."""
    p = lp.problem
    t = p.n_periods
    g0 = lp.add_columns(np.zeros(t), np.full(t, np.inf))
    block = sp.hstack([lp.x_sum_rows(), sp.csr_matrix((t, g0 - lp.k)), -sp.eye(t)])
    lp.add_rows(block, p.pv_kw - p.base_load_kw)
    return g0


def _peak_column(lp: ScheduleLP) -> int:
    """Append z >= base + sum x - PV (all t), z >= peak_floor_kw; returns its column index."""
    p = lp.problem
    t = p.n_periods
    z = lp.add_columns(np.array([max(p.peak_floor_kw, -1e9)]), np.array([np.inf]))
    block = sp.hstack([lp.x_sum_rows(), sp.csr_matrix((t, z - lp.k)),
                       sp.csr_matrix(-np.ones((t, 1)))])
    lp.add_rows(block, p.pv_kw - p.base_load_kw)
    return z


def _vector(lp: ScheduleLP, entries: dict[int, np.ndarray] | None = None,
            x: np.ndarray | None = None) -> np.ndarray:
    c = np.zeros(lp.n_cols)
    if x is not None:
        c[:lp.k] = x
    for first, values in (entries or {}).items():
        c[first:first + np.size(values)] = values
    return c


ASAP_TIE_MAD_PER_KWH = 1e-4   # among equal prices, earlier is better (robust to early leaving)
EDF_WEIGHT = 0.5  # how much faster a kWh's cost grows with time for the most urgent session
# A kWh of a later-leaving session costs this much more per unit of rank. It must exceed
# EDF_WEIGHT (the most the time term can favour a lax session, in the last period), or when
# not every kWh fits the LP gives the site to whoever leaves last.
DEADLINE_WEIGHT = 2.0 * EDF_WEIGHT


def asap_edf(lp: ScheduleLP) -> np.ndarray:
    """Per power column, per kW: as soon as possible, earliest deadline first.

    A kWh in period t costs (t+1)/T, growing faster for sessions that leave sooner; with the
    whole site in use, swapping energy so that an earlier-leaving session charges first is
    always cheaper, so the plan's first period goes to them. When not every kWh fits, who gets
    the energy is free too: the additive deadline term (``DEADLINE_WEIGHT`` per unit of rank,
    more than the time term can give back) makes an earlier-leaving session's kWh the cheaper
    one in every period. The order is ``problem.priority`` when given (exact departures), else
    the session's last period."""
    p = lp.problem
    last = np.zeros(p.n_sessions)
    np.maximum.at(last, lp.ii, lp.tt + 1.0)
    rank = last / p.n_periods if p.priority is None else p.priority
    t_weight = (lp.tt + 1.0) / p.n_periods
    return t_weight * (1.0 + EDF_WEIGHT * (1.0 - rank[lp.ii])) + DEADLINE_WEIGHT * rank[lp.ii]


def cost_objective(lp: ScheduleLP, g0: int) -> np.ndarray:
    """Tariff cost of the import, plus a tie-break of at most 1.5e-4 MAD/kWh: among equally
    cheap plans, early energy and the earliest deadlines first (``asap_edf``)."""
    p = lp.problem
    tie = ASAP_TIE_MAD_PER_KWH * asap_edf(lp) * p.period_h
    return _vector(lp, {g0: p.price_mad_per_kwh * p.period_h}, x=tie)


def price_optimization(lp: ScheduleLP) -> list[np.ndarray]:
    g0 = _import_columns(lp)
    return [cost_objective(lp, g0)]


def peak_shaving(lp: ScheduleLP) -> list[np.ndarray]:
    g0 = _import_columns(lp)
    z = _peak_column(lp)
    return [_vector(lp, {z: np.array([1.0])}), cost_objective(lp, g0)]


def renewable_integration(lp: ScheduleLP) -> list[np.ndarray]:
    """Grid import first, then cost. In a flow network a cycle moves import by 0 or +-1 unit
    and cost has the same sign when import moves, so the weights (1 + price) are lexicographic."""
    p = lp.problem
    g0 = _import_columns(lp)
    if lp.is_network:
        return [cost_objective(lp, g0) + _vector(lp, {g0: np.full(p.n_periods, p.period_h)})]
    return [_vector(lp, {g0: np.full(p.n_periods, p.period_h)}), cost_objective(lp, g0)]


def grid_support(lp: ScheduleLP) -> list[np.ndarray]:
    """Import in the peak band first, then cost (with V2G: one LP stage each).

    In a flow network a cycle changes peak-band import by 0 or +-1 unit and cost by at most the
    price spread, so a peak-band weight above the spread is lexicographic.
    """
    p = lp.problem
    g0 = _import_columns(lp)
    peak_energy = np.where(p.peak_mask, p.period_h, 0.0)
    if lp.is_network:
        spread = float(np.ptp(p.price_mad_per_kwh)) if p.n_periods else 0.0
        weight = 2.0 * spread + 1.0
        return [cost_objective(lp, g0) + _vector(lp, {g0: weight * peak_energy})]
    return [_vector(lp, {g0: peak_energy}), cost_objective(lp, g0)]


def load_balancing(lp: ScheduleLP) -> list[np.ndarray]:
    """As soon as possible; earlier deadlines first among equals (``asap_edf``)."""
    return [_vector(lp, x=asap_edf(lp) * lp.problem.period_h)]


def valley_filling(lp: ScheduleLP) -> list[np.ndarray]:
    """Sum of squared site import, as a convex piecewise-linear function of each period's import.

    The import s_t ranges over [lo_t, hi_t] (EVs all off / all at their bound, capped by the site);
    s_t = lo_t + sum_k w_tk with 0 <= w_tk <= width_t and slope_k = ((lo+(k+1)w)^2-(lo+kw)^2)/w.
    """
    p = lp.problem
    t, n_seg = p.n_periods, PWL_SEGMENTS
    x_upper = np.bincount(lp.tt, weights=np.concatenate(lp.hi)[:lp.k], minlength=t)
    x_lower = np.bincount(lp.tt, weights=np.concatenate(lp.lo)[:lp.k], minlength=t)
    net = p.base_load_kw - p.pv_kw
    lo = net + x_lower
    hi = net + np.minimum(x_upper, p.ev_capacity_kw)
    width = np.maximum(hi - lo, 0.0) / n_seg
    w0 = lp.add_columns(np.zeros(t * n_seg), np.repeat(width, n_seg))
    # Row t: sum x - sum_k w_tk == -lo_t + net_t ... as two inequalities.
    seg_sum = sp.csr_matrix((np.ones(t * n_seg), (np.repeat(np.arange(t), n_seg),
                                                   np.arange(t * n_seg))), shape=(t, t * n_seg))
    block = sp.hstack([lp.x_sum_rows(), sp.csr_matrix((t, w0 - lp.k)), -seg_sum])
    rhs = lo - net
    lp.add_rows(block, rhs)
    lp.add_rows(-block, -rhs)
    k = np.arange(n_seg)
    left = lo[:, None] + k[None, :] * width[:, None]
    right = left + width[:, None]
    slope = np.where(width[:, None] > 0, left + right, 0.0)   # (r^2 - l^2) / (r - l)
    # Which car takes a period's import is a tie: settle it as load balancing does, at 1e-4
    # of the steepest slope (smaller ties drown in the solver's tolerances).
    tie = 1e-4 * max(1.0, float(slope.max(initial=0.0))) * asap_edf(lp) * p.period_h
    return [_vector(lp, {w0: (slope * p.period_h).reshape(-1)}, x=tie)]


OBJECTIVES = {
    "load_balancing": load_balancing,
    "peak_shaving": peak_shaving,
    "valley_filling": valley_filling,
    "price_optimization": price_optimization,
    "grid_support": grid_support,
    "renewable_integration": renewable_integration,
}
