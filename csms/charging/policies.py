"""The seven policies (oracle mode: every session known in advance).

``schedule(problem, policy)`` returns a ``Schedule``: power (N, T) in kW at the grid side and the
binding constraint per session and period. ``uncontrolled`` is the no-CSMS baseline (every EV at
its max from arrival until full, ignoring the site); every other policy is a lexicographic LP
whose first stage delivers the maximum feasible energy (see ``csms.charging.lp``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import numpy as np

from csms.charging.expected import FutureDemand, with_expected
from csms.charging.lp import ScheduleLP
from csms.charging.objectives import OBJECTIVES
from csms.charging.problem import Problem
from csms.charging.why import binding
from csms.domain.model import Policy

log = logging.getLogger(__name__)

POLICIES = tuple(Policy)
# Only grid support discharges (V2G) and follows the frequency droop.
V2G_POLICIES = frozenset({Policy.GRID_SUPPORT})
FREQUENCY_POLICIES = frozenset({Policy.GRID_SUPPORT})


@dataclass(frozen=True)
class Schedule:
    """A policy's answer: ``power_kw`` (N, T), ``why`` (N, T) reason strings, solve time."""

    policy: str
    power_kw: np.ndarray
    why: np.ndarray
    runtime_s: float

    def delivered_kwh(self, period_h: float) -> np.ndarray:
        """(N,) net energy delivered per session."""
        return self.power_kw.sum(axis=1) * period_h


def uncontrolled_power(problem: Problem) -> np.ndarray:
    """(N, T): each EV at max_kw in its available periods until its energy is delivered."""
    p = problem
    remaining = p.energy_kwh.copy()
    out = np.zeros(p.available.shape)
    for t in range(p.n_periods):
        draw = np.where(p.available[:, t], np.minimum(p.max_kw, remaining / p.period_h), 0.0)
        draw = np.maximum(draw, 0.0)
        out[:, t] = draw
        remaining -= draw * p.period_h
    return out


def time_blocks(available: np.ndarray) -> list[tuple[int, int]]:
    """Independent period ranges [a, b): no session window spans a boundary between blocks.

    Every objective but the peak is a sum over periods, so blocks (a month's days, cut by
    empty nights) can be solved one by one: many small LPs instead of one large one.
    """
    n, t = available.shape
    if t == 0:
        return []
    spans = (available[:, :-1] & available[:, 1:]).any(axis=0)     # (T-1,) boundary t|t+1
    cuts = np.nonzero(~spans)[0] + 1
    edges = [0, *cuts.tolist(), t]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)
            if available[:, a:b].any()]


def _solve_block(problem: Problem, policy: str) -> np.ndarray:
    lp = ScheduleLP(problem, allow_discharge=policy in V2G_POLICIES,
                    frequency_response=policy in FREQUENCY_POLICIES)
    objectives = OBJECTIVES[policy](lp)
    return lp.schedule(lp.solve(objectives))


def controlled_power(problem: Problem, policy: str, future: FutureDemand | None = None
                     ) -> np.ndarray:
    """(N, T) optimal power of a controlled policy (max energy first, then its objective).

    ``future``: the expected demand of cars still to come (``csms.charging.forecast``); the
    plan leaves room for it once the present cars have the most they can take (see
    ``csms.charging.expected``). None (default): only the sessions of ``problem`` count.
    """
    if policy not in OBJECTIVES:
        raise ValueError(f"unknown policy {policy!r}; choose from {', '.join(POLICIES)}")
    n_real = problem.n_sessions
    if n_real == 0 or not problem.available.any():
        return np.zeros(problem.available.shape)
    power = _planned_power(with_expected(problem, future), policy)[:n_real]
    # Solver round-off: clip into the exact bounds so invariants hold bit for bit.
    upper = problem.upper_kw(policy in FREQUENCY_POLICIES)
    lower = problem.lower_kw(policy in V2G_POLICIES)
    power = np.clip(power, lower, upper)
    power[np.abs(power) < 1e-9] = 0.0
    return power


def _planned_power(p: Problem, policy: str) -> np.ndarray:
    power = np.zeros(p.available.shape)
    blocks = time_blocks(p.available)
    members = [np.nonzero(p.available[:, a:b].any(axis=1))[0] for a, b in blocks]
    subs = [p.subset(m, slice(a, b)) for m, (a, b) in zip(members, blocks, strict=True)]
    plans = [_solve_block(sub, policy) for sub in subs]
    if policy == Policy.PEAK_SHAVING and len(blocks) > 1:
        # The peak is global: every block may use the largest block optimum at no cost.
        peaks = [float(sub.site_import_kw(x).max()) for sub, x in zip(subs, plans, strict=True)]
        floor = max(peaks)
        plans = [x if pk >= floor - 1e-9 else _solve_block(replace(
                     sub, peak_floor_kw=max(sub.peak_floor_kw, floor)), policy)
                 for sub, x, pk in zip(subs, plans, peaks, strict=True)]
    for m, (a, b), x in zip(members, blocks, plans, strict=True):
        power[np.ix_(m, np.arange(a, b))] = x
    return power


def max_energy_kwh(problem: Problem, policy: str = Policy.LOAD_BALANCING) -> float:
    """The max-flow value: most energy deliverable under the policy's limits."""
    if problem.n_sessions == 0 or not problem.available.any():
        return 0.0
    lp = ScheduleLP(problem, allow_discharge=policy in V2G_POLICIES,
                    frequency_response=policy in FREQUENCY_POLICIES)
    sol = lp.solve([])
    return float(lp.energy_vector() @ sol[:lp.k])


def schedule(problem: Problem, policy: str, future: FutureDemand | None = None) -> Schedule:
    """Run one policy in oracle mode (``future``: see ``controlled_power``)."""
    t0 = time.perf_counter()
    if policy == Policy.UNCONTROLLED:
        power = uncontrolled_power(problem)
    else:
        power = controlled_power(problem, policy, future)
    runtime_s = time.perf_counter() - t0
    why = binding(problem, power, policy, frequency_response=policy in FREQUENCY_POLICIES)
    log.debug("policy %s: %d sessions x %d periods in %.3f s", policy, problem.n_sessions,
              problem.n_periods, runtime_s)
    return Schedule(policy, power, why, runtime_s)
