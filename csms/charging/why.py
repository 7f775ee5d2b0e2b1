"""Why a session draws what it draws: the binding constraint per session and period.

Checked in this order (the first that holds wins), with a tolerance of 1e-6 kW:
``not_present`` (outside the window), ``ev_max`` (at the EV's limit), ``frequency`` (at the
droop-reduced limit), ``energy_met`` (the running energy already reached the request),
``site_limit`` (the site import is at capacity), a constraint name from the problem's M rows,
``v2g`` (discharging), and otherwise the policy's own reason (``price``, ``peak``, ...).
"""

from __future__ import annotations

import numpy as np

from csms.charging.problem import Problem, frequency_derate

TOL_KW = 1e-6

POLICY_REASON = {
    "uncontrolled": "ev_max",
    "load_balancing": "deadline",
    "peak_shaving": "peak",
    "valley_filling": "valley",
    "price_optimization": "price",
    "grid_support": "peak_band",
    "renewable_integration": "pv",
}


def binding(problem: Problem, power_kw: np.ndarray, policy: str,
            frequency_response: bool = False) -> np.ndarray:
    """(N, T) array of reason strings for a schedule ``power_kw`` (N, T)."""
    p = problem
    n, t = p.available.shape
    reason = POLICY_REASON.get(policy, policy)
    why = np.full((n, t), reason, dtype=object)
    tol = TOL_KW + 1e-9 * np.abs(power_kw)
    done = np.zeros((n, t), bool)

    def mark(cond: np.ndarray, name: str) -> None:
        nonlocal done
        hit = cond & ~done
        why[hit] = name
        done |= hit

    mark(~p.available, "not_present")
    mark(power_kw >= p.max_kw[:, None] - tol, "ev_max")
    if frequency_response:
        derate = frequency_derate(p.frequency_hz)
        mark((derate[None, :] < 1) & (power_kw >= p.max_kw[:, None] * derate[None, :] - tol),
             "frequency")
    running_kwh = np.cumsum(power_kw, axis=1) * p.period_h
    met = running_kwh >= p.energy_kwh[:, None] - 1e-6 * np.maximum(1.0, p.energy_kwh[:, None])
    # A period counts as "energy met" if the request was reached before or during it.
    mark(met, "energy_met")
    ev_total = power_kw.sum(axis=0)
    site_tight = ev_total >= p.ev_capacity_kw - 1e-5 * np.maximum(1.0, p.ev_capacity_kw)
    mark(np.broadcast_to(site_tight[None, :], (n, t)), "site_limit")
    if p.constraint_matrix.shape[0]:
        load = p.constraint_matrix @ power_kw                      # (M, T)
        tight = load >= p.constraint_limits_kw - 1e-5 * np.maximum(1.0, p.constraint_limits_kw)
        for m, name in enumerate(p.constraint_names):
            involved = p.constraint_matrix[m] > 0
            mark(involved[:, None] & tight[m][None, :], name)
    mark(power_kw < -tol, "v2g")
    return why
