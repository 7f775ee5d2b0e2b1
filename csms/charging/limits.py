"""From planned power to the limits a charger accepts.

AC rule (IEC 61851-1): a charging current is 0 or at least 6 A per phase. OCPP 1.6 rates carry
one decimal, so limits are rounded DOWN to 0.1 A (or 0.1 W): every rounded limit is at most the
planned power, so a schedule within the site cap stays within it. Discharge (V2G, negative) is
rounded towards zero and dropped below the minimum, which only reduces export and is reported.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

MIN_CURRENT_A = 6.0
STEP = 0.1
VOLTAGE_V = 230.0


def _round_down(x: np.ndarray) -> np.ndarray:
    # Round-off guard: 6.9999999 A must not become 6.9 A, 7.0 stays 7.0.
    return np.floor(np.asarray(x, float) / STEP + 1e-9) * STEP


@dataclass(frozen=True)
class ChargerLimits:
    """Per session (N,): ``current_a`` per phase, ``power_w``, and the power they allow (kW)."""

    current_a: np.ndarray
    power_w: np.ndarray
    applied_kw: np.ndarray


def to_charger_limits(power_kw: np.ndarray, phases: np.ndarray, voltage_v: float = VOLTAGE_V,
                      min_current_a: float = MIN_CURRENT_A) -> ChargerLimits:
    """Convert planned power (N,) in kW to limits a charger accepts.

    ``current_a`` = P / (V * phases) rounded down to 0.1 A, 0 if below ``min_current_a``;
    ``power_w`` = the same power rounded down to 0.1 W with the same 0-or-minimum rule
    (minimum = min_current_a * V * phases). Negative power (discharge) is rounded towards zero.
    ``applied_kw`` is what the current limit lets the EV draw: never more than planned.
    """
    p_w = np.asarray(power_kw, float) * 1000.0
    phases = np.maximum(np.asarray(phases, int), 1)
    sign = np.sign(p_w)
    amps = np.abs(p_w) / (voltage_v * phases)
    amps = _round_down(amps)
    amps = np.where(amps >= min_current_a, amps, 0.0)
    watts = _round_down(np.abs(p_w))
    watts = np.where(watts >= min_current_a * voltage_v * phases - 1e-9, watts, 0.0)
    current_a = sign * amps
    applied_kw = current_a * voltage_v * phases / 1000.0
    dropped = (np.abs(p_w) > 0) & (amps == 0)
    if np.any(dropped):
        log.debug("%d planned powers below %.1f A per phase set to 0", int(dropped.sum()),
                  min_current_a)
    return ChargerLimits(current_a=current_a + 0.0, power_w=sign * watts + 0.0,
                         applied_kw=applied_kw + 0.0)
