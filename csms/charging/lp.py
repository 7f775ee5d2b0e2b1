"""The schedule as a sparse linear programme, solved lexicographically with HiGHS.

Columns: one power variable x_k (kW) per available (session, period) pair k (only those: a
1,000 x 96 day has ~30k, not 96k), then optional auxiliary columns appended by the objectives
(site import g_t >= 0, peak z, piecewise-linear segments). Rows: session energy (or running
energy for V2G sessions), site import limit, the M x T extra constraints.

Stages: first maximise delivered energy (the max-flow value; cars before expected sessions),
then each objective in turn with every earlier optimum fixed (within a relative 1e-8), so no
objective can trade energy away.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from csms.charging.problem import Problem

log = logging.getLogger(__name__)

STAGE_REL_TOL = 1e-8    # an earlier optimum is kept within this relative slack
STAGE_ABS_TOL = 1e-7
# A kWh of an expected (forecast) session is worth this share of a real car's kWh: every real
# kWh comes first, then as much forecast energy as the real cars leave room for. In a flow
# network a cycle swaps one unit for another, so any share below 1 is lexicographic as long as
# it times the energy weight still exceeds every path cost (``energy_weight`` keeps 2x margin).
EXPECTED_ENERGY_SHARE = 0.5


class InfeasibleError(RuntimeError):
    """The LP has no solution (cannot happen for a valid Problem: x = 0 is feasible)."""


@dataclass
class ScheduleLP:
    """Sparse LP of one Problem. ``ii``/``tt`` (K,) give the session and period of column k."""

    problem: Problem
    allow_discharge: bool = False
    frequency_response: bool = False
    ii: np.ndarray = field(init=False)
    tt: np.ndarray = field(init=False)
    rows: list = field(init=False, default_factory=list)      # (sparse block, rhs) <=
    lo: list = field(init=False, default_factory=list)
    hi: list = field(init=False, default_factory=list)
    n_cols: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        p = self.problem
        self.ii, self.tt = np.nonzero(p.available)
        k = self.ii.size
        upper = p.upper_kw(self.frequency_response)[self.ii, self.tt]
        lower = p.lower_kw(self.allow_discharge)[self.ii, self.tt]
        self.lo, self.hi, self.n_cols = [lower], [upper], k
        self._energy_rows()
        self._site_rows()

    @property
    def k(self) -> int:
        return self.ii.size

    def add_columns(self, lower: np.ndarray, upper: np.ndarray) -> int:
        """Append auxiliary columns; returns the index of the first one."""
        first = self.n_cols
        self.lo.append(np.asarray(lower, float))
        self.hi.append(np.asarray(upper, float))
        self.n_cols += len(lower)
        return first

    def add_rows(self, block: sp.spmatrix, rhs: np.ndarray) -> None:
        """Rows ``block @ cols <= rhs``; ``block`` may have fewer columns than ``n_cols``."""
        self.rows.append((sp.csr_matrix(block), np.asarray(rhs, float)))

    def x_sum_rows(self) -> sp.csr_matrix:
        """(T, K) matrix summing the EV power of each period."""
        p = self.problem
        return sp.csr_matrix((np.ones(self.k), (self.tt, np.arange(self.k))),
                             shape=(p.n_periods, self.k))

    def energy_vector(self) -> np.ndarray:
        """Objective row (K,) giving delivered energy in kWh."""
        return np.full(self.k, self.problem.period_h)

    def expected_columns(self) -> np.ndarray:
        """(K,) bool: the column belongs to an expected (forecast) session."""
        return self.problem.expected[self.ii]

    def _energy_rows(self) -> None:
        p, k = self.problem, self.k
        v2g = self.allow_discharge & (p.discharge_max_kw > 0)
        plain = ~v2g[self.ii]
        # Charging-only sessions: total energy <= wanted.
        cols = np.nonzero(plain)[0]
        block = sp.csr_matrix((np.full(cols.size, p.period_h), (self.ii[cols], cols)),
                              shape=(p.n_sessions, k))
        self.add_rows(block, p.energy_kwh)
        if not v2g.any():
            return
        # V2G sessions: the running net energy stays within [-floor, wanted] after every period,
        # so a car never gives more than it received (plus its floor) nor overfills.
        r, c, row0, rhs_hi, rhs_lo = [], [], 0, [], []
        for i in np.nonzero(v2g)[0]:
            ks = np.nonzero(self.ii == i)[0]
            if ks.size == 0:
                continue
            tri_r, tri_c = np.tril_indices(ks.size)
            r.append(row0 + tri_r)
            c.append(ks[tri_c])
            rhs_hi.append(np.full(ks.size, p.energy_kwh[i]))
            rhs_lo.append(np.full(ks.size, p.energy_floor_kwh[i]))
            row0 += ks.size
        if row0:
            r, c = np.concatenate(r), np.concatenate(c)
            cum = sp.csr_matrix((np.full(r.size, p.period_h), (r, c)), shape=(row0, k))
            self.add_rows(cum, np.concatenate(rhs_hi))
            self.add_rows(-cum, np.concatenate(rhs_lo))

    def _site_rows(self) -> None:
        p = self.problem
        self.add_rows(self.x_sum_rows(), p.ev_capacity_kw)
        a = p.constraint_matrix
        if a.shape[0] == 0:
            return
        m_idx, n_idx = np.nonzero(a)
        # For each nonzero A[m, i], every column k of session i enters row (m, t_k).
        by_session = [np.nonzero(self.ii == i)[0] for i in range(p.n_sessions)]
        r, c, v = [], [], []
        for m, i in zip(m_idx, n_idx, strict=True):
            ks = by_session[i]
            r.append(m * p.n_periods + self.tt[ks])
            c.append(ks)
            v.append(np.full(ks.size, a[m, i]))
        if r:
            block = sp.csr_matrix((np.concatenate(v), (np.concatenate(r), np.concatenate(c))),
                                  shape=(a.shape[0] * p.n_periods, self.k))
            self.add_rows(block, p.constraint_limits_kw.reshape(-1))

    def _matrix(self) -> tuple[sp.csr_matrix, np.ndarray]:
        blocks = []
        for block, _ in self.rows:
            if block.shape[1] < self.n_cols:
                block = sp.hstack([block, sp.csr_matrix((block.shape[0],
                                                         self.n_cols - block.shape[1]))])
            blocks.append(block)
        return sp.vstack(blocks, format="csr"), np.concatenate([b for _, b in self.rows])

    @property
    def is_network(self) -> bool:
        """True if the LP is a flow network: no extra constraint rows and no V2G running rows."""
        p = self.problem
        has_v2g = self.allow_discharge and bool(np.any(p.discharge_max_kw > 0))
        return p.constraint_matrix.shape[0] == 0 and not has_v2g

    def energy_weight(self, c: np.ndarray) -> float:
        """A per-kWh reward for energy large enough that ``c - M * energy`` is lexicographic.

        In a flow network an augmenting path visits each period at most once through a power
        column and enters the sink once through an auxiliary column, so ``M`` above the sum of
        the per-period largest power cost plus the largest auxiliary cost (per kWh) makes every
        augmenting path profitable: the weighted optimum delivers the maximum energy.
        """
        p = self.problem
        cx = np.maximum(c[:self.k], 0.0) / p.period_h
        per_period = np.zeros(p.n_periods)
        np.maximum.at(per_period, self.tt, cx)
        aux = np.abs(c[self.k:]).max(initial=0.0) / p.period_h
        return 2.0 * (per_period.sum() + aux) + 1.0

    def _linprog(self, c: np.ndarray, n: int, presolve: bool = True):
        bounds = np.column_stack([np.concatenate(self.lo), np.concatenate(self.hi)])
        a_ub, b_ub = self._matrix()
        res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs",
                      options={"presolve": presolve})
        if res.status != 0:
            raise InfeasibleError(f"stage {n}: {res.message}")
        return res

    def _bound_now(self) -> bool:
        """Add the row ``Problem.now_first_import_kw`` sets on the first period's import (never
        below the EV minimums there, which keeps x feasible); False when it is unbounded."""
        p = self.problem
        if not np.isfinite(p.now_first_import_kw):
            return False
        first = self.tt == 0
        floor_kw = float(np.concatenate(self.lo)[:self.k][first].sum())
        room_kw = p.now_first_import_kw - p.base_load_kw[0] + p.pv_kw[0]
        self.add_rows(self.x_sum_rows()[[0]], np.array([max(room_kw, floor_kw)]))
        return True

    def _fix(self, c: np.ndarray, opt: float) -> None:
        tol = STAGE_ABS_TOL + STAGE_REL_TOL * abs(opt)
        self.add_rows(sp.csr_matrix(c[None, :]), np.array([opt + tol]))

    def _solve_stage(self, c: np.ndarray, n: int):
        """One stage, again without presolve if HiGHS fails on it; None when that fails too
        (the caller keeps the earlier stage's plan). HiGHS's presolve can fail on a stage whose
        earlier optima are fixed as near-parallel rows: on a phase-limited site with PV the
        renewable-integration cost stage came back "model status Unknown, primal infeasible"
        where the simplex without presolve solves it."""
        try:
            return self._linprog(c, n)
        except InfeasibleError as exc:
            try:
                res = self._linprog(c, n, presolve=False)
            except InfeasibleError:
                log.warning("%s, also without presolve: the earlier stage's plan stands", exc)
                return None
            log.info("%s: solved without presolve", exc)
            return res

    def solve(self, objectives: list[np.ndarray]) -> np.ndarray:
        """Minimise each objective (vectors over the first columns) in turn; returns all columns.

        Delivered energy always comes first: the cars' own, then that of expected (forecast)
        sessions (``Problem.expected``). Flow networks (see ``is_network``) fold both into
        every stage with the weight of ``energy_weight`` (``EXPECTED_ENERGY_SHARE`` of it for
        expected sessions): one solve per objective. Otherwise each is a stage of its own.
        After each stage its optimum is fixed as a row ``c @ x <= opt + tol`` before the next.
        """
        energy = np.zeros(self.n_cols)
        energy[:self.k] = self.energy_vector()
        expected = np.zeros(self.n_cols, bool)
        expected[:self.k] = self.expected_columns()
        full = []
        for c in objectives:
            v = np.zeros(self.n_cols)
            v[:c.size] = c
            full.append(v)
        if not full:
            full = [np.zeros(self.n_cols)]
            full[0][:self.k] = np.arange(self.k) * 1e-9     # breaks degeneracy: ~8x faster
        sol = None
        if not self.is_network:
            if self.problem.now_first:
                # The real cars' energy in the first period before the horizon's (see
                # ``Problem.now_first``). In a flow network it is implied: the first period
                # is filled either way (more energy, or the same energy earlier).
                now = np.where((self.tt == 0) & ~expected[:self.k], energy[:self.k], 0.0)
                e = np.zeros(self.n_cols)
                e[:self.k] = now
                bounded = self._bound_now()
                res = self._linprog(-e, 0)
                if bounded:
                    self.rows.pop()     # the bound holds for this stage only
                sol = res.x
                self._fix(-e, float(res.fun))
            # Real cars' energy first, then (its own stage) the forecast's.
            for part in ([~expected, expected] if expected.any() else [None]):
                e = energy if part is None else np.where(part, energy, 0.0)
                res = self._linprog(-e, 0)
                sol = res.x
                self._fix(-e, float(res.fun))
        weighted = np.where(expected, EXPECTED_ENERGY_SHARE * energy, energy)
        for n, c in enumerate(full):
            weight = self.energy_weight(c) if self.is_network else 0.0
            res = self._solve_stage(c - weight * weighted, n + 1)
            if res is None:
                if sol is None:
                    raise InfeasibleError(f"stage {n + 1}: no plan")
                return sol
            sol = res.x
            if n < len(full) - 1:
                self._fix(c, float(c @ sol))
        return sol

    def schedule(self, sol: np.ndarray) -> np.ndarray:
        """(N, T) power in kW from a solution vector."""
        p = self.problem
        out = np.zeros((p.n_sessions, p.n_periods))
        out[self.ii, self.tt] = sol[:self.k]
        return out
