"""Pure: planned powers -> powers a charger can apply (0 or at least its minimum).

The LP plans continuous powers; IEC 61851 AC charging is 0 or >= 6 A per phase. Rounding each
small share to 0 would waste the site's capacity (60 kW over 15 three-phase cars is 4 kW each,
below the 4.14 kW minimum: every car would stop). Instead the largest planned sessions are lifted
to their minimum first and the smallest dropped, and what dropping frees goes back to the kept
sessions up to their maximum. The total never exceeds ``min(budget, sum(plan))``: a policy that
holds power back (price, peak) keeps holding it back.
"""

from __future__ import annotations

import numpy as np

NOISE_W = 1.0  # planned powers below this are solver noise


def apply_minimums(plan_w: np.ndarray, min_w: np.ndarray, max_w: np.ndarray,
                   budget_w: float) -> np.ndarray:
    """(N,) powers: each 0 or in [min_w, max_w], sum <= min(budget_w, sum(plan)).

    ``plan_w``, ``min_w``, ``max_w`` are (N,) in W; sessions with ``min_w > max_w`` get 0.
    """
    plan = np.clip(np.nan_to_num(np.asarray(plan_w, float)), 0.0, None)
    lo = np.asarray(min_w, float)
    hi = np.asarray(max_w, float)
    plan = np.minimum(plan, hi)
    plan[plan < NOISE_W] = 0.0
    remaining = max(0.0, min(float(budget_w), float(plan.sum())))
    out = np.zeros_like(plan)
    order = np.argsort(-plan, kind="stable")  # largest plan first: most wanted now
    for i in order:
        if plan[i] <= 0 or lo[i] > hi[i]:
            continue
        give = max(plan[i], lo[i])
        if give > remaining:
            give = remaining if remaining >= lo[i] else 0.0
        out[i] = give
        remaining -= give
    for i in order:
        if remaining <= 1e-9:
            break
        if out[i] > 0:
            add = min(hi[i] - out[i], remaining)
            out[i] += add
            remaining -= add
    return out


def planned_w(plan_w: np.ndarray, max_w: np.ndarray) -> float:
    """What a plan (N,) asks for in all, as ``apply_minimums`` counts it (no noise, <= max)."""
    plan = np.minimum(np.clip(np.asarray(plan_w, float), 0.0, None), max_w)
    return float(plan[plan >= NOISE_W].sum())


def apply_minimums_rows(plan_w: np.ndarray, min_w: np.ndarray, max_w: np.ndarray,
                        rows: np.ndarray, caps_w: np.ndarray) -> np.ndarray:
    """``allocate.apply_minimums`` under several limits: (N,) powers, each 0 or in
    [min_w, max_w], with ``rows @ out <= caps_w`` (rows (M, N) >= 0, caps (M,) W).

    Same order: the largest planned sessions are lifted to their minimum first, the smallest
    dropped, and what is left goes back to the kept ones, each within every row it loads.
    With one row of ones and cap ``min(budget, sum(plan))`` it is ``apply_minimums``."""
    plan = np.clip(np.nan_to_num(np.asarray(plan_w, float)), 0.0, None)
    lo, hi = np.asarray(min_w, float), np.asarray(max_w, float)
    plan = np.minimum(plan, hi)
    plan[plan < NOISE_W] = 0.0
    remaining = np.maximum(np.asarray(caps_w, float), 0.0).copy()
    out = np.zeros_like(plan)

    def room(i: int) -> float:
        w = rows[:, i]
        on = w > 0
        return float(np.min(np.maximum(remaining[on], 0.0) / w[on])) if on.any() else np.inf

    order = np.argsort(-plan, kind="stable")  # largest plan first: most wanted now
    for i in order:
        if plan[i] <= 0 or lo[i] > hi[i]:
            continue
        give, r = max(plan[i], lo[i]), room(i)
        if give > r:
            give = r if r >= lo[i] else 0.0
        out[i] = give
        remaining -= rows[:, i] * give
    for i in order:
        if out[i] > 0:
            add = min(hi[i] - out[i], room(i))
            out[i] += add
            remaining -= rows[:, i] * add
    return out


def lift_to_floor(power_w: np.ndarray, floor_w: np.ndarray, max_w: np.ndarray,
                  needy: np.ndarray, order: np.ndarray, rows: np.ndarray, caps_w: np.ndarray
                  ) -> np.ndarray:
    """(N,) ``power_w`` with every ``needy`` session planned at 0 lifted to its ``floor_w``
    while each row it loads has room (``rows`` (M, N) >= 0 against ``caps_w`` (M,) W), in
    ``order`` (indices, most urgent first).

    A policy may hold power back for a cheaper or emptier hour, but a car that needs energy
    is never left at 0 while the site has room for its minimum: the driver may leave before
    that hour comes, and the stay the CSMS assumes for a car that does not say is a guess."""
    out = np.asarray(power_w, float).copy()
    remaining = np.asarray(caps_w, float) - rows @ np.maximum(out, 0.0)
    for i in order:
        if not needy[i] or out[i] != 0.0 or floor_w[i] > max_w[i] or floor_w[i] <= 0:
            continue
        load = rows[:, i] * floor_w[i]
        if np.all(load <= remaining + 1e-6):
            out[i] = floor_w[i]
            remaining -= load
    return out


def top_up(power_w: np.ndarray, max_w: np.ndarray, wanting: np.ndarray, order: np.ndarray,
           rows: np.ndarray, caps_w: np.ndarray) -> np.ndarray:
    """(N,) ``power_w`` with each ``wanting`` session already given power (at least its
    floor) raised toward its ``max_w`` with the room every row it loads has left, in
    ``order``: the capacity no car needs goes to cars that would still take it."""
    out = np.asarray(power_w, float).copy()
    remaining = np.asarray(caps_w, float) - rows @ np.maximum(out, 0.0)
    for i in order:
        if not wanting[i] or out[i] <= 0.0 or out[i] >= max_w[i]:
            continue
        loads = rows[:, i] > 0
        room = float(np.min(remaining[loads] / rows[loads, i])) if loads.any() else 0.0
        extra = max(0.0, min(max_w[i] - out[i], room))
        out[i] += extra
        remaining -= rows[:, i] * extra
    return out
