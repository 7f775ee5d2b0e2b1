"""Electrical constants and the power <-> limit conversion: the one home for both.

The control loop (``csms.ocpp.profiles`` builds SetChargingProfile from these), the planner,
the console's what-if and its installed-profile view, the fleet registry and the charger facts
all use this module, so a limit shown anywhere is the limit the loop sends.

Rules (IEC 61851-1, OCPP 1.6 3.13 / 2.0.1 K01):
- a nominal 230 V per phase (L-N);
- an AC charging current is 0 or at least 6 A per phase; IEC 62196 Type 2 carries at most
  63 A per phase;
- 1.6 limits carry at most one decimal: every limit is rounded DOWN to 0.1 (A or W), so a
  schedule within the site cap stays within it;
- DC chargers take W (``phases`` 0); a DC limit in A is the grid-side current at 3 x 230 V.

Pure and stdlib-only (``csms.domain``), so every layer may import it.
"""

from __future__ import annotations

import math

VOLTAGE_V = 230.0  # nominal voltage per phase (L-N)
MIN_AC_CURRENT_A = 6.0  # IEC 61851-1: an AC current is 0 or at least this, per phase
MAX_AC_CURRENT_A = 63.0  # IEC 62196 Type 2: the most an AC connection carries per phase
AC_MAX_W_PER_PHASE = MAX_AC_CURRENT_A * VOLTAGE_V  # 14.49 kW
AC_MAX_W = 3 * AC_MAX_W_PER_PHASE  # 43.47 kW: a larger rating or draw is DC
# The least a DC charger is asked to deliver to a car that needs energy: DC power stages
# regulate down to about a kilowatt (below, many stop the session).
MIN_DC_POWER_W = 1000.0
LIMIT_STEP = 0.1  # OCPP 1.6 rates carry one decimal
DC_EQUIVALENT_PHASES = 3  # a DC limit in A (or an A limit without numberPhases) is 3-phase


def floor1(x: float) -> float:
    """Round down to one decimal (round-off guard: 6.9999999 stays 7.0)."""
    return math.floor(x * 10.0 + 1e-6) / 10.0


def to_limit(power_w: float, unit: str, phases: int) -> float:
    """Power (W) -> the limit value in ``unit`` ("A" per phase or "W"), rounded down to 0.1;
    AC (``phases`` > 0): 0 or at least 6 A per phase; DC (``phases`` <= 0): W, or the grid-side
    current at 3 x 230 V. A negative power is a limit of 0 (see ``signed_to_limit``)."""
    power_w = max(0.0, power_w)
    if phases <= 0:
        return floor1(power_w) if unit == "W" else \
            floor1(power_w / (VOLTAGE_V * DC_EQUIVALENT_PHASES))
    amps = floor1(power_w / (VOLTAGE_V * phases))
    if amps < MIN_AC_CURRENT_A:
        return 0.0
    return amps if unit == "A" else floor1(power_w)


def signed_to_limit(power_w: float, unit: str, phases: int) -> float:
    """Like ``to_limit``, but a negative power (discharge) keeps its sign, rounded towards zero
    (never more discharge than planned)."""
    if power_w < 0:
        return -to_limit(-power_w, unit, phases)
    return to_limit(power_w, unit, phases)


def limit_power_w(value: float, unit: str, phases: int) -> float:
    """The power a limit allows (inverse of ``to_limit``); an A limit without phases (DC, or
    no ``numberPhases``) counts 3 phases."""
    if unit == "W":
        return value
    return value * VOLTAGE_V * (phases if phases > 0 else DC_EQUIVALENT_PHASES)


def min_ac_power_w(phases: int) -> float:
    """The least power an AC EVSE on ``phases`` phases charges with (6 A per phase)."""
    return MIN_AC_CURRENT_A * VOLTAGE_V * phases
