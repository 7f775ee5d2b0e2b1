"""Hypothesis strategies: small random charging problems."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from csms.charging import Problem
from csms.charging.synthetic import default_prices


@st.composite
def problems(draw, max_sessions: int = 6, max_periods: int = 12, circuits: bool = True,
             v2g: bool = True) -> Problem:
    n = draw(st.integers(1, max_sessions))
    t = draw(st.integers(1, max_periods))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    start = rng.integers(0, t, n)
    stop = np.minimum(t, start + rng.integers(0, t + 1, n))
    idx = np.arange(t)
    avail = (idx[None, :] >= start[:, None]) & (idx[None, :] < stop[:, None])
    max_kw = rng.choice([3.7, 7.4, 11.0, 22.0], n)
    energy = rng.uniform(0, 40, n).round(2)
    base = rng.uniform(0, 20, t).round(1)
    pv = rng.uniform(0, 15, t).round(1) * draw(st.sampled_from([0, 1]))
    cap = rng.uniform(5, 60, t).round(1)
    price, peak = default_prices(t, 3600.0 * 24 / max(t, 1))
    freq = np.where(rng.random(t) < 0.2, rng.uniform(49.75, 50.0, t), 50.0)
    kw = {}
    if circuits and draw(st.booleans()):
        kw = dict(constraint_matrix=(rng.random((2, n)) < 0.6).astype(float),
                  constraint_limits_kw=rng.uniform(3, 30, (2, 1)).round(1),
                  constraint_names=("circuit_a", "circuit_b"))
    discharge = np.where(rng.random(n) < 0.4, max_kw, 0.0) if v2g else np.zeros(n)
    return Problem(period_s=float(draw(st.sampled_from([900, 1800, 3600]))), available=avail,
                   energy_kwh=energy, max_kw=max_kw, capacity_kw=cap, base_load_kw=base,
                   pv_kw=pv, price_mad_per_kwh=price + rng.uniform(0, 0.2, t), peak_mask=peak,
                   frequency_hz=freq, discharge_max_kw=discharge, **kw)
