"""Oracle optima equal an independent dense LP within 0.1 %."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from csms.charging import schedule
from tests.charging.reference_lp import reference
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
