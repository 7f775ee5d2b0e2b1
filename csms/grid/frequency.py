"""Grid frequency as an external signal: a realistic stochastic 50 Hz series for simulation.

A site cannot move the frequency of the continental European synchronous area; it can only
respond (droop). The series is an Ornstein-Uhlenbeck process (mean 50 Hz, stationary standard
deviation 20 mHz, correlation time 5 min), sampled exactly at each step, plus the deterministic
dips/rises at the top of each hour caused by scheduled generation changes (amplitude drawn per
hour, ~15 mHz, decaying over 10 min). Values are clipped to 50 +- 0.2 Hz; excursions beyond
+- 0.1 Hz are rare, as on the real grid.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

NOMINAL_HZ = 50.0


def simulated_frequency_hz(periods: int, period_s: float, seed: int = 0, std_hz: float = 0.02,
                           correlation_s: float = 300.0, hourly_step_hz: float = 0.015
                           ) -> np.ndarray:
    """(T,) frequency in Hz at the start of each period; reproducible for a seed."""
    if periods < 0 or period_s <= 0:
        raise ValueError("periods must be >= 0 and period_s > 0")
    rng = np.random.default_rng(seed)
    phi = np.exp(-period_s / correlation_s)
    noise = rng.standard_normal(periods) * std_hz * np.sqrt(1.0 - phi**2)
    x0 = rng.standard_normal() * std_hz  # start in the stationary distribution
    ou, _ = lfilter([1.0], [1.0, -phi], noise, zi=[phi * x0])
    t_s = np.arange(periods) * period_s
    hour = (t_s // 3600).astype(int)
    amp = rng.standard_normal(int(hour.max()) + 1 if periods else 0) * hourly_step_hz
    since_hour_s = t_s - hour * 3600.0
    hourly = amp[hour] * np.exp(-since_hour_s / 600.0) if periods else np.zeros(0)
    return np.clip(NOMINAL_HZ + ou + hourly, NOMINAL_HZ - 0.2, NOMINAL_HZ + 0.2)
