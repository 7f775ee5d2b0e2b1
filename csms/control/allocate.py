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
