"""Oracle optima equal an independent dense LP within 0.1 %."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csms.charging import schedule
from tests.charging.reference_lp import reference, reference_v2g_peak_band
from tests.charging.strategies import problems

CASES = [  # policy, reference objective, objective of a schedule
    ("price_optimization", "cost",
     lambda p, x: float(np.sum(p.price_mad_per_kwh * np.maximum(0, p.site_import_kw(x))) * p.period_h)),
    ("peak_shaving", "peak", lambda p, x: float(p.site_import_kw(x).max())),
    ("renewable_integration", "import",
     lambda p, x: float(np.maximum(0, p.site_import_kw(x)).sum() * p.period_h)),
    ("grid_support", "peak_band",
     lambda p, x: float(np.sum(np.maximum(0, p.site_import_kw(x)) * p.peak_mask) * p.period_h)),
]


@pytest.mark.parametrize(("policy", "objective", "measure"), CASES, ids=[c[0] for c in CASES])
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems(v2g=False))
def test_oracle_matches_reference_lp(problem, policy, objective, measure):
    result = schedule(problem, policy)
    _, best = reference(problem, objective, frequency_response=policy == "grid_support")
    got = measure(problem, result.power_kw)
    assert got >= best - 1e-5 * max(1.0, abs(best))  # staged LPs keep energy within 1e-6
    assert abs(got - best) <= 1e-3 * max(1.0, abs(best)), (got, best)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems(v2g=True), floor_seed=st.integers(0, 2**31 - 1))
def test_grid_support_reaches_the_least_peak_band_import_with_v2g(problem, floor_seed):
    # Some V2G cars come with energy in their battery above their V2X minimum.
    rng = np.random.default_rng(floor_seed)
    floors = np.where(rng.random(problem.n_sessions) < 0.5, rng.uniform(0, 30,
                                                                        problem.n_sessions), 0.0)
    p = replace(problem, energy_floor_kwh=floors.round(2))
    result = schedule(p, "grid_support")
    energy, best = reference_v2g_peak_band(p)
    got = float(np.sum(np.maximum(0, p.site_import_kw(result.power_kw)) * p.peak_mask)
                * p.period_h)
    assert result.power_kw.sum() * p.period_h == pytest.approx(energy, rel=1e-6, abs=1e-5)
    assert got >= best - 1e-5 * max(1.0, abs(best))
    assert abs(got - best) <= 1e-3 * max(1.0, abs(best)), (got, best)
