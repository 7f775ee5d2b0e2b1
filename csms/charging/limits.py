"""From planned power to the limits a charger accepts, vectorised over sessions.

The rules and the rounding live in ``csms.domain.electrical`` (the same functions build the
control loop's SetChargingProfile): AC (IEC 61851-1) a current is 0 or at least 6 A per phase;
OCPP 1.6 rates carry one decimal, so limits are rounded DOWN to 0.1 A (or 0.1 W): every rounded
limit is at most the planned power, so a schedule within the site cap stays within it. DC
(``phases`` 0) is limited in W. Discharge (V2G, negative) is rounded towards zero and dropped
below the minimum, which only reduces export and is reported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from csms.domain.electrical import MIN_AC_CURRENT_A, limit_power_w, signed_to_limit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChargerLimits:
    """Per session (N,): ``current_a`` per phase, ``power_w``, and the power they allow (kW)."""

    current_a: np.ndarray
    power_w: np.ndarray
    applied_kw: np.ndarray


def to_charger_limits(power_kw: np.ndarray, phases: np.ndarray) -> ChargerLimits:
    """Convert planned power (N,) in kW to the limits the loop sends (N,) per unit.

    ``current_a``: the limit in A per phase (``csms.domain.electrical.to_limit``: P / (230 V x
    phases) rounded down to 0.1 A, 0 below 6 A; DC, ``phases`` 0: the grid-side current at
    3 x 230 V); ``power_w``: the limit in W (rounded down to 0.1 W, the same 0-or-minimum rule
    for AC). Negative power (discharge) keeps its sign, rounded towards zero. ``applied_kw`` is
    what the limit in the loop's unit (A for AC, W for DC) lets the EV draw: never more than
    planned.
    """
    p_w = np.asarray(power_kw, float).reshape(-1) * 1000.0
    ph = np.asarray(phases, int).reshape(-1)
    rows = list(zip(p_w.tolist(), ph.tolist(), strict=True))
    current_a = np.array([signed_to_limit(p, "A", n) for p, n in rows], float)
    power_w = np.array([signed_to_limit(p, "W", n) for p, n in rows], float)
    applied_kw = np.array([limit_power_w(a, "A", n) if n > 0 else w
                           for (_, n), a, w in zip(rows, current_a, power_w, strict=True)],
                          float) / 1000.0
    dropped = (np.abs(p_w) > 0) & (power_w == 0)
    if np.any(dropped):
        log.debug("%d planned powers below %.1f A per phase set to 0", int(dropped.sum()),
                  MIN_AC_CURRENT_A)
    return ChargerLimits(current_a=current_a + 0.0, power_w=power_w + 0.0,
                         applied_kw=applied_kw + 0.0)
