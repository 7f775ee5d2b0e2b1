"""What a car that does not say will want: its stay and energy, from the site's own history.

A 1.6 charger (or a 2.0.1 EV without ISO 15118) never tells the departure or the energy. The
site defaults (``policy_params``: 20 kWh, 8 h: an all-day workplace stay) are a prior; the
site's own finished sessions move the estimate toward what drivers here really do, the more
the more sessions there are (``PRIOR_SESSIONS``: the prior weighs as much as that many
sessions). Stays and energies are spread over orders of magnitude (a 15-min DC stop, a 9-h
office day), so the blend is geometric. The stay taken is a low quantile: a car planned to
leave too early is only charged sooner than needed; one planned to leave too late leaves
short of energy. The energy a past session got is only a lower bound of what its driver
wanted (a busy site gives less than asked), so history may raise the energy planned above
the prior, never lower it: a car planned for too much stops drawing when full, and the loop
learns that at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

PRIOR_SESSIONS = 5.0
STAY_QUANTILE = 0.25
ENERGY_QUANTILE = 0.75
MIN_STAY_S = 60.0  # shorter "sessions" are plug mistakes, not stays
MIN_ENERGY_WH = 10.0


@dataclass(frozen=True)
class StayForecast:
    energy_wh: float
    dwell_s: float
    sessions: int  # how many past sessions it rests on (0: the prior alone)


def forecast(energies_wh: Sequence[float], dwells_s: Sequence[float], prior_energy_wh: float,
             prior_dwell_s: float, prior_sessions: float = PRIOR_SESSIONS) -> StayForecast:
    """The stay and energy to plan for, from past sessions' (energy, stay) pairs."""
    pairs = [(e, d) for e, d in zip(energies_wh, dwells_s, strict=True)
             if e is not None and d is not None and e >= MIN_ENERGY_WH and d >= MIN_STAY_S]
    n = len(pairs)
    if n == 0:
        return StayForecast(prior_energy_wh, prior_dwell_s, 0)
    energy = np.array([e for e, _ in pairs], float)
    dwell = np.array([d for _, d in pairs], float)
    w = n / (n + prior_sessions)

    def blend(observed: float, prior: float) -> float:
        return math.exp(w * math.log(observed) + (1.0 - w) * math.log(max(prior, 1e-9)))

    energy_wh = max(prior_energy_wh,
                    blend(float(np.quantile(energy, ENERGY_QUANTILE)), prior_energy_wh))
    return StayForecast(energy_wh, blend(float(np.quantile(dwell, STAY_QUANTILE)),
                                         prior_dwell_s), n)
