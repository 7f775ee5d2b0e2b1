"""Pure: which grid phases a charger or a session loads, and the per-phase site limits.

A charger's ``phase_wiring`` names, in order, the site phase each of its own phases L1, L2, L3
is connected to: ``"L1L2L3"`` straight, ``"L2L3L1"`` rotated (its L1 on the site's L2), ``"L2"``
a one-phase charger on the site's L2. An EV drawing on k phases uses the charger's first k, so a
one-phase EV loads the site phase the charger's L1 is wired to. Power is shared evenly by the
phases it flows on; DC chargers draw balanced three-phase power.

The per-phase limit is a balanced share of the connection, ``capacity_kw / 3``, unless the site
sets ``policy_params.phase_limit_kw``; the base load (and PV, both taken as balanced) is split
evenly over the three phases.
"""

from __future__ import annotations

import logging
import re

import numpy as np

log = logging.getLogger(__name__)

PHASES = ("L1", "L2", "L3")
PHASE_NAMES = tuple(f"phase_{p}" for p in PHASES)
BALANCED = np.full(3, 1.0 / 3.0)


def wiring_order(wiring: str | None) -> list[int]:
    """Site phase indices (0..2) of the charger's L1, L2, ... in order; default straight."""
    found = [int(m) - 1 for m in re.findall(r"L([123])", (wiring or "").upper())]
    order = list(dict.fromkeys(found))  # a phase named twice is still one phase
    return order or [0, 1, 2]


def phase_weights(wiring: str | None, phases: int | None = None, ac: bool = True
                  ) -> np.ndarray:
    """(3,) share of a load's power on the site's L1, L2, L3 (sums to 1).

    ``phases``: how many of the charger's phases carry it (None or 0: all wired ones); ``ac``
    False (DC): balanced whatever the wiring."""
    if not ac:
        return BALANCED.copy()
    order = wiring_order(wiring)
    used = order[:phases] if phases else order
    w = np.zeros(3)
    w[used] = 1.0 / len(used)
    return w


def phase_limit_kw(capacity_kw: float, policy_params: dict) -> float:
    """Most one phase may carry (kW): ``policy_params.phase_limit_kw``, else capacity / 3."""
    value = policy_params.get("phase_limit_kw")
    return float(value) if value is not None else float(capacity_kw) / 3.0


def phase_limits_kw(limit_kw: float, base_kw: np.ndarray, pv_kw: np.ndarray,
                    reserve_kw: np.ndarray) -> np.ndarray:
    """(3, T) what the steered EVs may put on each phase: the phase limit minus a third of the
    base load, plus a third of PV, minus the phase's reserve (3,); never below 0."""
    base = np.asarray(base_kw, float)[None, :]
    pv = np.asarray(pv_kw, float)[None, :]
    lim = limit_kw - base / 3.0 + pv / 3.0 - np.asarray(reserve_kw, float)[:, None]
    return np.maximum(lim, 0.0)


def redundant_rows(matrix: np.ndarray, limits_kw: np.ndarray, max_kw: np.ndarray,
                   ev_capacity_kw: np.ndarray | None, tol_kw: float = 1e-6) -> np.ndarray:
    """(M,) bool: rows ``matrix @ P <= limits`` (M x N, M x T) that can never bind.

    A row cannot bind when every session at its maximum (N,) stays within it, or, when no
    session may discharge (``ev_capacity_kw`` (T,) given), when its largest weight times the
    site's EV capacity does: then the site row implies it (balanced sites)."""
    bound = (matrix @ np.asarray(max_kw, float))[:, None]
    if ev_capacity_kw is not None and matrix.shape[1]:
        site = matrix.max(axis=1)[:, None] * np.asarray(ev_capacity_kw, float)[None, :]
        bound = np.minimum(bound, site)
    return np.all(bound <= limits_kw + tol_kw, axis=1)
