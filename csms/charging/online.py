"""Online (model-predictive) mode: what runs in production.

At the start of every period k the planner knows only the sessions that have arrived (their
first available period is <= k) and are still present, with their declared departure
(``declared_available``, default: the true window) and remaining energy. It solves the policy
over the known sessions from k to the last declared departure and applies only period k; then
it re-plans. Site data (base load, PV, prices) are taken as known forecasts; the grid frequency
is known only for the current period (the future is planned at 50 Hz). Peak shaving is told the
peak already reached (``peak_floor_kw``), and V2G sessions how much they may still give: their
own floor (the battery above its V2X minimum at arrival) plus what they already received. A V2G
session stays in the plan after it has its energy (grid support may still discharge it).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import numpy as np

from csms.charging.expected import FutureDemand
from csms.charging.policies import (
    FREQUENCY_POLICIES,
    V2G_POLICIES,
    Schedule,
    controlled_power,
    uncontrolled_power,
)
from csms.charging.problem import Problem
from csms.charging.why import binding
from csms.domain.model import Policy

log = logging.getLogger(__name__)


def online_schedule(problem: Problem, policy: str,
                    declared_available: np.ndarray | None = None,
                    future: FutureDemand | None = None) -> Schedule:
    """Run ``policy`` period by period; returns the power actually applied (N, T).

    ``future``: the expected demand of the cars to come over the whole horizon (periods of
    ``problem``); at period k the plan is told of those expected after k
    (``FutureDemand.after``), and plans until the last departure of the cars present or
    expected. None (default): only the cars present are known.
    """
    t0 = time.perf_counter()
    p = problem
    n, t_count = p.available.shape
    if policy == Policy.UNCONTROLLED:
        # No planning at all: identical online and offline.
        power = uncontrolled_power(p)
        return Schedule(policy, power, binding(p, power, policy), time.perf_counter() - t0)
    declared = p.available if declared_available is None else np.asarray(declared_available, bool)
    present_any = p.available.any(axis=1)
    arrival = np.where(present_any, np.argmax(p.available, axis=1), t_count)
    power = np.zeros((n, t_count))
    delivered_kwh = np.zeros(n)
    peak_kw = -np.inf
    may_discharge = (p.discharge_max_kw > 0) & (policy in V2G_POLICIES)
    for k in range(t_count):
        remaining = p.energy_kwh - delivered_kwh
        # A V2G car that has its energy stays in the plan: it may still give some back.
        active = np.nonzero((arrival <= k) & p.available[:, k] &
                            ((remaining > 1e-9) | may_discharge))[0]
        if active.size:
            plan_avail = declared[active, k:].copy()
            plan_avail[:, 0] = True      # present now whatever was declared
            last = np.max(np.nonzero(plan_avail.any(axis=0))[0]) + 1
            ahead = None if future is None else future.after(k)
            if ahead is not None and ahead.size:
                # plan_avail spans the rest of the horizon: room for the expected windows.
                last = max(last, min(t_count - k, int(ahead.departure_period.max())))
            sub = p.subset(active, slice(k, k + last))
            freq = np.full(last, 50.0)
            freq[0] = p.frequency_hz[k]
            sub = replace(sub, available=plan_avail[:, :last], energy_kwh=remaining[active],
                          energy_floor_kwh=np.maximum(
                              p.energy_floor_kwh[active] + delivered_kwh[active], 0.0),
                          frequency_hz=freq, peak_floor_kw=peak_kw)
            plan = controlled_power(sub, policy, ahead)
            power[active, k] = plan[:, 0]
            delivered_kwh[active] += plan[:, 0] * p.period_h
        peak_kw = max(peak_kw, float(p.site_import_kw(power[:, k:k + 1])[0]))
    runtime_s = time.perf_counter() - t0
    why = binding(p, power, policy, frequency_response=policy in FREQUENCY_POLICIES)
    log.debug("online %s: %d sessions x %d periods in %.2f s", policy, n, t_count, runtime_s)
    return Schedule(policy, power, why, runtime_s)
