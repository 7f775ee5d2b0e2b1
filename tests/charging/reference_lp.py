"""An independent dense LP of the charging problem (variables for every session x period).

Written separately from csms.charging.lp on purpose: dense matrices, explicit equality for the
fixed energy, a different variable layout (x then g then z), two plain stages.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

from csms.charging import frequency_derate


def reference(problem, objective: str, frequency_response: bool = False) -> tuple[float, float]:
    """(max energy kWh, optimum of ``objective``) for cost | peak | import | peak_band."""
    p = problem
    derate = frequency_derate(p.frequency_hz) if frequency_response else np.ones(p.n_periods)
    n, t = p.available.shape
    nx = n * t
    dt = p.period_h
    # columns: x (n*t, row-major), g (t), z (1)
    ncol = nx + t + 1
    bounds = [(0.0, p.max_kw[i] * derate[j] if p.available[i, j] else 0.0) for i in range(n) for j in range(t)]
    bounds += [(0.0, None)] * t + [(None, None)]
    rows, rhs = [], []
    for i in range(n):                       # energy per session
        r = np.zeros(ncol)
        r[i * t:(i + 1) * t] = dt
        rows.append(r)
        rhs.append(p.energy_kwh[i])
    for j in range(t):                       # site cap, import g, peak z
        r = np.zeros(ncol)
        r[j:nx:t] = 1.0
        rows.append(r.copy())
        rhs.append(max(0.0, p.capacity_kw[j] - p.base_load_kw[j] + p.pv_kw[j]))
        r[nx + j] = -1.0
        rows.append(r.copy())
        rhs.append(p.pv_kw[j] - p.base_load_kw[j])
        r[nx + j] = 0.0
        r[-1] = -1.0
        rows.append(r)
        rhs.append(p.pv_kw[j] - p.base_load_kw[j])
    for m in range(p.constraint_matrix.shape[0]):
        for j in range(t):
            r = np.zeros(ncol)
            r[j:nx:t] = p.constraint_matrix[m]
            rows.append(r)
            rhs.append(p.constraint_limits_kw[m, j])
    a_ub, b_ub = np.array(rows), np.array(rhs)
    c = np.zeros(ncol)
    c[:nx] = -dt
    first = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs-ipm")
    energy = -first.fun
    c2 = np.zeros(ncol)
    if objective == "cost":
        c2[nx:nx + t] = p.price_mad_per_kwh * dt
    elif objective == "import":
        c2[nx:nx + t] = dt
    elif objective == "peak_band":
        c2[nx:nx + t] = np.where(p.peak_mask, dt, 0.0)
    elif objective == "peak":
        c2[-1] = 1.0
    a_eq = np.zeros((1, ncol))
    a_eq[0, :nx] = dt
    second = linprog(c2, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[energy * (1 - 1e-9)],
                     bounds=bounds, method="highs-ipm")
    return energy, float(second.fun)


def reference_v2g_peak_band(problem) -> tuple[float, float]:
    """(max net energy kWh, least peak-band import kWh) with V2G discharge, as grid support.

    Dense and separate from csms.charging.lp: x (n*t, row-major) within [-discharge, max x
    droop] where available, then g (t) >= 0; each session's running net energy after every
    period within [-energy_floor_kwh, energy_kwh]; the site cap and the circuit rows.
    """
    p = problem
    derate = frequency_derate(p.frequency_hz)
    n, t = p.available.shape
    nx, dt = n * t, p.period_h
    ncol = nx + t
    bounds = [(-p.discharge_max_kw[i] if p.available[i, j] else 0.0,
               p.max_kw[i] * derate[j] if p.available[i, j] else 0.0)
              for i in range(n) for j in range(t)] + [(0.0, None)] * t
    rows, rhs = [], []
    for i in range(n):
        for j in range(t):
            r = np.zeros(ncol)
            r[i * t:i * t + j + 1] = dt
            rows.append(r)
            rhs.append(p.energy_kwh[i])
            rows.append(-r)
            rhs.append(p.energy_floor_kwh[i] if p.discharge_max_kw[i] > 0 else 0.0)
    for j in range(t):
        r = np.zeros(ncol)
        r[j:nx:t] = 1.0
        rows.append(r.copy())
        rhs.append(max(0.0, p.capacity_kw[j] - p.base_load_kw[j] + p.pv_kw[j]))
        r[nx + j] = -1.0
        rows.append(r)
        rhs.append(p.pv_kw[j] - p.base_load_kw[j])
    for m in range(p.constraint_matrix.shape[0]):
        for j in range(t):
            r = np.zeros(ncol)
            r[j:nx:t] = p.constraint_matrix[m]
            rows.append(r)
            rhs.append(p.constraint_limits_kw[m, j])
    a_ub, b_ub = np.array(rows), np.array(rhs)
    c = np.zeros(ncol)
    c[:nx] = -dt
    first = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
    energy = -first.fun
    c2 = np.zeros(ncol)
    c2[nx:] = np.where(p.peak_mask, dt, 0.0)
    a_eq = np.zeros((1, ncol))
    a_eq[0, :nx] = dt
    second = linprog(c2, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=[energy * (1 - 1e-9)],
                     bounds=bounds, method="highs")
    return energy, float(second.fun)
