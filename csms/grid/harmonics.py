"""Harmonic estimate: charger current THD rising at low current, summed at the PCC.

Model (documented in docs/energy-model.md):
- An AC charger's rectifier/PFC draws harmonic currents of roughly constant *amplitude*, so its
  current THD scales as ``thd_rated * (I_rated / I)^k`` (k = 1 by default), capped.
- Harmonic currents of the chargers, the base load and PV inverters add per phase with the
  IEC 61000-3-6 summation law ``I_h = (sum I_h,i^alpha)^(1/alpha)`` (alpha = 1.4 for 5 <= h <= 10).
- The harmonic voltage is ``I_h * |R + j h X|`` at an effective order h (the source impedance is
  inductive, so it grows with h), combined with the upstream background THD by the same law.
"""

from __future__ import annotations

import numpy as np


def charger_current_thd_pct(current_a: np.ndarray, rated_current_a: float, thd_rated_pct: float,
                            exponent: float = 1.0, thd_max_pct: float = 60.0) -> np.ndarray:
    """Current THD (%) of one charger at ``current_a`` (any shape); 0 where it draws nothing."""
    i = np.asarray(current_a, dtype=float)
    with np.errstate(divide="ignore"):
        thd = thd_rated_pct * (rated_current_a / np.where(i > 0, i, np.inf)) ** exponent
    return np.where(i > 0, np.minimum(thd, thd_max_pct), 0.0)


def per_charger_current_a(ev_phase_current_a: np.ndarray, rated_current_a: float) -> np.ndarray:
    """Operating current of each charger when only phase totals are known (T, 3).

    Assumes the fewest chargers that can carry the phase current, all at the same current: the
    optimistic case (highest current per charger, lowest THD). Pass measured currents if known.
    """
    i = np.asarray(ev_phase_current_a, dtype=float)
    n = np.ceil(np.maximum(i, 0) / rated_current_a - 1e-9)
    return np.where(n > 0, i / np.maximum(n, 1), 0.0)


def combine(alpha: float, *amps: np.ndarray) -> np.ndarray:
    """IEC 61000-3-6 summation of harmonic magnitudes (same shapes)."""
    total = sum(np.abs(np.asarray(a, dtype=float)) ** alpha for a in amps)
    return total ** (1.0 / alpha)
